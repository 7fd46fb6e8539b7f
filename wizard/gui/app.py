"""Qt entry points: the application object, the wizard, the tray and the connections window.

``ensure_application`` is the one place that creates the QApplication: names for the desktop
(so notifications and the taskbar find ``connection-wizard.desktop``), the app icon, translations
for the system locale (Qt's own and ours from ``resources/translations``), and the translation hook
for the Qt-free flow modules. The style and palette are left to the platform: we follow the theme.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator
from PySide6.QtWidgets import QApplication

from wizard.gui.flow import i18n
from wizard.profiles.store import ProfileStore


def ensure_application(argv: Sequence[str] | None = None) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(list(argv if argv is not None else sys.argv))
    app.setApplicationName("Connection Wizard")
    app.setOrganizationName("connection-wizard")
    app.setDesktopFileName("connection-wizard")
    from wizard.gui.icons import app_icon, resources_dir

    app.setWindowIcon(app_icon())
    _install_translations(app, resources_dir() / "translations")
    i18n.install(lambda context, text: QCoreApplication.translate(context, text))
    return app


def _install_translations(app: QApplication, ours: Path) -> None:
    locale = QLocale.system()
    qt = QTranslator(app)
    if qt.load(locale, "qtbase", "_", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
    mine = QTranslator(app)
    if ours.is_dir() and mine.load(locale, "connection-wizard", "_", str(ours)):
        app.installTranslator(mine)


def run_new_connection_wizard(store: ProfileStore, socket_path: Path | None = None) -> int:
    """``connection-wizard gui`` today: the wizard; "Connect now" opens the connections window."""
    from wizard.gui.new_connection import NewConnectionWizard

    app = ensure_application()
    wizard = NewConnectionWizard(store)
    holder: list[object] = []

    def saved(profile_id: str, connect_now: bool) -> None:
        if connect_now:
            app.setQuitOnLastWindowClosed(True)
            holder.append(_open_window(store, socket_path, connect=profile_id, secrets=wizard.take_secrets()))

    wizard.profileSaved.connect(saved)
    wizard.show()
    return int(app.exec())


def run_connections_window(store: ProfileStore, socket_path: Path | None = None) -> int:
    """The connections window on its own (the wizard is reachable from it)."""
    app = ensure_application()
    holder = _open_window(store, socket_path)
    code = int(app.exec())
    del holder
    return code


def _open_window(
    store: ProfileStore, socket_path: Path | None, connect: str = "", secrets: dict[str, str] | None = None
) -> object:
    from wizard.gui.connections import ConnectionsWindow
    from wizard.gui.controller import AppController
    from wizard.gui.service import HelperService

    app = ensure_application()
    service = HelperService(socket_path)
    controller = AppController(store, service)
    window = ConnectionsWindow(controller)
    app.aboutToQuit.connect(service.stop)
    service.start()
    window.show()
    if connect:
        window.select(connect)
        controller.connect_profile(connect, secrets)
    return (service, controller, window)


def run_tray(store: ProfileStore | None = None, socket_path: Path | None = None) -> int:
    """``connection-wizard tray``."""
    from wizard.gui.tray import run_tray as run

    return run(store, socket_path)
