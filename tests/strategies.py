"""Hypothesis strategies that build only valid profiles."""

from __future__ import annotations

import string

from hypothesis import strategies as st

from wizard.profiles.model import (
    DNS,
    Auth,
    AuthMethod,
    CredentialPolicy,
    CryptoPolicy,
    Gateway,
    KillSwitch,
    MppePolicy,
    PPPAuth,
    PPPOptions,
    Profile,
    Protocol,
    Reconnect,
    Routing,
    SecretKind,
    TunnelMode,
)

_label = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF, exclude_categories=("Cs",)), max_size=30)
_dns_label = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12)
hosts = st.one_of(
    st.ip_addresses().map(str),
    st.lists(_dns_label, min_size=1, max_size=4).map(lambda parts: ".".join(parts) + ".example"),
)
domains = st.lists(_dns_label, min_size=1, max_size=3).map(lambda p: ".".join(p) + ".corp")
networks = st.ip_addresses(v=4).map(lambda a: f"{a}/32") | st.ip_addresses(v=6).map(lambda a: f"{a}/128")

names = (
    st.text(st.characters(min_codepoint=33, max_codepoint=0x2FFF, exclude_categories=("Cs",)), min_size=1, max_size=1)
    .flatmap(lambda first: _label.map(lambda rest: (first + rest).strip() or first))
    .filter(lambda n: 1 <= len(n) <= 100)
)

gateways = st.builds(Gateway, host=hosts, label=_label, region=_label)

_strong_ike = st.sampled_from(["aes256-sha256-modp2048", "aes128gcm16-prfsha256-ecp256", "aes256-sha512-curve25519"])
_weak_ike = st.sampled_from(["3des-sha1-modp1024", "des-md5-modp768", "aes128-sha1-modp1536"])
_strong_esp = st.sampled_from(["aes256gcm16", "aes128-sha256", "aes256ctr-sha384"])
_weak_esp = st.sampled_from(["3des-sha1", "des-md5"])


@st.composite
def crypto_policies(draw: st.DrawFn) -> CryptoPolicy:
    legacy = draw(st.booleans())
    ike = _strong_ike | _weak_ike if legacy else _strong_ike
    esp = _strong_esp | _weak_esp if legacy else _strong_esp
    return CryptoPolicy(
        ike_proposals=tuple(draw(st.lists(ike, min_size=1, max_size=4, unique=True))),
        esp_proposals=tuple(draw(st.lists(esp, min_size=1, max_size=4, unique=True))),
        allow_legacy=legacy,
    )


@st.composite
def auths(draw: st.DrawFn, username_allowed: bool) -> Auth:
    method = draw(st.sampled_from(list(AuthMethod)))
    secrets = set(draw(st.lists(st.sampled_from(list(SecretKind)), unique=True)))
    if method in (AuthMethod.PASSWORD, AuthMethod.EAP_MSCHAPV2):
        secrets.add(SecretKind.PASSWORD)
    if method is AuthMethod.PSK:
        secrets.add(SecretKind.PSK)
    return Auth(
        method=method,
        username=draw(_label.filter(str.isprintable)) if username_allowed else "",
        secrets=tuple(sorted(secrets)),
        ppp_methods=tuple(draw(st.lists(st.sampled_from(list(PPPAuth)), min_size=1, unique=True))),
        certificate_file="/etc/cert.pem" if method is AuthMethod.CERTIFICATE else draw(st.sampled_from(["", "c.pem"])),
        local_id=draw(_label),
        remote_id=draw(_label),
    )


@st.composite
def profiles(draw: st.DrawFn) -> Profile:
    crypto = draw(crypto_policies())
    protocol = draw(st.sampled_from(list(Protocol)))
    fallback: tuple[Protocol, ...] = ()
    if protocol is Protocol.AUTOMATIC:
        choices = [
            p for p in Protocol if p is not Protocol.AUTOMATIC and (crypto.allow_legacy or p is not Protocol.PPTP)
        ]
        fallback = tuple(draw(st.lists(st.sampled_from(choices), min_size=1, unique=True)))
    policy = draw(st.sampled_from(list(CredentialPolicy)))
    mode = draw(st.sampled_from(list(TunnelMode)))
    routes = tuple(draw(st.lists(networks, max_size=3)))
    initial = draw(st.floats(0.1, 100))
    return Profile(
        name=draw(names),
        protocol=protocol,
        gateways=tuple(draw(st.lists(gateways, min_size=1, max_size=3))),
        auth=draw(auths(policy is not CredentialPolicy.NEVER)),
        fallback=fallback,
        crypto=crypto,
        ppp=PPPOptions(
            mppe=draw(st.sampled_from(list(MppePolicy))),
            mppe_bits=tuple(draw(st.lists(st.sampled_from([40, 56, 128]), min_size=1, unique=True))),
            mppe_stateful=draw(st.booleans()),
            mru=draw(st.integers(576, 1500)),
            lcp_echo_interval=draw(st.integers(0, 3600)),
            lcp_echo_failures=draw(st.integers(1, 100)),
            ipv6=draw(st.booleans()),
        ),
        routing=Routing(mode=mode, routes=routes, use_pushed_routes=draw(st.booleans()) if routes else True),
        dns=DNS(
            servers=tuple(draw(st.lists(st.ip_addresses().map(str), max_size=3))),
            search_domains=tuple(draw(st.lists(domains, max_size=2))),
            split_domains=tuple(draw(st.lists(domains, max_size=2))),
            use_pushed=draw(st.booleans()),
        ),
        kill_switch=KillSwitch(enabled=draw(st.booleans()), allow_lan=draw(st.booleans())),
        reconnect=Reconnect(
            enabled=draw(st.booleans()),
            max_attempts=draw(st.integers(0, 1000)),
            initial_delay=initial,
            max_delay=draw(st.floats(initial, 86400)),
        ),
        branding=draw(st.sampled_from(["", "acme", "corp.vpn-2"])),
        credential_policy=policy,
    )
