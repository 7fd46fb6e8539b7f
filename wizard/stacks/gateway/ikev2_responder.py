"""The gateway's IKEv2 responder: one engine connection per client that accepts several sign-ins.

An :class:`IKEv2Config` names one way for the peer to authenticate, but a gateway learns the
client's way only from its first IKE_AUTH request (an AUTH payload with a PSK or signature method,
or none at all for EAP). :class:`GatewayResponder` looks at that request and switches to the
matching configuration before the engine handles it; the configurations differ only in their
authentication fields, so nothing negotiated in IKE_SA_INIT changes. A method the gateway does not
accept keeps the first configuration, and the engine refuses the client with its own reason.

Also here: telling IKEv2 datagrams from IKEv1 ones on the shared ports, without an engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from wizard.engine.errors import ParseError
from wizard.engine.ike.payloads import ExchangeType, Header, Payload, V2Flags, decode_header
from wizard.engine.ike.v1.natt import unframe
from wizard.engine.ike.v2.config import AddressLease, ChildConfig, IKEv2Config
from wizard.engine.ike.v2.connection import IKEv2Connection
from wizard.engine.ike.v2.constants import AuthMethod, PayloadType
from wizard.engine.ike.v2.messages import AuthPayload
from wizard.engine.ike.v2.state import IkeSA, State
from wizard.stacks.gateway.ikev2_config import ClientAuth
from wizard.stacks.gateway.ipsec_config import IpsecPolicy

NAT_T_PORT = 4500
ZERO_SPI = bytes(8)


def ikev2_header(data: bytes, local_port: int) -> Header | None:
    """The IKE header of an IKEv2 datagram (non-ESP marker removed on 4500), or None for anything else."""
    try:
        header = decode_header(unframe(data, local_port, NAT_T_PORT))
    except ParseError:
        return None
    return header if header.major_version == 2 else None


def sa_init_spi(header: Header) -> bytes | None:
    """The initiator's SPI when ``header`` starts a negotiation (an IKE_SA_INIT request), else None."""
    if (
        header.exchange_type != ExchangeType.IKE_SA_INIT
        or header.flags & V2Flags.RESPONSE
        or not header.flags & V2Flags.INITIATOR
        or header.spi_r != ZERO_SPI
        or header.message_id != 0
    ):
        return None
    return header.spi_i


def client_auth_kind(payloads: tuple[Payload, ...]) -> ClientAuth | None:
    """How a first IKE_AUTH request signs in: no AUTH payload means EAP; None when unreadable."""
    auth = next((p for p in payloads if p.type == PayloadType.AUTH), None)
    if auth is None:
        return "eap"
    try:
        method = AuthPayload.decode(auth.body).method
    except ParseError:
        return None
    return "psk" if method == AuthMethod.PSK else "cert"


class GatewayResponder(IKEv2Connection):
    """``IKEv2Connection("responder")`` that picks its configuration by the client's sign-in method."""

    def __init__(self, configs: Mapping[ClientAuth, IKEv2Config]) -> None:
        if not configs:
            raise ValueError("the gateway accepts no IKEv2 sign-in method")
        # In IKE_SA_INIT the certificate configuration asks for the client's certificate (CERTREQ).
        first = configs.get("cert") or next(iter(configs.values()))
        super().__init__("responder", first)
        self.configs = dict(configs)
        self.client_auth: ClientAuth | None = None  # known after the first IKE_AUTH request

    def _on_auth_request(self, sa: IkeSA, mid: int, payloads: tuple[Payload, ...], now: float, src: tuple[str, int]) -> None:
        if self.client_auth is None and self.state is State.AUTH and sa is self.ike_sa:
            kind = client_auth_kind(payloads)
            if kind is not None:
                self.client_auth = kind
                self.config = self.configs.get(kind, self.config)
        super()._on_auth_request(sa, mid, payloads, now, src)


def responder_configs(
    policy: IpsecPolicy,
    users: Mapping[str, str],
    local: str,
    peer: str,
    lease: Callable[[str], AddressLease | None],
    host_name: str = "connection-wizard",
) -> dict[ClientAuth, IKEv2Config]:
    """One configuration per accepted sign-in method for a client at ``peer`` talking to ``local``."""
    settings = policy.ikev2
    if settings is None:
        raise ValueError("the ipsec section does not serve ikev2")

    def make(**auth: Any) -> IKEv2Config:
        return IKEv2Config(
            local_address=local,
            peer_address=peer,
            local_id=settings.local_id or local,
            ike_proposals=policy.ike_proposals,
            allow_legacy=policy.allow_legacy,
            child=ChildConfig(mode="tunnel", esp_proposals=policy.esp_proposals),
            lease_provider=lease,
            dpd_interval=policy.dpd_interval,
            force_encapsulation=policy.force_encapsulation,
            mobike=False,  # clients are found by address; a client that moved starts over
            require_cookie=settings.require_cookie,
            eap_methods=("mschapv2",),
            eap_server_name=host_name,
            **auth,
        )

    signed = {
        "auth": "cert",
        "certificate": settings.certificate,
        "certificate_chain": settings.certificate_chain,
        "private_key": settings.private_key,
    }
    out: dict[ClientAuth, IKEv2Config] = {}
    for kind in settings.client_auth:
        if kind == "psk":
            out[kind] = make(auth="psk", psk=policy.psk, peer_auth="psk")
        elif kind == "cert":
            out[kind] = make(**signed, ca_certificates=settings.ca_certificates, peer_auth="cert")
        else:
            out[kind] = make(**signed, peer_auth="eap", eap_users=users)
    return out
