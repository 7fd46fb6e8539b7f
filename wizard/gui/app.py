"""Qt entry points: the New Connection wizard window."""

from __future__ import annotations

import sys

from wizard.profiles.store import ProfileStore


def run_new_connection_wizard(store: ProfileStore) -> int:
    """Open the wizard as the application's only window; returns the process exit code."""
    from PySide6.QtWidgets import QApplication

    from wizard.gui.new_connection import NewConnectionWizard

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    app.setApplicationName("Connection Wizard")
    app.setDesktopFileName("connection-wizard")
    wizard = NewConnectionWizard(store)
    wizard.show()
    return int(app.exec())
