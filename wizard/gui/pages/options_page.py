"""Step 4: what goes through the tunnel, DNS, what happens when it drops, and the crypto policy.

Defaults are safe (full tunnel, modern algorithms only), so most users just press Next. The legacy
switch spells out what each weak algorithm risks before anyone turns it on.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QRadioButton,
    QSpinBox,
)

from wizard.gui.flow.new_connection import NewConnectionFlow, legacy_risks, mppe_choices
from wizard.gui.pages.base import FlowPage
from wizard.gui.widgets import note_label
from wizard.profiles.model import TunnelMode, default_mppe


class OptionsPage(FlowPage):
    step = "options"

    def __init__(self, flow: NewConnectionFlow) -> None:
        super().__init__(flow)
        self.setTitle(self.tr("Options"))
        self.setSubTitle(self.tr("The defaults suit most people; change them if your administrator says so."))
        layout = self.scrolling_body()
        layout.addWidget(self._traffic())
        layout.addWidget(self._dns())
        layout.addWidget(self._drops())
        self.security = self._security()
        layout.addWidget(self.security)
        layout.addStretch()

    # --- groups ----------------------------------------------------------------------------------

    def _traffic(self) -> QGroupBox:
        box = QGroupBox(self.tr("Traffic"))
        form = QFormLayout(box)
        self.tunnel_group = QButtonGroup(self)
        full = QRadioButton(self.tr("Send &all traffic through the VPN (safest on public Wi-Fi)"))
        split = QRadioButton(self.tr("Send &only the networks below through the VPN (split tunnel)"))
        for index, (button, mode) in enumerate(((full, TunnelMode.FULL), (split, TunnelMode.SPLIT))):
            button.setObjectName(f"tunnel_{mode.value}")
            button.setChecked(self.flow.answers["tunnel"] == mode.value)
            self.tunnel_group.addButton(button, index)
            form.addRow(button)
        self.tunnel_group.idToggled.connect(self._tunnel_toggled)
        self.routes = self.add_line(form, "routes", self.tr("&Networks:"), self.tr("e.g. 10.0.0.0/8, 192.168.50.0/24"))
        self.pushed_routes = QCheckBox(self.tr("Also use networks the &gateway announces"))
        self.pushed_routes.setObjectName("use_pushed_routes")
        self.bind_check(self.pushed_routes, "use_pushed_routes")
        form.addRow("", self.pushed_routes)
        return box

    def _dns(self) -> QGroupBox:
        box = QGroupBox(self.tr("Name lookups (DNS)"))
        form = QFormLayout(box)
        self.pushed_dns = QCheckBox(self.tr("Use the DNS servers the gateway &sends"))
        self.pushed_dns.setObjectName("use_pushed_dns")
        self.bind_check(self.pushed_dns, "use_pushed_dns")
        form.addRow(self.pushed_dns)
        self.add_line(form, "dns_servers", self.tr("&DNS servers:"), self.tr("optional, e.g. 10.0.0.53"))
        self.add_line(form, "split_domains", self.tr("Only for &domains:"), self.tr("optional, e.g. corp.example.com"))
        return box

    def _drops(self) -> QGroupBox:
        box = QGroupBox(self.tr("When the connection drops"))
        form = QFormLayout(box)
        self.reconnect = QCheckBox(self.tr("&Reconnect automatically"))
        self.reconnect.setObjectName("reconnect")
        self.attempts = QSpinBox()
        self.attempts.setObjectName("reconnect_attempts")
        self.attempts.setRange(0, 1000)
        self.attempts.setMaximumWidth(self.attempts.fontMetrics().horizontalAdvance("never give up") * 2)
        self.attempts.setSpecialValueText(self.tr("never give up"))
        self.attempts.setValue(int(self.flow.answers["reconnect_attempts"]))
        self.attempts.valueChanged.connect(self._attempts_changed)
        self.bind_check(self.reconnect, "reconnect", lambda: self.attempts.setEnabled(self.reconnect.isChecked()))
        form.addRow(self.reconnect)
        self.add_row(form, "reconnect_attempts", self.tr("&Give up after (attempts):"), self.attempts)
        self.field_names.pop("reconnect_attempts")
        self.kill_switch = QCheckBox(self.tr("&Block all traffic outside the VPN (kill switch)"))
        self.kill_switch.setObjectName("kill_switch")
        self.allow_lan = QCheckBox(self.tr("…but still allow the &local network (printers, file servers)"))
        self.allow_lan.setObjectName("allow_lan")
        self.bind_check(self.allow_lan, "allow_lan")
        self.bind_check(self.kill_switch, "kill_switch", lambda: self.allow_lan.setEnabled(self.kill_switch.isChecked()))
        form.addRow(self.kill_switch)
        form.addRow(
            note_label(
                self.tr(
                    "With the kill switch on, nothing leaves this computer outside the VPN while the connection "
                    "is up or reconnecting, and after a failure until you disconnect."
                ),
                indent=20,
            )
        )
        form.addRow(self.allow_lan)
        return box

    def _security(self) -> QGroupBox:
        box = QGroupBox(self.tr("Security"))
        box.setObjectName("security")
        form = QFormLayout(box)
        self.security_form = form
        self.mppe = QComboBox()
        self.mppe.setObjectName("mppe")
        for policy, text in mppe_choices():
            self.mppe.addItem(text, policy.value)
        self.mppe.currentIndexChanged.connect(lambda i: self.flow.set("mppe", self.mppe.itemData(i)))
        self.add_row(form, "mppe", self.tr("&Encryption:"), self.mppe)
        self.field_names.pop("mppe")
        self.mppe_note = note_label(
            self.tr("MPPE uses RC4, which is weak: treat PPTP and L2TP without IPsec as not private."), warning=True
        )
        form.addRow("", self.mppe_note)
        self.ike = self.add_line(form, "ike_proposals", self.tr("&IKE proposals:"))
        self.esp = self.add_line(form, "esp_proposals", self.tr("ES&P proposals:"))
        self.legacy = QCheckBox(self.tr("Allow &legacy algorithms (DES, 3DES, MD5, small Diffie-Hellman groups)"))
        self.legacy.setObjectName("allow_legacy")
        self.legacy_note = note_label(legacy_risks(), warning=True, indent=20)
        self.legacy_note.setObjectName("legacyRisks")
        self.legacy.setAccessibleDescription(legacy_risks())
        self.bind_check(self.legacy, "allow_legacy", self._legacy_toggled)
        form.addRow(self.legacy)
        form.addRow(self.legacy_note)
        return box

    # --- behaviour -------------------------------------------------------------------------------

    def _attempts_changed(self, value: int) -> None:
        self.flow.set("reconnect_attempts", value)
        self.touch("reconnect_attempts")

    def _tunnel_toggled(self, index: int, checked: bool) -> None:
        if checked:
            self.flow.set("tunnel", (TunnelMode.FULL, TunnelMode.SPLIT)[index].value)
            self.routes.setEnabled(index == 1)
            if index == 1 and self.routes.text():
                self.touched.add("routes")
            self.refresh()

    def _legacy_toggled(self) -> None:
        self.legacy_note.setVisible(True)
        bold = "font-weight: bold;" if self.legacy.isChecked() else ""
        self.legacy_note.setStyleSheet(self.legacy_note.styleSheet().split("font-weight")[0] + bold)
        for key in ("ike_proposals", "esp_proposals"):
            if self.flow.answers[key]:
                self.touched.add(key)

    def initializePage(self) -> None:
        flow = self.flow
        ipsec = flow.protocol.uses_ipsec
        ppp = flow.protocol.uses_ppp and not ipsec  # over IPsec, MPPE would only add weak RC4
        mppe = flow.answers["mppe"] or default_mppe(flow.protocol).value
        self.mppe.setCurrentIndex(max(0, self.mppe.findData(mppe)))
        for widget in (self.mppe.parentWidget(), self.mppe_note):
            if widget is not None:
                self.security_form.setRowVisible(widget, ppp)
        for edit in (self.ike, self.esp):
            parent = edit.parentWidget()
            if parent is not None:
                self.security_form.setRowVisible(parent, ipsec)
        self.security_form.setRowVisible(self.legacy, ipsec)
        self.security_form.setRowVisible(self.legacy_note, ipsec)
        self.routes.setEnabled(flow.answers["tunnel"] == TunnelMode.SPLIT.value)
        self.attempts.setEnabled(bool(flow.answers["reconnect"]))
        self.allow_lan.setEnabled(bool(flow.answers["kill_switch"]))
        self.refresh()
