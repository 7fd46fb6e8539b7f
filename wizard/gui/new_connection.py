"""The New Connection (and Edit Connection) wizard: Qt pages over the flow.

The pages only show fields and errors; every rule lives in
:class:`~wizard.gui.flow.new_connection.NewConnectionFlow`. Finish stores the profile and saves the
secrets its policy allows; ``profileSaved(id, connect_now)`` tells the tray or window what to do
next. A profile file dropped on the first page (or chosen with Import) is previewed and imported
instead.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QWidget, QWizard

from wizard.gui.flow.importing import preview_import
from wizard.gui.flow.new_connection import STEPS, NewConnectionFlow
from wizard.gui.icons import app_icon
from wizard.gui.importing import ImportDialog, ask_for_profile_file, open_import_dialog
from wizard.gui.pages.gateway_page import GatewayPage
from wizard.gui.pages.options_page import OptionsPage
from wizard.gui.pages.signin_page import SignInPage
from wizard.gui.pages.summary_page import SummaryPage
from wizard.gui.pages.type_page import TypePage
from wizard.gui.qtcompat import emit
from wizard.profiles.errors import ProfileError, SecretsUnavailable
from wizard.profiles.model import Profile
from wizard.profiles.secrets import SecretStore
from wizard.profiles.store import ProfileStore

__all__ = ["GatewayPage", "NewConnectionWizard", "OptionsPage", "SignInPage", "SummaryPage", "TypePage"]


class NewConnectionWizard(QWizard):
    """The New Connection window; on Finish the profile is stored and its secrets saved."""

    profileSaved = Signal(str, bool)  # profile id, connect now

    def __init__(
        self,
        store: ProfileStore,
        secrets: SecretStore | None = None,
        editing: Profile | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.secret_store = secrets or SecretStore()
        available = self.secret_store.available
        if editing is not None:
            saved = [k for k in editing.saved_secrets if self.secret_store.get(editing, k)]
            self.flow = NewConnectionFlow.from_profile(editing, saved, keyring_available=available)
        else:
            self.flow = NewConnectionFlow(keyring_available=available)
        self.flow.taken_names = {p.name for p in store.load_all()[0] if editing is None or p.id != editing.id}
        self.saved_profile_id: str | None = None
        self._for_connect: dict[str, str] = {}
        self.import_dialog: ImportDialog | None = None
        self.setObjectName("newConnectionWizard")
        self.setWindowTitle(self.tr("Edit Connection") if editing else self.tr("New Connection"))
        self.setWindowIcon(app_icon())
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage)
        self.setButtonText(QWizard.WizardButton.FinishButton, self.tr("&Save") if editing else self.tr("&Create"))
        self.type_page = TypePage(self.flow, self.import_file)
        self.summary_page = SummaryPage(self.flow)
        pages = (
            self.type_page,
            GatewayPage(self.flow),
            SignInPage(self.flow, self.secret_store),
            OptionsPage(self.flow),
            self.summary_page,
        )
        for page in pages:
            self.setPage(STEPS.index(page.step), page)
        self.resize(660, 560)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)

    # --- import ----------------------------------------------------------------------------------

    def import_file(self, path: Path | None) -> None:
        """Preview ``path`` (or ask for a file) and, if the user agrees, import it and close."""
        if path is None:
            path = ask_for_profile_file(self)
            if path is None:
                return
        preview = preview_import(path, self.flow.taken_names)
        self.import_dialog = open_import_dialog(preview, self.store, self)
        self.import_dialog.imported.connect(self._imported)

    def _imported(self, profile_id: str) -> None:
        self.saved_profile_id = profile_id
        emit(self.profileSaved, profile_id, False)
        self.done(QWizard.DialogCode.Accepted)

    # --- finish ----------------------------------------------------------------------------------

    def accept(self) -> None:
        editing = self.flow.editing
        try:
            profile = self.flow.profile()
            self.store.save(profile, replace=editing is not None)
        except ProfileError as exc:
            self.summary_page.show_problem(str(exc))
            return
        self.flow.editing = profile  # a second Finish (after a keyring problem) updates, not duplicates
        problem = self._save_secrets(profile, editing)
        self.saved_profile_id = profile.id
        if problem and not self.summary_page.notice.text():
            self.summary_page.show_notice(problem)  # said once; Finish again closes
            return
        connect_now = bool(self.flow.answers["connect_now"])
        if connect_now:  # what was typed serves the first connect, even if the policy does not save it
            self._for_connect = {k.value: v for k, v in self.flow.secrets.items() if v and k in profile.auth.secrets}
        self.flow.secrets.clear()
        emit(self.profileSaved, profile.id, connect_now)
        self._for_connect.clear()  # nobody took them: forget them
        super().accept()

    def take_secrets(self) -> dict[str, str]:
        """The secrets typed for "connect now" (only during ``profileSaved``); the wizard forgets them."""
        taken, self._for_connect = self._for_connect, {}
        return taken

    def _save_secrets(self, profile: Profile, before: Profile | None) -> str:
        """Keyring writes (and removals the new policy asks for); a problem is returned as text."""
        store = self.secret_store
        if before is not None:
            dropped = set(before.saved_secrets) - set(profile.saved_secrets)
            if dropped:
                store.delete_all(profile, dropped)
        try:
            for kind, value in self.flow.secrets_to_save(profile).items():
                store.set(profile, kind, value)
        except SecretsUnavailable as exc:
            return self.tr("The connection was saved, but {why}. You will be asked when you connect.").format(why=exc)
        return ""
