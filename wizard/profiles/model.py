"""The connection profile: one typed, frozen value per connection.

Plain dataclasses rather than pydantic: the model is small, mypy checks it strictly without a plugin,
and the JSON codec (``codec.py``) gives us the exact error messages we want (field path, problem,
what is allowed). A profile never holds a secret, only the names of the secrets it needs; the
secrets themselves live in the user's keyring (``secrets.py``).
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from wizard.profiles.algorithms import (
    DEFAULT_ESP_PROPOSALS,
    DEFAULT_IKE_PROPOSALS,
    ProposalKind,
    parse_proposal,
    weak_parts,
)
from wizard.profiles.errors import ValidationError

SCHEMA_VERSION = 2


class Protocol(StrEnum):
    AUTOMATIC = "automatic"
    IKEV2 = "ikev2"
    L2TP_IPSEC = "l2tp_ipsec"
    L2TP = "l2tp"
    PPTP = "pptp"
    IPSEC_TRANSPORT = "ipsec_transport"
    IKEV1_XAUTH = "ikev1_xauth"

    @property
    def label(self) -> str:
        return _PROTOCOL_LABELS[self]

    @property
    def uses_ppp(self) -> bool:
        return self in (Protocol.L2TP, Protocol.L2TP_IPSEC, Protocol.PPTP)

    @property
    def uses_ipsec(self) -> bool:
        return self in (Protocol.IKEV2, Protocol.L2TP_IPSEC, Protocol.IPSEC_TRANSPORT, Protocol.IKEV1_XAUTH)


_PROTOCOL_LABELS = {
    Protocol.AUTOMATIC: "Automatic",
    Protocol.IKEV2: "IKEv2",
    Protocol.L2TP_IPSEC: "L2TP/IPsec",
    Protocol.L2TP: "L2TP (no encryption)",
    Protocol.PPTP: "PPTP (insecure)",
    Protocol.IPSEC_TRANSPORT: "IPsec transport mode",
    Protocol.IKEV1_XAUTH: "IKEv1 with XAUTH",
}

DEFAULT_FALLBACK: tuple[Protocol, ...] = (Protocol.IKEV2, Protocol.L2TP_IPSEC, Protocol.L2TP)


class AuthMethod(StrEnum):
    PASSWORD = "password"
    PSK = "psk"
    CERTIFICATE = "certificate"
    EAP_MSCHAPV2 = "eap-mschapv2"


class PPPAuth(StrEnum):
    MSCHAPV2 = "mschapv2"
    MSCHAP = "mschap"
    CHAP_MD5 = "chap-md5"
    PAP = "pap"
    EAP = "eap"


class SecretKind(StrEnum):
    """The secrets a profile may need; each is one keyring entry under the profile's service."""

    PASSWORD = "password"
    PSK = "psk"
    KEY_PASSPHRASE = "key_passphrase"


class MppePolicy(StrEnum):
    REQUIRE = "require"
    ALLOW = "allow"
    REFUSE = "refuse"


def default_mppe(protocol: Protocol) -> MppePolicy:
    """What a new profile asks of MPPE: PPTP needs it, IPsec makes it pointless, plain L2TP takes it if offered."""
    if protocol is Protocol.PPTP:
        return MppePolicy.REQUIRE
    if protocol is Protocol.L2TP:
        return MppePolicy.ALLOW
    return MppePolicy.REFUSE


class TunnelMode(StrEnum):
    FULL = "full"
    SPLIT = "split"


class CredentialPolicy(StrEnum):
    SAVE = "save"
    USERNAME_ONLY = "username_only"
    NEVER = "never"


@dataclass(frozen=True)
class Gateway:
    """A phonebook entry: where to connect, and how to show it."""

    host: str
    label: str = ""
    region: str = ""

    def validate(self) -> None:
        check_host(self.host, "host")


@dataclass(frozen=True)
class Auth:
    """How the user proves who they are. ``secrets`` names keyring entries, never their values."""

    method: AuthMethod = AuthMethod.PASSWORD
    username: str = ""
    secrets: tuple[SecretKind, ...] = (SecretKind.PASSWORD,)
    ppp_methods: tuple[PPPAuth, ...] = (PPPAuth.MSCHAPV2,)
    certificate_file: str = ""
    private_key_file: str = ""
    ca_file: str = ""
    local_id: str = ""
    remote_id: str = ""

    def validate(self) -> None:
        if len(set(self.secrets)) != len(self.secrets):
            raise ValidationError("secrets", "lists a secret twice")
        if not self.ppp_methods:
            raise ValidationError("ppp_methods", "must allow at least one method", _choices(PPPAuth))
        if len(self.username) > 256 or any(ord(c) < 32 for c in self.username):
            raise ValidationError("username", "must be at most 256 printable characters")
        if self.method is AuthMethod.CERTIFICATE and not self.certificate_file:
            raise ValidationError(
                "certificate_file", "is required for certificate sign-in", "a path to a PEM certificate"
            )
        if self.method in (AuthMethod.PASSWORD, AuthMethod.EAP_MSCHAPV2) and SecretKind.PASSWORD not in self.secrets:
            raise ValidationError("secrets", f"sign-in with {self.method.value} needs the 'password' secret")
        if self.method is AuthMethod.PSK and SecretKind.PSK not in self.secrets:
            raise ValidationError("secrets", "pre-shared key sign-in needs the 'psk' secret")


@dataclass(frozen=True)
class CryptoPolicy:
    """Which IKE/ESP proposals we offer; legacy algorithms only when the profile asks for them."""

    ike_proposals: tuple[str, ...] = DEFAULT_IKE_PROPOSALS
    esp_proposals: tuple[str, ...] = DEFAULT_ESP_PROPOSALS
    allow_legacy: bool = False

    def validate(self) -> None:
        for name, proposals, kind in self._lists():
            if not proposals:
                raise ValidationError(name, "must list at least one proposal", "e.g. aes256-sha256-modp2048")
            for i, proposal in enumerate(proposals):
                where = f"{name}[{i}]"
                try:
                    weak = weak_parts(proposal, kind)
                except ValueError as exc:
                    raise ValidationError(where, str(exc)) from None
                if weak and not self.allow_legacy:
                    raise ValidationError(
                        where,
                        f"uses legacy {', '.join(a.name for a in weak)} ({weak[0].why_weak})",
                        "set allow_legacy to true to connect to a gateway that needs it",
                    )

    def _lists(self) -> tuple[tuple[str, tuple[str, ...], ProposalKind], ...]:
        return (("ike_proposals", self.ike_proposals, "ike"), ("esp_proposals", self.esp_proposals, "esp"))

    def weaknesses(self) -> list[str]:
        found: list[str] = []
        for _, proposals, kind in self._lists():
            for proposal in proposals:
                try:
                    algorithms = parse_proposal(proposal, kind)
                except ValueError:
                    continue
                found += [f"{proposal}: {a.why_weak}" for a in algorithms if a.legacy]
        return found


@dataclass(frozen=True)
class PPPOptions:
    """PPP settings for PPTP and L2TP. MPPE (RC4) is legacy encryption whatever the key length."""

    mppe: MppePolicy = MppePolicy.REQUIRE
    mppe_bits: tuple[int, ...] = (128,)
    mppe_stateful: bool = False
    mru: int = 1400
    lcp_echo_interval: int = 30
    lcp_echo_failures: int = 4
    ipv6: bool = False

    def validate(self) -> None:
        if not self.mppe_bits or any(b not in (40, 56, 128) for b in self.mppe_bits):
            raise ValidationError(
                "mppe_bits", f"{list(self.mppe_bits)} is not a set of MPPE key lengths", "40, 56, 128"
            )
        if len(set(self.mppe_bits)) != len(self.mppe_bits):
            raise ValidationError("mppe_bits", "lists a key length twice")
        if not 576 <= self.mru <= 1500:
            raise ValidationError("mru", f"{self.mru} is out of range", "576 to 1500")
        if not 0 <= self.lcp_echo_interval <= 3600:
            raise ValidationError("lcp_echo_interval", f"{self.lcp_echo_interval} is out of range", "0 (off) to 3600 s")
        if not 1 <= self.lcp_echo_failures <= 100:
            raise ValidationError("lcp_echo_failures", f"{self.lcp_echo_failures} is out of range", "1 to 100")


@dataclass(frozen=True)
class Routing:
    mode: TunnelMode = TunnelMode.FULL
    routes: tuple[str, ...] = ()
    use_pushed_routes: bool = True

    def validate(self) -> None:
        for i, route in enumerate(self.routes):
            try:
                ipaddress.ip_network(route, strict=False)
            except ValueError:
                raise ValidationError(f"routes[{i}]", f"{route!r} is not a network", "CIDR, e.g. 10.0.0.0/8") from None
        if self.mode is TunnelMode.SPLIT and not self.routes and not self.use_pushed_routes:
            raise ValidationError(
                "routes", "a split tunnel needs routes or use_pushed_routes", "add CIDR routes or use a full tunnel"
            )


@dataclass(frozen=True)
class DNS:
    servers: tuple[str, ...] = ()
    search_domains: tuple[str, ...] = ()
    split_domains: tuple[str, ...] = ()
    use_pushed: bool = True

    def validate(self) -> None:
        for i, server in enumerate(self.servers):
            try:
                ipaddress.ip_address(server)
            except ValueError:
                raise ValidationError(f"servers[{i}]", f"{server!r} is not an IP address") from None
        for name, domains in (("search_domains", self.search_domains), ("split_domains", self.split_domains)):
            for i, domain in enumerate(domains):
                if not _DOMAIN.fullmatch(domain):
                    raise ValidationError(f"{name}[{i}]", f"{domain!r} is not a domain name", "e.g. corp.example.com")


@dataclass(frozen=True)
class KillSwitch:
    enabled: bool = False
    allow_lan: bool = True


@dataclass(frozen=True)
class Reconnect:
    enabled: bool = True
    max_attempts: int = 0
    initial_delay: float = 2.0
    max_delay: float = 60.0

    def validate(self) -> None:
        if not 0 <= self.max_attempts <= 1000:
            raise ValidationError("max_attempts", f"{self.max_attempts} is out of range", "0 (unlimited) to 1000")
        if not 0.1 <= self.initial_delay <= 3600:
            raise ValidationError("initial_delay", f"{self.initial_delay} is out of range", "0.1 to 3600 s")
        if not self.initial_delay <= self.max_delay <= 86400:
            raise ValidationError("max_delay", f"{self.max_delay} is out of range", "initial_delay to 86400 s")


@dataclass(frozen=True)
class Profile:
    name: str
    protocol: Protocol
    gateways: tuple[Gateway, ...]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    auth: Auth = field(default_factory=Auth)
    fallback: tuple[Protocol, ...] = ()
    crypto: CryptoPolicy = field(default_factory=CryptoPolicy)
    ppp: PPPOptions = field(default_factory=PPPOptions)
    routing: Routing = field(default_factory=Routing)
    dns: DNS = field(default_factory=DNS)
    kill_switch: KillSwitch = field(default_factory=KillSwitch)
    reconnect: Reconnect = field(default_factory=Reconnect)
    branding: str = ""
    credential_policy: CredentialPolicy = CredentialPolicy.SAVE

    def validate(self) -> None:
        """Check every rule a single field's type cannot express; raise ValidationError."""
        name = self.name.strip()
        if not name or len(name) > 100 or name != self.name or any(ord(c) < 32 for c in name):
            raise ValidationError(
                "name",
                f"{self.name!r} is not a usable name",
                "1 to 100 printable characters, no leading/trailing spaces",
            )
        try:
            uuid.UUID(self.id)
        except ValueError:
            raise ValidationError("id", f"{self.id!r} is not a UUID") from None
        if not self.gateways:
            raise ValidationError("gateways", "must list at least one gateway", "a host name or IP address")
        for i, gateway in enumerate(self.gateways):
            _nested(gateway.validate, f"gateways[{i}]")
        for part, prefix in (
            (self.auth, "auth"),
            (self.crypto, "crypto"),
            (self.ppp, "ppp"),
            (self.routing, "routing"),
            (self.dns, "dns"),
            (self.reconnect, "reconnect"),
        ):
            _nested(part.validate, prefix)
        self._validate_fallback()
        if self.credential_policy is CredentialPolicy.NEVER and self.auth.username:
            raise ValidationError(
                "auth.username",
                "is not stored when credential_policy is 'never'",
                "an empty user name, or 'username_only'",
            )
        if self.branding and not _BRANDING_ID.fullmatch(self.branding):
            raise ValidationError(
                "branding", f"{self.branding!r} is not a branding id", "letters, digits, '.', '_', '-'"
            )

    def _validate_fallback(self) -> None:
        if self.protocol is not Protocol.AUTOMATIC:
            if self.fallback:
                raise ValidationError("fallback", "is only used with protocol 'automatic'", "an empty list")
            return
        if not self.fallback:
            raise ValidationError("fallback", "automatic needs an ordered list of protocols", _choices(Protocol, 1))
        if Protocol.AUTOMATIC in self.fallback:
            raise ValidationError("fallback", "cannot contain 'automatic' itself", _choices(Protocol, 1))
        if len(set(self.fallback)) != len(self.fallback):
            raise ValidationError("fallback", "lists a protocol twice")
        if Protocol.PPTP in self.fallback and not self.crypto.allow_legacy:
            raise ValidationError(
                "fallback", "contains pptp, which is insecure", "set crypto.allow_legacy to true to allow it"
            )

    @property
    def saved_secrets(self) -> tuple[SecretKind, ...]:
        """The secrets the credential policy lets us keep in the keyring."""
        return self.auth.secrets if self.credential_policy is CredentialPolicy.SAVE else ()

    @property
    def protocols(self) -> tuple[Protocol, ...]:
        """The protocols a connect attempt may use, in order."""
        return self.fallback if self.protocol is Protocol.AUTOMATIC else (self.protocol,)

    def weaknesses(self) -> list[str]:
        """Plain-language list of everything weak about this profile, for the UI's warning labels."""
        found: list[str] = []
        protocols = self.protocols
        if Protocol.PPTP in protocols:
            found.append(
                "PPTP: MS-CHAPv2 can be cracked offline and MPPE (RC4) is weak; use only if nothing else works"
            )
        if Protocol.L2TP in protocols:
            found.append("L2TP without IPsec: traffic is not encrypted unless MPPE is negotiated")
        if any(p.uses_ppp for p in protocols) and self.ppp.mppe is not MppePolicy.REFUSE:
            found.append(f"MPPE ({'/'.join(map(str, self.ppp.mppe_bits))}-bit RC4) is legacy encryption")
        if any(p.uses_ipsec for p in protocols):
            found += self.crypto.weaknesses()
        return found


_DOMAIN = re.compile(
    r"(?=.{1,253}\Z)([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.?"
)
_BRANDING_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")


def check_host(host: str, field_name: str) -> None:
    """Accept an IPv4/IPv6 address or a DNS host name; raise ValidationError otherwise."""
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    if not _DOMAIN.fullmatch(host) or host.replace(".", "").isdigit():
        raise ValidationError(
            field_name, f"{host!r} is not a host name or IP address", "e.g. vpn.example.com or 203.0.113.5"
        )


def _nested(check: Callable[[], None], prefix: str) -> None:
    try:
        check()
    except ValidationError as exc:
        raise exc.under(prefix) from None


def _choices(enum: type[StrEnum], skip: int = 0) -> str:
    return ", ".join(member.value for member in list(enum)[skip:])
