"""The New Connection flow: a small step graph the Qt pages (or a test) walk through.

Like Electrum's wizard, the flow owns the answers and the rules; views only show fields and call
``set``/``errors``/``next_step``. Secrets are kept apart from the answers so a draft can be logged
or shown in a summary without leaking them. The same flow edits an existing profile
(:meth:`NewConnectionFlow.from_profile`): then it keeps the profile's id and fields the wizard does
not show, and an empty secret field means "keep the saved one".
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wizard.probe.report import ProbeReport

from wizard.gui.flow.i18n import tr
from wizard.profiles.algorithms import DEFAULT_ESP_PROPOSALS, DEFAULT_IKE_PROPOSALS, ProposalKind, parse_proposal
from wizard.profiles.codec import profile_from_dict, profile_to_dict
from wizard.profiles.errors import ValidationError
from wizard.profiles.model import (
    DEFAULT_FALLBACK,
    SCHEMA_VERSION,
    AuthMethod,
    CredentialPolicy,
    Gateway,
    MppePolicy,
    Profile,
    Protocol,
    SecretKind,
    TunnelMode,
    check_host,
    default_mppe,
)

STEPS = ("type", "gateway", "signin", "options", "summary")
MAX_FILE = 1 << 20


class MachineAuth(StrEnum):
    """How the computer proves itself to an IPsec gateway (separate from the user's password)."""

    PSK = "psk"
    CERTIFICATE = "certificate"


def _choices() -> tuple[tuple[Protocol, str], ...]:
    return (
        (
            Protocol.L2TP_IPSEC,
            tr("The Windows default: L2TP protected by IPsec, with a pre-shared key or certificate."),
        ),
        (
            Protocol.IKEV1_XAUTH,
            tr("IPsec tunnel with user name and password (Cisco-style remote access, IKEv1 XAUTH)."),
        ),
        (Protocol.IPSEC_TRANSPORT, tr("Host-to-host IPsec protecting all traffic to one server (no user name).")),
        (Protocol.L2TP, tr("L2TP without IPsec: not encrypted unless MPPE is offered; only inside a trusted network.")),
        (Protocol.PPTP, tr("Insecure legacy protocol: passwords can be cracked offline. Only if nothing else works.")),
    )


#: What the type page offers, in order, with the one-line explanation shown under each choice.
PROTOCOL_CHOICES: tuple[tuple[Protocol, str], ...] = _choices()


def _later() -> tuple[tuple[Protocol, str], ...]:
    """Protocols shown only when the engine can connect them."""
    return (
        (
            Protocol.AUTOMATIC,
            tr("Recommended: tries IKEv2, then L2TP/IPsec, then L2TP, and tells you which one worked."),
        ),
        (
            Protocol.IKEV2,
            tr("Modern IPsec (IKEv2): fast, reconnects on network changes. Windows and most servers support it."),
        ),
    )


INSECURE = frozenset({Protocol.PPTP})


def protocol_choices(supported: Iterable[Protocol] | None = None) -> list[tuple[Protocol, str]]:
    """The type page's list: the five we connect today, plus Automatic and IKEv2 once supported."""
    extra = set(supported or ())
    later = [(p, text) for p, text in _later() if p in extra]
    return later + list(_choices())


def engine_protocols() -> tuple[Protocol, ...]:
    """Protocols the installed stacks say they connect (empty when the stacks cannot be imported)."""
    try:
        from wizard.stacks.registry import SUPPORTED
    except Exception:  # the GUI must open even if the engine is broken or absent
        return ()
    return tuple(SUPPORTED)


def _split_list(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text.strip()) if part]


def _secret_labels() -> dict[SecretKind, str]:
    return {
        SecretKind.PASSWORD: tr("password"),
        SecretKind.PSK: tr("pre-shared key"),
        SecretKind.KEY_PASSPHRASE: tr("private key passphrase"),
    }


def secret_label(kind: SecretKind) -> str:
    return _secret_labels()[kind]


def _default_answers() -> dict[str, Any]:
    return {
        "protocol": Protocol.L2TP_IPSEC.value,
        "name": "",
        "host": "",
        "use_phonebook": True,
        "username": "",
        "machine_auth": MachineAuth.PSK.value,
        "certificate_file": "",
        "private_key_file": "",
        "ca_file": "",
        "key_has_passphrase": False,
        "credential_policy": CredentialPolicy.SAVE.value,
        "tunnel": TunnelMode.FULL.value,
        "routes": "",
        "use_pushed_routes": True,
        "dns_servers": "",
        "split_domains": "",
        "use_pushed_dns": True,
        "kill_switch": False,
        "allow_lan": True,
        "reconnect": True,
        "reconnect_attempts": 0,
        "mppe": "",  # empty: the protocol's default
        "allow_legacy": False,
        "ike_proposals": ", ".join(DEFAULT_IKE_PROPOSALS),
        "esp_proposals": ", ".join(DEFAULT_ESP_PROPOSALS),
        "connect_now": False,
    }


@dataclass
class NewConnectionFlow:
    """Answers of a New Connection wizard run; ``profile()`` turns them into a validated profile."""

    answers: dict[str, Any] = field(default_factory=_default_answers)
    secrets: dict[SecretKind, str] = field(default_factory=dict, repr=False)
    phonebook: list[Gateway] = field(default_factory=list)
    #: names already taken by other stored connections (checked as the user types)
    taken_names: set[str] = field(default_factory=set)
    #: whether a secure keyring exists (otherwise nothing can be saved)
    keyring_available: bool = True
    #: secrets already in the keyring for the profile being edited (empty field = keep)
    saved_secret_kinds: set[SecretKind] = field(default_factory=set)
    editing: Profile | None = None

    # --- answers ---------------------------------------------------------------------------------

    def set(self, key: str, value: Any) -> None:
        if key not in self.answers:
            raise KeyError(f"unknown answer {key!r}")
        self.answers[key] = value

    @property
    def protocol(self) -> Protocol:
        return Protocol(self.answers["protocol"])

    @property
    def machine_auth(self) -> MachineAuth:
        return MachineAuth(self.answers["machine_auth"])

    @property
    def credential_policy(self) -> CredentialPolicy:
        policy = CredentialPolicy(self.answers["credential_policy"])
        if policy is CredentialPolicy.SAVE and not self.keyring_available:
            return CredentialPolicy.USERNAME_ONLY
        return policy

    @property
    def uses_certificate(self) -> bool:
        return self.protocol.uses_ipsec and self.machine_auth is MachineAuth.CERTIFICATE

    def needs_username(self) -> bool:
        """IPsec transport signs in the machine only; every other type has a user account."""
        return self.protocol is not Protocol.IPSEC_TRANSPORT

    def needed_secrets(self) -> list[SecretKind]:
        protocol = self.protocol
        needed: list[SecretKind] = []
        if self.needs_username():
            needed.append(SecretKind.PASSWORD)
        if protocol.uses_ipsec:
            if self.machine_auth is MachineAuth.PSK:
                needed.append(SecretKind.PSK)
            elif self.answers["key_has_passphrase"]:
                needed.append(SecretKind.KEY_PASSPHRASE)
        return needed

    def auth_method(self) -> AuthMethod:
        if self.uses_certificate:
            return AuthMethod.CERTIFICATE
        if self.protocol is Protocol.IPSEC_TRANSPORT:
            return AuthMethod.PSK
        return AuthMethod.PASSWORD

    def secret_required(self, kind: SecretKind) -> bool:
        """A secret must be typed now only if it will be saved and is not saved already."""
        if kind in self.saved_secret_kinds:
            return False
        return self.credential_policy is CredentialPolicy.SAVE

    def choose_protocol(self, protocol: Protocol) -> None:
        """Switch the type; protocol-specific defaults (MPPE) follow the new type."""
        if protocol is not self.protocol:
            self.answers["protocol"] = protocol.value
            self.answers["mppe"] = ""

    def apply_probe(self, report: ProbeReport) -> str:
        """Pre-fill type and crypto policy from a gateway probe; returns a sentence saying what changed."""
        suggestion = report.suggestion
        if not suggestion.protocol:
            return tr("The gateway did not answer any VPN protocol; check the address and your network.")
        self.choose_protocol(Protocol(suggestion.protocol))
        if suggestion.ike_proposals:
            self.answers["ike_proposals"] = ", ".join(suggestion.ike_proposals)
            self.answers["allow_legacy"] = suggestion.allow_legacy
        speaks = ", ".join(p.label for p in report.speaks) or "-"
        text = tr("The gateway speaks {speaks}. Chosen: {protocol}.").format(
            speaks=speaks, protocol=Protocol(suggestion.protocol).label
        )
        if suggestion.allow_legacy:
            text += " " + tr("It only accepts legacy algorithms, so they were allowed: ask for an upgrade.")
        return text

    def pick_gateway(self, index: int) -> None:
        """Take phonebook entry ``index`` as the gateway (and its label as the name, if none yet)."""
        gateway = self.phonebook[index]
        self.answers["host"] = gateway.host
        if not self.answers["name"].strip() and gateway.label:
            self.answers["name"] = gateway.label

    # --- validation ------------------------------------------------------------------------------

    def errors(self, step: str) -> dict[str, str]:
        """Field -> plain-language problem, for the fields shown on ``step``."""
        check = getattr(self, f"_errors_{step}", None)
        return check() if check is not None else {}

    def _errors_gateway(self) -> dict[str, str]:
        problems: dict[str, str] = {}
        a = self.answers
        name = a["name"]
        if not name.strip():
            problems["name"] = tr("Give the connection a name, e.g. “Office”.")
        elif name != name.strip() or len(name) > 100 or any(ord(c) < 32 for c in name):
            problems["name"] = tr("Use 1 to 100 characters without spaces at either end.")
        elif name.casefold() in {n.casefold() for n in self.taken_names}:
            problems["name"] = tr("You already have a connection called “{name}”; pick another name.").format(name=name)
        host = a["host"].strip()
        if not host:
            problems["host"] = tr("Enter the gateway's host name or IP address.")
        else:
            try:
                check_host(host, "host")
            except ValidationError:
                problems["host"] = tr(
                    "“{host}” is not a host name or IP address; e.g. vpn.example.com or 203.0.113.5."
                ).format(host=host)
        return problems

    def _errors_signin(self) -> dict[str, str]:
        problems: dict[str, str] = {}
        a = self.answers
        username = a["username"]
        if self.needs_username() and self.credential_policy is not CredentialPolicy.NEVER:
            if not username.strip():
                problems["username"] = tr("Enter the user name your administrator gave you.")
            elif len(username) > 256 or any(ord(c) < 32 for c in username):
                problems["username"] = tr("Use at most 256 printable characters.")
        for kind in self.needed_secrets():
            if self.secret_required(kind) and not self.secrets.get(kind):
                problems[kind.value] = tr("Enter the {what}.").format(what=secret_label(kind))
        if self.uses_certificate:
            problem = certificate_problem(a["certificate_file"], required=True)
            if problem:
                problems["certificate_file"] = problem
            problem = file_problem(a["private_key_file"], required=False, what=tr("private key"))
            if problem:
                problems["private_key_file"] = problem
            problem = certificate_problem(a["ca_file"], required=False)
            if problem:
                problems["ca_file"] = problem
        return problems

    def _errors_options(self) -> dict[str, str]:
        problems: dict[str, str] = {}
        a = self.answers
        routes = _split_list(a["routes"])
        for route in routes:
            try:
                ipaddress.ip_network(route, strict=False)
            except ValueError:
                problems["routes"] = tr("“{route}” is not a network; write CIDR like 10.0.0.0/8.").format(route=route)
                break
        if a["tunnel"] == TunnelMode.SPLIT.value and not routes and not a["use_pushed_routes"]:
            problems["routes"] = tr("A split tunnel needs networks to send through the VPN, or the gateway's routes.")
        for server in _split_list(a["dns_servers"]):
            try:
                ipaddress.ip_address(server)
            except ValueError:
                problems["dns_servers"] = tr("“{server}” is not an IP address.").format(server=server)
                break
        for domain in _split_list(a["split_domains"]):
            try:
                check_host(domain.rstrip("."), "domain")
            except ValidationError:
                problems["split_domains"] = tr("“{domain}” is not a domain name, e.g. corp.example.com.").format(
                    domain=domain
                )
                break
        attempts = a["reconnect_attempts"]
        if not isinstance(attempts, int) or not 0 <= attempts <= 1000:
            problems["reconnect_attempts"] = tr("Use 0 (keep trying) to 1000 attempts.")
        if self.protocol.uses_ipsec:
            for key, kind in (("ike_proposals", "ike"), ("esp_proposals", "esp")):
                problem = self._proposal_problem(a[key], kind)  # type: ignore[arg-type]
                if problem:
                    problems[key] = problem
        return problems

    def _proposal_problem(self, text: str, kind: ProposalKind) -> str:
        proposals = _split_list(text)
        if not proposals:
            return tr("List at least one proposal, e.g. aes256-sha256-modp2048.")
        for proposal in proposals:
            try:
                algorithms = parse_proposal(proposal, kind)
            except ValueError as exc:
                return str(exc)[0].upper() + str(exc)[1:] + "."
            weak = [x for x in algorithms if x.legacy]
            if weak and not self.answers["allow_legacy"]:
                return tr(
                    "{proposal} uses {names}: {why}. Turn on “Allow legacy algorithms” only if the gateway needs it."
                ).format(proposal=proposal, names=", ".join(x.name for x in weak), why=weak[0].why_weak)
        return ""

    def _errors_summary(self) -> dict[str, str]:
        try:
            self.profile()
        except ValidationError as exc:
            return {"profile": str(exc)}
        return {}

    def all_errors(self) -> dict[str, dict[str, str]]:
        return {step: found for step in STEPS if (found := self.errors(step))}

    def next_step(self, step: str) -> str | None:
        index = STEPS.index(step)
        return STEPS[index + 1] if index + 1 < len(STEPS) else None

    def previous_step(self, step: str) -> str | None:
        index = STEPS.index(step)
        return STEPS[index - 1] if index > 0 else None

    # --- result ----------------------------------------------------------------------------------

    def gateways(self) -> list[dict[str, str]]:
        host = self.answers["host"].strip()
        picked = next((g for g in self.phonebook if g.host == host), Gateway(host))
        chosen = [picked]
        if self.answers["use_phonebook"] and picked in self.phonebook:
            chosen += [g for g in self.phonebook if g != picked]
        return [dataclasses.asdict(g) for g in chosen]

    def profile(self) -> Profile:
        """The validated profile these answers describe (raises ValidationError)."""
        a = self.answers
        protocol = self.protocol
        policy = self.credential_policy
        base: dict[str, Any] = profile_to_dict(self.editing) if self.editing is not None else {}
        auth: dict[str, Any] = dict(base.get("auth", {}))
        auth.update(
            method=self.auth_method().value,
            username=a["username"].strip() if self.needs_username() and policy is not CredentialPolicy.NEVER else "",
            secrets=[k.value for k in self.needed_secrets()],
            certificate_file=a["certificate_file"].strip() if self.uses_certificate else "",
            private_key_file=a["private_key_file"].strip() if self.uses_certificate else "",
            ca_file=a["ca_file"].strip() if self.uses_certificate else "",
        )
        ppp = {**base.get("ppp", {}), "mppe": a["mppe"] or default_mppe(protocol).value}
        fallback: list[str] = []
        if protocol is Protocol.AUTOMATIC:
            fallback = base.get("fallback") or [p.value for p in DEFAULT_FALLBACK]
        data: dict[str, Any] = {
            **base,
            "schema_version": SCHEMA_VERSION,
            "name": a["name"],
            "protocol": protocol.value,
            "fallback": fallback,
            "gateways": self.gateways(),
            "auth": auth,
            "ppp": ppp,
            "crypto": self._crypto(base.get("crypto", {})),
            "routing": {
                "mode": a["tunnel"],
                "routes": _split_list(a["routes"]),
                "use_pushed_routes": bool(a["use_pushed_routes"]),
            },
            "dns": {
                **base.get("dns", {}),
                "servers": _split_list(a["dns_servers"]),
                "split_domains": [d.rstrip(".") for d in _split_list(a["split_domains"])],
                "use_pushed": bool(a["use_pushed_dns"]),
            },
            "kill_switch": {"enabled": bool(a["kill_switch"]), "allow_lan": bool(a["allow_lan"])},
            "reconnect": {
                **base.get("reconnect", {}),
                "enabled": bool(a["reconnect"]),
                "max_attempts": a["reconnect_attempts"],
            },
            "credential_policy": policy.value,
        }
        if self.editing is None:
            data.pop("id", None)
        return profile_from_dict(data)

    def _crypto(self, base: dict[str, Any]) -> dict[str, Any]:
        """Proposals from the answers for IPsec types; other types keep what they had (or defaults)."""
        crypto = {**base, "allow_legacy": bool(self.answers["allow_legacy"])}
        if self.protocol.uses_ipsec:
            crypto["ike_proposals"] = _split_list(self.answers["ike_proposals"]) or list(DEFAULT_IKE_PROPOSALS)
            crypto["esp_proposals"] = _split_list(self.answers["esp_proposals"]) or list(DEFAULT_ESP_PROPOSALS)
        return crypto

    def secrets_to_save(self, profile: Profile) -> dict[SecretKind, str]:
        """What goes to the keyring on Finish: typed secrets the policy lets us keep."""
        return {k: v for k, v in self.secrets.items() if v and k in profile.saved_secrets}

    # --- editing ---------------------------------------------------------------------------------

    @classmethod
    def from_profile(
        cls, profile: Profile, saved: Iterable[SecretKind] = (), keyring_available: bool = True
    ) -> NewConnectionFlow:
        """A flow that edits ``profile``: every answer pre-filled, its id kept."""
        flow = cls(editing=profile, keyring_available=keyring_available, saved_secret_kinds=set(saved))
        a = flow.answers
        gateways = list(profile.gateways)
        a.update(
            protocol=profile.protocol.value,
            name=profile.name,
            host=gateways[0].host,
            use_phonebook=len(gateways) > 1,
            username=profile.auth.username,
            machine_auth=(
                MachineAuth.CERTIFICATE.value
                if profile.auth.method is AuthMethod.CERTIFICATE
                else MachineAuth.PSK.value
            ),
            certificate_file=profile.auth.certificate_file,
            private_key_file=profile.auth.private_key_file,
            ca_file=profile.auth.ca_file,
            key_has_passphrase=SecretKind.KEY_PASSPHRASE in profile.auth.secrets,
            credential_policy=profile.credential_policy.value,
            tunnel=profile.routing.mode.value,
            routes=", ".join(profile.routing.routes),
            use_pushed_routes=profile.routing.use_pushed_routes,
            dns_servers=", ".join(profile.dns.servers),
            split_domains=", ".join(profile.dns.split_domains),
            use_pushed_dns=profile.dns.use_pushed,
            kill_switch=profile.kill_switch.enabled,
            allow_lan=profile.kill_switch.allow_lan,
            reconnect=profile.reconnect.enabled,
            reconnect_attempts=profile.reconnect.max_attempts,
            mppe=profile.ppp.mppe.value,
            allow_legacy=profile.crypto.allow_legacy,
            ike_proposals=", ".join(profile.crypto.ike_proposals),
            esp_proposals=", ".join(profile.crypto.esp_proposals),
        )
        if len(gateways) > 1:
            flow.phonebook = gateways
        return flow


def mppe_choices() -> list[tuple[MppePolicy, str]]:
    return [
        (MppePolicy.REQUIRE, tr("Require encryption (MPPE): refuse to connect without it")),
        (MppePolicy.ALLOW, tr("Use encryption (MPPE) if the gateway offers it")),
        (MppePolicy.REFUSE, tr("No MPPE (the link is protected some other way)")),
    ]


def legacy_risks() -> str:
    """What turning on legacy algorithms exposes you to, in words a user can weigh."""
    return tr(
        "Legacy algorithms are broken or weak: DES can be brute-forced in hours, 3DES leaks data over long "
        "sessions (Sweet32), MD5 is broken, and Diffie-Hellman groups under 2048 bits (MODP-768/1024/1536) "
        "can be broken by a well-funded attacker (Logjam). Someone who records your traffic may read it later. "
        "Turn this on only for an old gateway you cannot upgrade."
    )


def file_problem(path_text: str, *, required: bool, what: str) -> str:
    """Why ``path_text`` is not a readable file we can use (empty when it is fine)."""
    text = path_text.strip()
    if not text:
        return tr("Choose the {what} file.").format(what=what) if required else ""
    path = Path(text).expanduser()
    if not path.is_absolute():
        return tr("Use the full path of the file (starting with /).")
    try:
        size = path.stat().st_size
    except OSError:
        return tr("There is no file at {path}.").format(path=text)
    if not path.is_file():
        return tr("{path} is not a file.").format(path=text)
    if size > MAX_FILE:
        return tr("{path} is larger than 1 MiB; is it really a {what}?").format(path=text, what=what)
    try:
        with path.open("rb"):
            pass
    except OSError:
        return tr("You may not read {path}.").format(path=text)
    return ""


def certificate_problem(path_text: str, *, required: bool) -> str:
    """Like :func:`file_problem`, and the file must hold an X.509 certificate (PEM or DER)."""
    problem = file_problem(path_text, required=required, what=tr("certificate"))
    if problem or not path_text.strip():
        return problem
    from cryptography import x509

    data = Path(path_text.strip()).expanduser().read_bytes()
    try:
        if b"-----BEGIN" in data:
            x509.load_pem_x509_certificate(data)
        else:
            x509.load_der_x509_certificate(data)
    except ValueError:
        return tr("{path} does not hold a certificate (PEM or DER).").format(path=path_text.strip())
    return ""
