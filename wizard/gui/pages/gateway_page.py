"""Step 2: the connection's name and its gateway (typed, or picked from an imported phonebook)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QThread, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wizard.gui.flow.new_connection import NewConnectionFlow
from wizard.gui.flow.phonebook import gateway_title, load_phonebook
from wizard.gui.importing import FILE_FILTER
from wizard.gui.pages.base import FlowPage
from wizard.gui.qtcompat import emit
from wizard.profiles.errors import ValidationError


class _ProbeThread(QThread):
    """Runs the probe off the UI thread (it takes a few seconds against a slow gateway)."""

    finished_with = Signal(object)

    def __init__(self, host: str) -> None:
        super().__init__()
        self.host = host

    def run(self) -> None:
        from wizard.probe import ProbeError, probe_blocking

        try:
            result: object = probe_blocking(self.host)
        except ProbeError as exc:
            result = str(exc)
        except OSError as exc:
            result = f"the probe could not run: {exc.strerror or exc}"
        emit(self.finished_with, result)


class GatewayPage(FlowPage):
    step = "gateway"

    def __init__(self, flow: NewConnectionFlow) -> None:
        super().__init__(flow)
        self.setTitle(self.tr("Where do you connect to?"))
        self.setSubTitle(self.tr("The gateway is the server at your office, e.g. vpn.example.com."))
        layout = QVBoxLayout(self)
        self.form = form = QFormLayout()
        layout.addLayout(form)
        self.name = self.add_line(form, "name", self.tr("Connection &name:"), self.tr("e.g. Office"))
        self.host = self.add_line(form, "host", self.tr("&Gateway:"), self.tr("host name or IP address"))

        picker = QWidget()
        row = QHBoxLayout(picker)
        row.setContentsMargins(0, 0, 0, 0)
        self.phonebook = QComboBox()
        self.phonebook.setObjectName("phonebook")
        self.phonebook.setAccessibleName(self.tr("Gateways from the phonebook"))
        self.phonebook.activated.connect(self._picked)
        self.load_button = QPushButton(self.tr("Import p&honebook…"))
        self.load_button.setObjectName("loadPhonebook")
        self.load_button.clicked.connect(self._choose_phonebook)
        row.addWidget(self.phonebook, 1)
        row.addWidget(self.load_button)
        self.add_row(form, "phonebook", self.tr("Or &pick:"), picker, focus=self.phonebook)
        self.field_names.pop("phonebook")
        self.phonebook_error = self.error_labels.pop("phonebook")
        self.phonebook_error.setObjectName("phonebookError")

        self.fallback = QCheckBox(self.tr("If this gateway does not answer, &try the others in the phonebook"))
        self.fallback.setObjectName("use_phonebook")
        self.bind_check(self.fallback, "use_phonebook")
        form.addRow("", self.fallback)

        self.check = QPushButton(self.tr("&Check this gateway"))
        self.check.setObjectName("checkGateway")
        why = self.tr(
            "Asks the gateway, without signing in, which VPN protocols and algorithms it offers, "
            "and fills in the type and the security settings to match."
        )
        self.check.setToolTip(why)
        self.check.setAccessibleDescription(why)
        self.check.clicked.connect(self._check_gateway)
        self.check_result = QLabel()
        self.check_result.setObjectName("checkGatewayResult")
        self.check_result.setWordWrap(True)
        self._probe: _ProbeThread | None = None
        check_row = QHBoxLayout()
        check_row.addWidget(self.check)
        check_row.addWidget(self.check_result, 1)
        form.addRow("", check_row)
        self.finish_layout(layout)
        self._fill_phonebook()

    def initializePage(self) -> None:
        self.refresh()

    def _check_gateway(self) -> None:
        host = self.flow.answers["host"].strip()
        if not host or "host" in self.flow.errors("gateway"):
            self.check_result.setText(self.tr("Enter a valid gateway address first."))
            return
        self.check.setEnabled(False)
        self.check_result.setText(self.tr("Checking {host}…").format(host=host))
        self._probe = _ProbeThread(host)
        self._probe.finished_with.connect(self._probe_done)
        self._probe.start()

    def _probe_done(self, result: object) -> None:
        self.check.setEnabled(True)
        if self._probe is not None:
            self._probe.wait()
            self._probe = None
        if isinstance(result, str):
            self.check_result.setText(result)
            return
        self.check_result.setText(self.flow.apply_probe(result))  # type: ignore[arg-type]

    def _fill_phonebook(self) -> None:
        self.phonebook.clear()
        for gateway in self.flow.phonebook:
            self.phonebook.addItem(gateway_title(gateway))
        has = bool(self.flow.phonebook)
        self.phonebook.setEnabled(has)
        if not has:
            self.phonebook.addItem(self.tr("(no phonebook imported)"))
        else:
            hosts = [g.host for g in self.flow.phonebook]
            if self.flow.answers["host"] in hosts:
                self.phonebook.setCurrentIndex(hosts.index(self.flow.answers["host"]))
        self.form.setRowVisible(self.fallback, has)

    def _picked(self, index: int) -> None:
        if not self.flow.phonebook or index < 0:
            return
        self.flow.pick_gateway(index)
        self.host.setText(self.flow.answers["host"])
        if self.name.text() != self.flow.answers["name"]:
            self.name.setText(self.flow.answers["name"])
        self.touch("host")

    def _choose_phonebook(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, self.tr("Import a phonebook"), "", FILE_FILTER)
        if name:
            self.load_phonebook_file(Path(name))

    def load_phonebook_file(self, path: Path) -> bool:
        """Read a phonebook and offer its gateways; a bad file is explained under the picker."""
        try:
            gateways = load_phonebook(path)
        except ValidationError as exc:
            self.phonebook_error.setText(self.tr("Could not use {name}: {why}").format(name=path.name, why=exc))
            self.phonebook_error.setVisible(True)
            return False
        self.phonebook_error.setVisible(False)
        self.flow.phonebook = gateways
        self._fill_phonebook()
        if not self.flow.answers["host"]:
            self._picked(0)
        return True
