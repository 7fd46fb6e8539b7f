"""Settings of one PPP connection, for either role; validated once when built."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from wizard.engine.ppp.ipcp import AddressPool

AUTH_METHODS = ("mschapv2", "mschap", "chap-md5", "pap", "eap")
EAP_METHODS = ("mschapv2", "md5")
MPPE_MODES = ("require", "allow", "refuse")
MPPE_BITS = (40, 56, 128)


@dataclass(frozen=True)
class PPPConfig:
    """Everything a :class:`~wizard.engine.ppp.connection.PPPConnection` needs.

    Client fields: ``username``, ``password``. Server fields: ``users`` (name -> password),
    ``local_ipv4`` (the gateway's address on the link), ``address_pool`` or ``peer_ipv4``, and
    ``dns_servers``. ``allowed_auth`` is ordered by preference; ``eap_methods`` are the inner EAP
    methods. ``mppe`` is "require", "allow" or "refuse"; ``mppe_bits`` the allowed key lengths.
    ``allow_no_auth`` lets a client accept a server that does not ask it to authenticate (such a
    server cannot be told apart from an impostor). ``echo_interval`` 0 disables keepalive.
    """

    username: str = ""
    password: str = field(default="", repr=False)
    users: Mapping[str, str] = field(default_factory=dict, repr=False, hash=False, compare=False)
    allowed_auth: tuple[str, ...] = ("mschapv2",)
    eap_methods: tuple[str, ...] = EAP_METHODS
    allow_no_auth: bool = False
    mppe: str = "allow"
    mppe_bits: tuple[int, ...] = (128,)
    allow_stateful: bool = False
    mru: int = 1500
    want_ipv6: bool = False
    request_dns: bool = True
    echo_interval: float = 30.0
    echo_failures: int = 4
    restart_timer: float = 3.0
    max_configure: int = 10
    max_terminate: int = 2
    max_failure: int = 5
    local_ipv4: str | None = None
    peer_ipv4: str | None = None
    address_pool: AddressPool | None = field(default=None, hash=False, compare=False)
    dns_servers: tuple[str, ...] = ()
    server_name: str = "connection-wizard"

    def __post_init__(self) -> None:
        for method in self.allowed_auth:
            if method not in AUTH_METHODS:
                raise ValueError(f"unknown authentication method {method!r}; known: {', '.join(AUTH_METHODS)}")
        if len(set(self.allowed_auth)) != len(self.allowed_auth):
            raise ValueError("allowed_auth lists a method twice")
        if "eap" in self.allowed_auth and not self.eap_methods:
            raise ValueError("EAP is allowed but no EAP method is")
        for method in self.eap_methods:
            if method not in EAP_METHODS:
                raise ValueError(f"unknown EAP method {method!r}; known: {', '.join(EAP_METHODS)}")
        if self.mppe not in MPPE_MODES:
            raise ValueError(f"mppe must be one of {', '.join(MPPE_MODES)}")
        if not self.mppe_bits or any(b not in MPPE_BITS for b in self.mppe_bits):
            raise ValueError("mppe_bits must list some of 40, 56 and 128")
        if self.mppe == "require" and not self._can_key_mppe():
            raise ValueError("MPPE is required but no allowed authentication method (MS-CHAP, MS-CHAPv2, "
                             "EAP-MSCHAPv2) yields its keys")
        if not 128 <= self.mru <= 65535:
            raise ValueError("mru must be between 128 and 65535")
        if self.restart_timer <= 0 or self.max_configure < 1 or self.max_terminate < 1 or self.max_failure < 1:
            raise ValueError("restart timer and counters must be positive")
        if self.echo_interval < 0 or self.echo_failures < 0:
            raise ValueError("echo settings must not be negative")
        for address in (self.local_ipv4, self.peer_ipv4, *self.dns_servers):
            if address is not None:
                try:
                    ipaddress.IPv4Address(address)
                except ValueError:
                    raise ValueError(f"{address!r} is not an IPv4 address") from None

    def _can_key_mppe(self) -> bool:
        return any(m in ("mschapv2", "mschap") for m in self.allowed_auth) or (
            "eap" in self.allowed_auth and "mschapv2" in self.eap_methods
        )
