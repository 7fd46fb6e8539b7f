"""Profile + secrets -> the stack that connects it. One place maps profile fields to engine configs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from wizard.engine.ike.v1.config import ChildConfig, IKEv1Config
from wizard.engine.ike.v1.identities import TrafficSelector
from wizard.engine.ike.v2.config import ChildConfig as V2ChildConfig
from wizard.engine.ike.v2.config import IKEv2Config
from wizard.engine.ppp.config import PPPConfig
from wizard.profiles.model import AuthMethod, Profile, Protocol, SecretKind, TunnelMode
from wizard.stacks.base import NetworkApplier, StackError, StatusSink, VpnStack
from wizard.stacks.ppp_stack import RouteChoice

SUPPORTED = (
    Protocol.AUTOMATIC,
    Protocol.IKEV2,
    Protocol.L2TP,
    Protocol.PPTP,
    Protocol.L2TP_IPSEC,
    Protocol.IKEV1_XAUTH,
    Protocol.IPSEC_TRANSPORT,
)
L2TP_PORT = 1701
UDP = 17


def ppp_config_for(profile: Profile, secrets: Mapping[str, str]) -> PPPConfig:
    """The client PPP settings a profile asks for; a contradiction becomes a StackError."""
    try:
        return PPPConfig(
            username=profile.auth.username,
            password=secrets.get(SecretKind.PASSWORD.value, ""),
            allowed_auth=tuple(m.value for m in profile.auth.ppp_methods),
            mppe=profile.ppp.mppe.value,
            mppe_bits=profile.ppp.mppe_bits,
            allow_stateful=profile.ppp.mppe_stateful,
            mru=profile.ppp.mru,
            want_ipv6=profile.ppp.ipv6,
            echo_interval=float(profile.ppp.lcp_echo_interval),
            echo_failures=profile.ppp.lcp_echo_failures,
            # xl2tpd starts pppd "passive" only after the session is up, so our first
            # Configure-Request is often lost; retry after 1 s rather than RFC 1661's 3 s.
            restart_timer=1.0,
            max_configure=20,
        )
    except ValueError as exc:
        raise StackError(f"this connection's PPP settings cannot work: {exc}", "config") from None


def route_choice_for(profile: Profile) -> RouteChoice:
    return RouteChoice(
        full_tunnel=profile.routing.mode is TunnelMode.FULL,
        routes=profile.routing.routes,
        dns_servers=profile.dns.servers,
        use_pushed_dns=profile.dns.use_pushed,
        search_domains=profile.dns.search_domains,
        split_dns_domains=profile.dns.split_domains,
    )


def ikev1_config_factory(
    profile: Profile, secrets: Mapping[str, str], *, mode: str, files: Files = None
) -> Callable[[str, str], IKEv1Config]:
    """IKEv1 settings for ``profile``, completed once our and the gateway's addresses are known.

    Main Mode authenticates with the pre-shared key, or with RSA signatures when the profile signs in
    with a certificate (IKEv1 knows no ECDSA here).
    """
    with_certificate = profile.auth.method is AuthMethod.CERTIFICATE
    psk = secrets.get(SecretKind.PSK.value, "")
    certificate, private_key, ca = (
        _client_certificate(profile, secrets, files) if with_certificate else (None, None, ())
    )
    if with_certificate and not isinstance(private_key, rsa.RSAPrivateKey):
        raise StackError("IKEv1 certificate sign-in needs an RSA key; use IKEv2 for ECDSA certificates", "config")
    if not with_certificate and not psk:
        raise StackError(
            "no pre-shared key was given for this connection; enter the key from your administrator", "config"
        )
    username = profile.auth.username
    password = secrets.get(SecretKind.PASSWORD.value, "")

    l2tp, xauth = mode == "l2tp", mode == "xauth"

    def make(local: str, peer: str) -> IKEv1Config:
        if mode == "transport":
            child = ChildConfig(
                mode="transport",
                local_ts=TrafficSelector.host(local),
                remote_ts=TrafficSelector.host(peer),
                esp_proposals=profile.crypto.esp_proposals,
            )
        elif l2tp:
            child = ChildConfig(
                mode="transport",
                local_ts=TrafficSelector.host(local, UDP, 0),
                remote_ts=TrafficSelector.host(peer, UDP, L2TP_PORT),
                esp_proposals=profile.crypto.esp_proposals,
            )
        else:
            child = ChildConfig(
                mode="tunnel",
                remote_ts=TrafficSelector.network("0.0.0.0/0"),
                esp_proposals=profile.crypto.esp_proposals,
            )
        try:
            return IKEv1Config(
                local_address=local,
                peer_address=peer,
                auth="rsa" if with_certificate else "psk",
                psk=psk or None,
                certificate=certificate,
                private_key=private_key,
                ca_certificates=ca,
                local_id=profile.auth.local_id or None,
                peer_id=profile.auth.remote_id or None,
                ike_proposals=profile.crypto.ike_proposals,
                allow_legacy=profile.crypto.allow_legacy,
                child=child,
                xauth=xauth,
                xauth_username=username if xauth else None,
                xauth_password=password if xauth else None,
                mode_config=xauth,
            )
        except ValueError as exc:
            raise StackError(f"this connection's IPsec settings cannot work: {exc}", "config") from None

    return make


Files = Mapping[str, str] | None  # field -> PEM text; None: read the paths (we run as the user)


def _read_pem(path: str, what: str, field: str, files: Files) -> bytes:
    if files is not None:  # the helper never opens a path a user named
        text = files.get(field)
        if text is None:
            raise StackError(f"the {what} {path!r} was not sent with the connect request", "config")
        return text.encode()
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise StackError(f"cannot read the {what} {path!r}: {exc.strerror}", "config") from None


def _certificates(path: str, what: str, field: str, files: Files) -> tuple[x509.Certificate, ...]:
    if not path:
        return ()
    try:
        return tuple(x509.load_pem_x509_certificates(_read_pem(path, what, field, files)))
    except ValueError:
        raise StackError(f"the {what} {path!r} holds no PEM certificate", "config") from None


def _client_certificate(
    profile: Profile, secrets: Mapping[str, str], files: Files
) -> tuple[x509.Certificate, Any, tuple[x509.Certificate, ...]]:
    """The profile's certificate, its private key (decrypted with the saved passphrase) and the CAs."""
    auth = profile.auth
    chain = _certificates(auth.certificate_file, "certificate file", "certificate_file", files)
    if not chain:
        raise StackError("certificate sign-in needs a certificate file", "config")
    passphrase = secrets.get(SecretKind.KEY_PASSPHRASE.value)
    try:
        private_key = serialization.load_pem_private_key(
            _read_pem(
                auth.private_key_file or auth.certificate_file,
                "private key file",
                "private_key_file" if auth.private_key_file else "certificate_file",
                files,
            ),
            passphrase.encode() if passphrase else None,
        )
    except (ValueError, TypeError):
        raise StackError("the private key could not be read: wrong passphrase or not a PEM key", "config") from None
    return chain[0], private_key, _certificates(auth.ca_file, "CA certificate file", "ca_file", files)


def ikev2_config_factory(
    profile: Profile, secrets: Mapping[str, str], host: str, files: Files = None
) -> Callable[[str, str], IKEv2Config]:
    """IKEv2 settings for ``profile``: PSK, a client certificate, or EAP-MSCHAPv2 with the gateway's certificate."""
    auth = profile.auth
    ca = _certificates(auth.ca_file, "CA certificate file", "ca_file", files)
    certificate: x509.Certificate | None = None
    private_key: Any = None
    if auth.method is AuthMethod.CERTIFICATE:
        certificate, private_key, ca = _client_certificate(profile, secrets, files)
    psk = secrets.get(SecretKind.PSK.value, "")
    if auth.method is AuthMethod.PSK and not psk:
        raise StackError("no pre-shared key was given for this connection", "config")
    kind = {AuthMethod.PSK: "psk", AuthMethod.CERTIFICATE: "cert"}.get(auth.method, "eap")
    if kind == "eap" and not ca:
        raise StackError(
            "EAP sign-in needs the gateway's CA certificate (ca_file) to check who the gateway is", "config"
        )

    def make(local: str, peer: str) -> IKEv2Config:
        try:
            return IKEv2Config(
                local_address=local,
                peer_address=peer,
                auth=kind,  # type: ignore[arg-type]
                psk=psk or None,
                certificate=certificate,
                certificate_chain=(),
                private_key=private_key,
                ca_certificates=ca,
                local_id=auth.local_id or (auth.username if kind != "cert" else None) or None,
                peer_id=auth.remote_id or host,
                eap_username=auth.username if kind == "eap" else None,
                eap_password=secrets.get(SecretKind.PASSWORD.value) if kind == "eap" else None,
                ike_proposals=profile.crypto.ike_proposals,
                allow_legacy=profile.crypto.allow_legacy,
                child=V2ChildConfig(esp_proposals=profile.crypto.esp_proposals),
            )
        except ValueError as exc:
            raise StackError(f"this connection's IKEv2 settings cannot work: {exc}", "config") from None

    return make


def build_stack(
    profile: Profile,
    secrets: Mapping[str, str],
    status: StatusSink,
    applier: NetworkApplier,
    *,
    gateway: str | None = None,
    protocol: Protocol | None = None,
    files: Files = None,
) -> VpnStack:
    """The stack for ``profile``'s first (or the given) gateway and protocol."""
    if protocol is None and profile.protocol is Protocol.AUTOMATIC:
        from wizard.stacks.automatic import AutomaticStack

        def build(choice: Protocol, relay: StatusSink) -> VpnStack:
            return build_stack(profile, secrets, relay, applier, gateway=gateway, protocol=choice, files=files)

        return AutomaticStack(profile, secrets, status, applier, build=build)
    protocol = protocol or profile.protocols[0]
    host = gateway or profile.gateways[0].host
    if SecretKind.PASSWORD in profile.auth.secrets and not secrets.get(SecretKind.PASSWORD.value):
        raise StackError("no password was given for this connection", "config")
    routing = route_choice_for(profile)
    if protocol is Protocol.IKEV2:
        from wizard.stacks.ipsec_stacks import Ikev2Stack

        return Ikev2Stack(host, ikev2_config_factory(profile, secrets, host, files), status, applier, routing=routing)
    config = ppp_config_for(profile, secrets)
    if protocol is Protocol.L2TP:
        from wizard.stacks.l2tp import L2tpStack

        return L2tpStack(host, config, status, applier, routing=routing)
    if protocol is Protocol.PPTP:
        from wizard.stacks.pptp import PptpStack

        return PptpStack(host, config, status, applier, routing=routing)
    if protocol is Protocol.L2TP_IPSEC:
        from wizard.stacks.ipsec_stacks import L2tpIpsecStack

        ike = ikev1_config_factory(profile, secrets, mode="l2tp", files=files)
        return L2tpIpsecStack(host, config, status, applier, routing=routing, ike_config=ike)
    if protocol is Protocol.IKEV1_XAUTH:
        from wizard.stacks.ipsec_stacks import IkeTunnelStack

        ike = ikev1_config_factory(profile, secrets, mode="xauth", files=files)
        return IkeTunnelStack(host, ike, status, applier, routing=routing)
    if protocol is Protocol.IPSEC_TRANSPORT:
        from wizard.stacks.ipsec_stacks import IpsecTransportStack

        return IpsecTransportStack(
            host, ikev1_config_factory(profile, secrets, mode="transport", files=files), status, applier
        )
    raise StackError(
        f"{protocol.label} is not available yet in this version; supported: " + ", ".join(p.label for p in SUPPORTED),
        "config",
    )


def build_stack_in_helper(
    profile: Profile,
    secrets: Mapping[str, str],
    status: StatusSink,
    applier: NetworkApplier,
    files: Mapping[str, str] | None = None,
) -> VpnStack:
    """The helper's factory: certificate files only from the request, never from disk."""
    return build_stack(profile, secrets, status, applier, files=files or {})
