"""Step 5: everything in plain words, weaknesses called out, and "connect now"."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QCheckBox, QPlainTextEdit, QVBoxLayout

from wizard.gui.flow.new_connection import NewConnectionFlow, secret_label
from wizard.gui.pages.base import FlowPage
from wizard.gui.qtcompat import emit
from wizard.gui.theme import error_label
from wizard.profiles.errors import ProfileError
from wizard.profiles.model import CredentialPolicy, Profile
from wizard.summary import describe_profile


class SummaryPage(FlowPage):
    step = "summary"

    def __init__(self, flow: NewConnectionFlow) -> None:
        super().__init__(flow)
        self.setTitle(self.tr("Ready to save") if flow.editing else self.tr("Ready to create"))
        self.setSubTitle(self.tr("Check the details. You can change everything later."))
        layout = QVBoxLayout(self)
        self.text = QPlainTextEdit()
        self.text.setObjectName("summary")
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setAccessibleName(self.tr("Summary of the connection"))
        self.problem = error_label()
        self.problem.setObjectName("fieldError")
        self.notice = error_label()
        self.notice.setObjectName("keyringProblem")
        self.connect_now = QCheckBox(self.tr("&Connect now"))
        self.connect_now.setObjectName("connect_now")
        self.bind_check(self.connect_now, "connect_now")
        layout.addWidget(self.text)
        layout.addWidget(self.problem)
        layout.addWidget(self.notice)
        layout.addWidget(self.connect_now)

    def initializePage(self) -> None:
        try:
            profile = self.flow.profile()
        except ProfileError as exc:
            self.text.setPlainText("")
            self.show_problem(str(exc))
            return
        self.text.setPlainText(describe_profile(profile) + "\n" + self._secrets_line(profile))
        self.show_problem("")

    def _secrets_line(self, profile: Profile) -> str:
        names = ", ".join(secret_label(k) for k in profile.auth.secrets)
        if not names:
            return self.tr("  Secrets:     none")
        if profile.credential_policy is CredentialPolicy.SAVE:
            return self.tr("  Secrets:     {names}: saved in the system keyring").format(names=names)
        return self.tr("  Secrets:     {names}: asked each time you connect (not saved)").format(names=names)

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))
        emit(self.completeChanged)

    def show_notice(self, text: str) -> None:
        """A problem that does not block Finish (e.g. the keyring refused a secret)."""
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def isComplete(self) -> bool:
        return not self.problem.text()
