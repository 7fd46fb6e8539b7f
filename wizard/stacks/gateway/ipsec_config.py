"""The gateway configuration's ``ipsec`` section: pre-shared key, proposals and the IPsec services.

Example::

    "ipsec": {
      "psk": "shared secret",
      "services": ["l2tp_ipsec", "ikev1_xauth"],
      "ike_proposals": ["aes256-sha256-modp2048", "3des-sha1-modp1024"],
      "esp_proposals": ["aes256-sha256", "3des-sha1"],
      "allow_legacy": true,
      "dpd_interval": 30,
      "force_encapsulation": false
    }

``l2tp_ipsec``: IKEv1 (pre-shared key) with an ESP transport SA protecting UDP 1701; the L2TP
datagrams inside go to the gateway's LNS, with the ``l2tp`` section's PPP policy. ``ikev1_xauth``:
IKEv1 with XAUTH against ``users``, a Mode Config address from ``client_pool`` (plus
``dns_servers``) and an ESP tunnel SA into a TUN device whose local address is ``server_address``.
``ipsec_transport`` (opt-in: it changes the gateway host's routing while a client is connected):
host-to-host transport mode, every IP packet between the client and the gateway's own address in
one ESP SA. Phase 1 cannot tell it from L2TP/IPsec; the client's Quick Mode IDs do (UDP 1701 or
all protocols).
``ikev2`` (opt-in): IKEv2 remote access on the same ports, the client signing in with the
pre-shared key, a certificate or EAP-MSCHAPv2 against ``users`` (see :mod:`.ikev2_config` for
``ikev2_auth``, ``certificate_file``, ``private_key_file``, ``ca_file``, ``local_id`` and
``require_cookie``), an address from ``client_pool`` with ``dns_servers`` in the configuration
payload, and an ESP tunnel SA into a TUN device as for ``ikev1_xauth``. The proposal lists serve
both versions; each takes what it can use (IKEv1 has no AEAD in phase 1). ``psk`` may be left out
when only ``ikev2`` is served and it accepts certificates or EAP alone.
Legacy algorithms (3DES, DES, MD5, MODP groups under 2048 bits) are refused unless ``allow_legacy``.
The key never appears in an error message or a repr.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizard.engine.crypto.suites import parse_proposal_string
from wizard.engine.ike.v1.config import DEFAULT_ESP_PROPOSALS, DEFAULT_IKE_PROPOSALS
from wizard.engine.ike.v1.proposals import esp_suites, phase1_suites
from wizard.stacks.gateway.ikev2_config import (
    IKEV2_KEYS,
    Ikev2ConfigError,
    Ikev2Settings,
    ikev2_settings_from_dict,
    unused_keys,
)

SERVICES = ("l2tp_ipsec", "ikev1_xauth", "ipsec_transport", "ikev2")
IKEV1_SERVICES = ("l2tp_ipsec", "ikev1_xauth", "ipsec_transport")
DEFAULT_SERVICES = ("l2tp_ipsec", "ikev1_xauth")
IPSEC_KEYS = {
    "psk",
    "services",
    "ike_proposals",
    "esp_proposals",
    "allow_legacy",
    "dpd_interval",
    "force_encapsulation",
} | IKEV2_KEYS


class IpsecConfigError(ValueError):
    """A mistake in the ``ipsec`` section; ``field`` is the dotted path below it (``"psk"``)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class IpsecPolicy:
    """What the gateway's IKE responders accept and which services they run.

    ``psk`` is empty only when no service needs one (``ikev2`` alone, with certificates or EAP).
    """

    psk: str = field(repr=False)
    services: tuple[str, ...]
    ike_proposals: tuple[str, ...] = DEFAULT_IKE_PROPOSALS
    esp_proposals: tuple[str, ...] = DEFAULT_ESP_PROPOSALS
    allow_legacy: bool = False
    dpd_interval: float | None = 30.0
    force_encapsulation: bool = False
    ikev2: Ikev2Settings | None = None  # set when ``ikev2`` is among the services

    @property
    def ikev1_services(self) -> tuple[str, ...]:
        return tuple(s for s in self.services if s in IKEV1_SERVICES)


def ipsec_policy_from_dict(obj: dict[str, Any], base: Path | None = None) -> IpsecPolicy:
    """Validate the section (already known to be a JSON object); raises :class:`IpsecConfigError`.

    ``base``: the directory relative certificate and key file names are read from.
    """
    for key in obj:
        if key not in IPSEC_KEYS:
            raise IpsecConfigError(key, f"unknown field; known fields here: {', '.join(sorted(IPSEC_KEYS))}")
    services = _names(obj.get("services", list(DEFAULT_SERVICES)), "services")
    if not services:
        raise IpsecConfigError("services", f"must name at least one of {', '.join(SERVICES)}")
    for i, service in enumerate(services):
        if service not in SERVICES:
            raise IpsecConfigError(f"services[{i}]", f"{service!r} is not served; choose from {', '.join(SERVICES)}")
    ikev1 = any(s in IKEV1_SERVICES for s in services)
    ikev2_auth = obj.get("ikev2_auth")
    if "psk" not in obj and (ikev1 or (isinstance(ikev2_auth, list) and "psk" in ikev2_auth)):
        raise IpsecConfigError("psk", "is required (the pre-shared key clients enter)")
    psk = obj.get("psk", "")
    if "psk" in obj and (not isinstance(psk, str) or not psk):
        raise IpsecConfigError("psk", "must be a non-empty string")
    allow_legacy = obj.get("allow_legacy", False)
    if type(allow_legacy) is not bool:
        raise IpsecConfigError("allow_legacy", "must be true or false")
    ike = _proposals(obj.get("ike_proposals", list(DEFAULT_IKE_PROPOSALS)), "ike_proposals", "ike", allow_legacy)
    esp = _proposals(obj.get("esp_proposals", list(DEFAULT_ESP_PROPOSALS)), "esp_proposals", "esp", allow_legacy)
    if ikev1 and not phase1_suites(ike):
        raise IpsecConfigError("ike_proposals", "none can be used with IKEv1 (it has no AEAD ciphers in phase 1)")
    if ikev1 and not esp_suites(esp)[0]:
        raise IpsecConfigError("esp_proposals", "none can be used with IKEv1")
    dpd = obj.get("dpd_interval", 30)
    if dpd is not None and (type(dpd) is not int or not 0 <= dpd <= 3600):
        raise IpsecConfigError("dpd_interval", "must be a whole number of seconds from 0 to 3600 (0 or null: off)")
    force = obj.get("force_encapsulation", False)
    if type(force) is not bool:
        raise IpsecConfigError("force_encapsulation", "must be true or false")
    ikev2: Ikev2Settings | None = None
    if "ikev2" in services:
        try:
            ikev2 = ikev2_settings_from_dict(obj, psk=bool(psk), base=base)
        except Ikev2ConfigError as exc:
            raise IpsecConfigError(exc.field, exc.message) from None
    elif (unused := unused_keys(obj)) is not None:
        raise IpsecConfigError(unused, "is used only by the ikev2 service, which services does not list")
    return IpsecPolicy(
        psk=psk,
        services=services,
        ike_proposals=ike,
        esp_proposals=esp,
        allow_legacy=allow_legacy,
        dpd_interval=float(dpd) if dpd else None,
        force_encapsulation=force,
        ikev2=ikev2,
    )


def _names(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise IpsecConfigError(name, "must be a JSON list")
    out: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise IpsecConfigError(f"{name}[{i}]", "must be a string")
        if item in out:
            raise IpsecConfigError(f"{name}[{i}]", f"{item} is listed twice")
        out.append(item)
    return tuple(out)


def _proposals(value: Any, name: str, kind: str, allow_legacy: bool) -> tuple[str, ...]:
    items = _names(value, name)
    if not items:
        raise IpsecConfigError(name, "must list at least one proposal, e.g. aes256-sha256-modp2048")
    for i, text in enumerate(items):
        try:
            proposal = parse_proposal_string(text, "ike" if kind == "ike" else "esp")
        except ValueError as exc:
            raise IpsecConfigError(f"{name}[{i}]", str(exc)) from None
        if proposal.legacy and not allow_legacy:
            raise IpsecConfigError(
                f"{name}[{i}]",
                f"uses legacy {', '.join(proposal.legacy_names)}; set allow_legacy to true to accept it",
            )
    return items
