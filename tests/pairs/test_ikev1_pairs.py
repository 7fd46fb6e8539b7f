"""IKEv1 pairs in memory: our initiator against our responder over LossyLinks with a simulated clock."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.pairs.ikev1_harness import CLIENT, GATEWAY, NAT_PUBLIC, Pair, client_config, gateway_config
from tests.pairs.netsim import Impairment
from wizard.engine.ike.v1.config import ChildConfig, ModeConfigLease
from wizard.engine.ike.v1.connection import State
from wizard.engine.ike.v1.events import (
    ChildSA,
    ChildSADeleted,
    ChildSARekeyed,
    ChildSAUp,
    Closed,
    ConnectionFailed,
    ModeConfigReceived,
    NATDetected,
    PeerDead,
    PhaseOneUp,
    XauthDone,
    XauthRequested,
)
from wizard.engine.ike.v1.identities import TrafficSelector
from wizard.engine.ike.v1.natt import NON_ESP_MARKER

L2TP_CLIENT = ChildConfig(mode="transport", local_ts=TrafficSelector.host(CLIENT, 17, 1701),
                          remote_ts=TrafficSelector.host(GATEWAY, 17, 1701))  # fmt: skip
L2TP_GATEWAY = ChildConfig(mode="transport", local_ts=TrafficSelector.host(GATEWAY, 17, 1701),
                           remote_ts=TrafficSelector(TrafficSelector.host(CLIENT).start, TrafficSelector.host(CLIENT).end, 17, 0))  # fmt: skip


def _up(p: Pair) -> bool:
    return bool(p.events("i", ChildSAUp)) and bool(p.events("r", ChildSAUp))


def assert_pair_matches(a: ChildSA, b: ChildSA) -> None:
    """Our inbound is their outbound, with the same keys."""
    assert a.spi_in == b.spi_out and a.spi_out == b.spi_in
    assert a.enc_key_in == b.enc_key_out and a.enc_key_out == b.enc_key_in
    assert a.auth_key_in == b.auth_key_out and a.auth_key_out == b.auth_key_in
    assert a.enc_key_in != a.enc_key_out
    assert a.cipher == b.cipher and a.integrity == b.integrity and a.mode == b.mode
    assert a.local_ts == b.remote_ts and a.remote_ts == b.local_ts
    assert len(a.enc_key_in) == a.cipher.keymat_size
    if a.integrity is not None:
        assert len(a.auth_key_in) == a.integrity.key_size


def establish(p: Pair, until: float = 120.0) -> tuple[ChildSA, ChildSA]:
    p.start()
    p.run(until, stop=_up)
    failed = p.events("i", ConnectionFailed) + p.events("r", ConnectionFailed)
    assert not failed, failed
    ic, rc = p.events("i", ChildSAUp)[0].sa, p.events("r", ChildSAUp)[0].sa
    assert_pair_matches(ic, rc)
    return ic, rc


def test_main_mode_psk_transport_for_l2tp() -> None:
    p = Pair(client_config(child=L2TP_CLIENT), gateway_config(child=L2TP_GATEWAY))
    ic, _rc = establish(p)
    (i1,), (r1,) = p.events("i", PhaseOneUp), p.events("r", PhaseOneUp)
    assert i1.suite == r1.suite == "AES-256/SHA-256/MODP-2048"
    assert i1.peer_id == GATEWAY and r1.peer_id == CLIENT and i1.auth == "psk" and not i1.aggressive
    assert ic.mode == "transport" and not ic.encapsulated
    assert str(ic.local_ts) == f"{CLIENT}[17/1701]" and str(ic.remote_ts) == f"{GATEWAY}[17/1701]"
    assert ic.cipher.name == "aes256" and ic.integrity is not None and ic.integrity.name == "sha256"
    assert p.i.state is State.ESTABLISHED and p.r.state is State.ESTABLISHED
    p.i.close(p.now)
    p.run(p.now + 5)
    assert p.events("i", Closed) and p.events("r", ChildSADeleted)[0].by_peer
    assert p.events("r", Closed)[0].by_peer


def test_legacy_suite_when_both_allow_it() -> None:
    icfg = client_config(ike_proposals=("3des-sha1-modp1024",), allow_legacy=True,
                         child=ChildConfig(esp_proposals=("3des-sha1",)))  # fmt: skip
    rcfg = gateway_config(ike_proposals=("aes128-sha1-modp1024", "3des-sha1-modp1024"), allow_legacy=True,
                          child=ChildConfig(esp_proposals=("aes128-sha1", "3des-sha1")))  # fmt: skip
    p = Pair(icfg, rcfg)
    ic, _ = establish(p)
    assert p.events("i", PhaseOneUp)[0].suite == "3DES/SHA-1/MODP-1024"
    assert ic.cipher.name == "3des" and len(ic.enc_key_in) == 24


def _ca(name: str) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))  # fmt: skip
    return cert, key


def _leaf(ca: tuple[x509.Certificate, rsa.RSAPrivateKey], cn: str, san: list[x509.GeneralName]) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "test"), x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(ca[0].subject).public_key(key.public_key()).serial_number(abs(hash(cn)) % 10**9 + 2)
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName(san), critical=False)
            .sign(ca[1], hashes.SHA256()))  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def pki() -> dict[str, tuple[x509.Certificate, rsa.RSAPrivateKey]]:
    ca = _ca("Test CA")
    other_ca = _ca("Evil CA")
    import ipaddress

    return {
        "ca": ca,
        "other_ca": other_ca,
        "client": _leaf(ca, "client.test", [x509.DNSName("client.test")]),
        "gateway": _leaf(ca, "gateway.test", [x509.IPAddress(ipaddress.ip_address(GATEWAY)), x509.DNSName("gateway.test")]),
        "rogue_gateway": _leaf(other_ca, "gateway.test", [x509.IPAddress(ipaddress.ip_address(GATEWAY))]),
    }


def _when() -> dt.datetime:
    return dt.datetime(2024, 6, 1, tzinfo=dt.UTC)


def _cert_configs(pki: dict[str, tuple[x509.Certificate, rsa.RSAPrivateKey]], gateway: str = "gateway") -> tuple[object, object]:
    icfg = client_config(auth="rsa", psk=None, certificate=pki["client"][0], private_key=pki["client"][1],
                         ca_certificates=(pki["ca"][0],), local_id="client.test", peer_id=GATEWAY, wall_clock=_when)  # fmt: skip
    rcfg = gateway_config(auth="rsa", psk=None, certificate=pki[gateway][0], private_key=pki[gateway][1],
                          ca_certificates=(pki["ca"][0],), local_id=GATEWAY, wall_clock=_when)  # fmt: skip
    return icfg, rcfg


def test_main_mode_certificates(pki: dict[str, tuple[x509.Certificate, rsa.RSAPrivateKey]]) -> None:
    icfg, rcfg = _cert_configs(pki)
    p = Pair(icfg, rcfg)  # type: ignore[arg-type]
    establish(p)
    i1, r1 = p.events("i", PhaseOneUp)[0], p.events("r", PhaseOneUp)[0]
    assert i1.auth == r1.auth == "rsa"
    assert i1.peer_id == GATEWAY and r1.peer_id == "client.test"


def test_untrusted_certificate_fails_plainly(pki: dict[str, tuple[x509.Certificate, rsa.RSAPrivateKey]]) -> None:
    icfg, rcfg = _cert_configs(pki, gateway="rogue_gateway")
    p = Pair(icfg, rcfg)  # type: ignore[arg-type]
    p.start()
    p.run(120)
    (failed,) = p.events("i", ConnectionFailed)
    assert "certificate of the gateway is not trusted" in failed.reason
    assert "not issued by the configured CA" in failed.reason
    assert not p.events("i", ChildSAUp)


def test_certificate_identity_must_match(pki: dict[str, tuple[x509.Certificate, rsa.RSAPrivateKey]]) -> None:
    icfg, rcfg = _cert_configs(pki)
    rcfg = replace(rcfg, local_id="other.test")  # type: ignore[type-var]
    p = Pair(icfg, replace(rcfg))  # type: ignore[arg-type]
    p.start()
    p.run(120)
    (failed,) = p.events("i", ConnectionFailed)
    assert "identity mismatch" in failed.reason and "other.test" in failed.reason


def test_aggressive_mode_psk() -> None:
    p = Pair(client_config(aggressive=True), gateway_config(aggressive=True))
    establish(p)
    assert p.events("i", PhaseOneUp)[0].aggressive and p.events("r", PhaseOneUp)[0].aggressive


def test_quick_mode_pfs() -> None:
    child = ChildConfig(esp_proposals=("aes128gcm16-modp2048", "aes128-sha256-modp2048"))
    p = Pair(client_config(child=child), gateway_config(child=ChildConfig(esp_proposals=("aes128-sha256-modp2048",))))
    ic, rc = establish(p)
    assert ic.pfs_group == rc.pfs_group == 14
    assert ic.cipher.name == "aes128" and ic.integrity is not None


def test_gcm_esp_has_salted_keys() -> None:
    child = ChildConfig(esp_proposals=("aes256gcm16",))
    ic, _ = establish(Pair(client_config(child=child), gateway_config(child=child)))
    assert ic.integrity is None and len(ic.enc_key_in) == 36 and ic.auth_key_in == b""


def _xauth_pair(password: str = "pass", **ikw: object) -> Pair:
    users = {"alice": "pass"}
    icfg = client_config(xauth=True, xauth_username="alice", xauth_password=password, mode_config=True,
                         child=ChildConfig(mode="tunnel", remote_ts=TrafficSelector.network("0.0.0.0/0")), **ikw)  # fmt: skip
    rcfg = gateway_config(
        xauth=True,
        xauth_check=lambda u, pw: users.get(u) == pw,
        mode_config_provider=lambda user: ModeConfigLease("10.88.4.1", "255.255.255.0", ("10.77.0.53", "10.77.0.54")),
        child=ChildConfig(mode="tunnel", local_ts=TrafficSelector.network("0.0.0.0/0")),
    )
    return Pair(icfg, rcfg)


def test_tunnel_mode_with_xauth_and_mode_config() -> None:
    p = _xauth_pair()
    ic, _rc = establish(p)
    assert p.events("i", PhaseOneUp)[0].auth == "psk+xauth"
    assert p.events("i", XauthRequested)[0].answered_from_config
    assert p.events("i", XauthDone)[0].success and p.events("r", XauthDone)[0].username == "alice"
    (cfg,) = p.events("i", ModeConfigReceived)
    assert cfg.address == "10.88.4.1" and cfg.dns == ("10.77.0.53", "10.77.0.54") and cfg.netmask == "255.255.255.0"
    assert ic.mode == "tunnel" and str(ic.local_ts) == "10.88.4.1" and str(ic.remote_ts) == "0.0.0.0/0"
    assert p.i.virtual_address == "10.88.4.1"
    kinds = [type(e).__name__ for e in p.iev]
    assert kinds.index("XauthDone") < kinds.index("ModeConfigReceived") < kinds.index("ChildSAUp")


def test_xauth_credentials_asked_interactively() -> None:
    p = _xauth_pair()
    p.i = type(p.i)("initiator", replace(p.icfg, xauth_username=None, xauth_password=None))
    p.start()
    p.run(30, stop=lambda q: bool(q.events("i", XauthRequested)))
    assert not p.events("i", XauthRequested)[0].answered_from_config
    p.i.submit_xauth("alice", "pass", p.now)
    p.run(60, stop=_up)
    assert p.events("i", ChildSAUp)


def test_xauth_wrong_password() -> None:
    p = _xauth_pair(password="nope")
    p.start()
    p.run(60)
    assert not p.events("i", XauthDone)[0].success
    (failed,) = p.events("i", ConnectionFailed)
    assert failed.reason == "the gateway rejected the user name or password (XAUTH)"
    assert "wrong XAUTH user name or password" in p.events("r", ConnectionFailed)[0].reason


def test_nat_traversal_floats_to_4500() -> None:
    p = Pair(client_config(child=L2TP_CLIENT), gateway_config(child=replace(L2TP_GATEWAY, remote_ts=None)), nat=True)
    ic, rc = establish(p)
    (i_nat,), (r_nat,) = p.events("i", NATDetected), p.events("r", NATDetected)
    assert i_nat.local_behind_nat and not i_nat.peer_behind_nat and i_nat.port == 4500
    assert r_nat.peer_behind_nat and not r_nat.local_behind_nat
    assert ic.encapsulated and rc.encapsulated
    assert ic.local_port == ic.peer_port == 4500 and rc.local_port == 4500 and rc.peer_port == 4500 + 30000
    assert rc.peer_address == NAT_PUBLIC and rc.nat_oa_peer == CLIENT
    # From message 5 on every datagram leaves port 4500 for port 4500 with the non-ESP marker.
    ports = [(src, dst) for _, src, dst in p.i_sent]
    assert ports[:2] == [(500, 500), (500, 500)] and set(ports[2:]) == {(4500, 4500)}
    assert all(data.startswith(NON_ESP_MARKER) for data, src, _ in p.i_sent if src == 4500)


def test_forced_encapsulation_without_nat() -> None:
    p = Pair(client_config(force_encapsulation=True), gateway_config())
    ic, rc = establish(p)
    assert ic.encapsulated and rc.encapsulated and p.events("r", NATDetected)[0].peer_behind_nat


def test_ipsec_sa_rekey_installs_new_before_deleting_old() -> None:
    child = ChildConfig(lifetime_seconds=300, rekey_margin=60)
    p = Pair(client_config(child=child, dpd_interval=None), gateway_config(child=child, dpd_interval=None))
    ic, _ = establish(p)
    p.run(280, stop=lambda q: bool(q.events("i", ChildSADeleted)) and bool(q.events("r", ChildSADeleted)))
    for side in ("i", "r"):
        (rekeyed,) = p.events(side, ChildSARekeyed)
        (deleted,) = p.events(side, ChildSADeleted)
        evs = p.iev if side == "i" else p.rev
        assert evs.index(rekeyed) < evs.index(deleted)
        assert deleted.sa == rekeyed.old and rekeyed.new.spi_in != rekeyed.old.spi_in
    assert p.events("i", ChildSARekeyed)[0].old == ic
    assert_pair_matches(p.events("i", ChildSARekeyed)[0].new, p.events("r", ChildSARekeyed)[0].new)
    assert p.i.state is State.ESTABLISHED and len(p.i.children) == 1 and len(p.r.children) == 1
    assert p.i.stats.child_rekeys == 1


def test_isakmp_sa_rekey_keeps_children() -> None:
    p = Pair(client_config(ike_lifetime=600, ike_rekey_margin=100, dpd_interval=None), gateway_config(ike_lifetime=600, dpd_interval=None))
    ic, _ = establish(p)
    p.run(560, stop=lambda q: len(q.events("i", PhaseOneUp)) == 2)
    first, second = p.events("i", PhaseOneUp)
    assert second.rekey and second.cookie_i != first.cookie_i
    assert p.events("r", PhaseOneUp)[1].rekey
    assert not p.events("i", ChildSADeleted) and p.i.children == [ic]
    p.run(p.now + 5)
    assert p.r.ike_sa is not None and p.r.ike_sa.cky_i == second.cookie_i
    # The new ISAKMP SA carries the next child rekey.
    assert p.i.rekey_child(p.now)
    p.run(p.now + 30, stop=lambda q: bool(q.events("r", ChildSARekeyed)))
    assert p.events("i", ChildSARekeyed) and p.events("r", ChildSARekeyed)


def test_dpd_notices_a_dead_peer() -> None:
    p = Pair(client_config(dpd_interval=10.0, dpd_retries=3), gateway_config(dpd_interval=10.0))
    establish(p)
    start = p.now
    p.run(start + 5)
    assert not p.events("i", PeerDead)
    p.cut = True
    p.run(start + 200, stop=lambda q: bool(q.events("i", PeerDead)))
    (dead,) = p.events("i", PeerDead)
    assert "stopped answering" in dead.reason
    assert p.events("i", Closed) and p.i.stats.dpd_sent >= 3


def test_dpd_quiet_while_peer_answers() -> None:
    p = Pair(client_config(dpd_interval=10.0), gateway_config(dpd_interval=10.0))
    establish(p)
    p.run(p.now + 100)
    assert not p.events("i", PeerDead) and not p.events("r", PeerDead)
    assert p.i.stats.dpd_sent >= 3 and p.i.state is State.ESTABLISHED


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_lossy_link_still_establishes(seed: int) -> None:
    imp = Impairment(loss=0.2, duplicate=0.2, reorder=0.2)
    icfg = client_config(xauth=True, xauth_username="alice", xauth_password="pass", mode_config=True, retransmit_initial=0.5,
                         child=ChildConfig(mode="tunnel", remote_ts=TrafficSelector.network("0.0.0.0/0")),
                         max_retransmits=8, dpd_interval=None)  # fmt: skip
    rcfg = gateway_config(xauth=True, xauth_check=lambda u, pw: True, retransmit_initial=0.5, max_retransmits=8,
                          mode_config_provider=lambda user: ModeConfigLease("10.88.4.9"), dpd_interval=None,
                          child=ChildConfig(mode="tunnel", local_ts=TrafficSelector.network("0.0.0.0/0")))  # fmt: skip
    p = Pair(icfg, rcfg, impairment=imp, seed=seed)
    establish(p, until=300)
    assert len(p.events("i", ChildSAUp)) == 1 and len(p.events("r", ChildSAUp)) == 1
    assert p.i.stats.malformed_dropped == 0 and p.r.stats.malformed_dropped == 0


def test_wrong_psk() -> None:
    p = Pair(client_config(psk="guess"), gateway_config())
    p.start()
    p.run(120)
    (failed,) = p.events("i", ConnectionFailed)
    assert failed.reason == "the gateway could not decrypt our identity: the pre-shared key is probably wrong"
    assert "pre-shared key is probably wrong" in p.events("r", ConnectionFailed)[0].reason


def test_no_proposal_chosen_names_the_legacy_fix() -> None:
    rcfg = gateway_config(ike_proposals=("3des-sha1-modp1024",), allow_legacy=True)
    p = Pair(client_config(ike_proposals=("aes256-sha256-modp2048", "aes128-sha1-modp2048")), rcfg)
    p.start()
    p.run(120)
    (failed,) = p.events("i", ConnectionFailed)
    assert failed.notify == "NO_PROPOSAL_CHOSEN"
    assert failed.reason == (
        "NO_PROPOSAL_CHOSEN: we offered AES-256/SHA-256/MODP-2048, AES-128/SHA-1/MODP-2048 for the IKE (phase 1) SA; "
        "the gateway accepts none of them, only 3DES/SHA-1/MODP-1024, which this profile's crypto policy forbids; "
        "enable legacy algorithms to connect"
    )
    first_responder = p.responders[0]
    assert first_responder.state is State.CLOSED
    assert p.rev and "the client offered AES-256/SHA-256/MODP-2048" in p.rev[0].reason  # type: ignore[attr-defined]


def test_esp_no_proposal_chosen() -> None:
    p = Pair(client_config(child=ChildConfig(esp_proposals=("aes256-sha512",))),
             gateway_config(child=ChildConfig(esp_proposals=("aes128-sha1",))))  # fmt: skip
    p.start()
    p.run(120)
    (failed,) = p.events("i", ConnectionFailed)
    assert failed.reason.startswith("NO_PROPOSAL_CHOSEN: we offered AES-256/SHA-512 for the IPsec SA (transport mode)")
    assert "only AES-128/SHA-1; add it to this profile's ESP proposals" in failed.reason


def test_peer_identity_mismatch() -> None:
    p = Pair(client_config(peer_id="vpn.example.com"), gateway_config())
    p.start()
    p.run(60)
    (failed,) = p.events("i", ConnectionFailed)
    assert failed.reason.startswith("identity mismatch: the gateway identified itself as IPv4 address 192.0.2.1")
    assert "host name vpn.example.com" in failed.reason


def test_traffic_selector_rejected() -> None:
    rcfg = gateway_config(child=ChildConfig(local_ts=TrafficSelector.host(GATEWAY, 17, 1701)))
    p = Pair(client_config(child=ChildConfig(remote_ts=TrafficSelector.network("10.0.0.0/8"))), rcfg)
    p.start()
    p.run(60)
    (failed,) = p.events("i", ConnectionFailed)
    assert "rejected the traffic selectors" in failed.reason and "10.0.0.0/8" in failed.reason


def test_no_reply_from_gateway() -> None:
    p = Pair(client_config(), gateway_config())
    p.cut = True
    p.start()
    p.run(400)
    (failed,) = p.events("i", ConnectionFailed)
    assert failed.reason.startswith("no reply from the gateway during the IKE (phase 1) negotiation")


def test_gateway_initiated_rekeys_with_virtual_address() -> None:
    """The gateway may replace the ISAKMP SA and the IPsec SA itself (strongSwan does when its timers fire)."""
    p = _xauth_pair()
    p.icfg = replace(p.icfg, dpd_interval=None)
    ic, _ = establish(p)
    assert p.r.rekey_child(p.now)
    p.run(p.now + 30, stop=lambda q: bool(q.events("i", ChildSARekeyed)))
    (rekeyed,) = p.events("i", ChildSARekeyed)
    assert rekeyed.old == ic and str(rekeyed.new.local_ts) == "10.88.4.1"
    assert_pair_matches(rekeyed.new, p.events("r", ChildSARekeyed)[0].new)
    assert p.r.rekey_ike(p.now)
    p.run(p.now + 30, stop=lambda q: len(q.events("r", PhaseOneUp)) == 2)
    assert p.events("r", PhaseOneUp)[1].rekey and p.events("i", PhaseOneUp)[1].rekey
    # XAUTH runs again on the replacement ISAKMP SA, answered from the stored credentials.
    p.run(p.now + 30, stop=lambda q: len(q.events("r", XauthDone)) == 2)
    assert [e.success for e in p.events("r", XauthDone)] == [True, True]
    assert len(p.events("i", XauthDone)) == 2
    p.run(p.now + 30)
    assert p.i.state is State.ESTABLISHED and p.r.state is State.ESTABLISHED
    assert not p.events("i", Closed) and len(p.i.children) == 1


def test_mode_config_push_is_acknowledged() -> None:
    from wizard.engine.ike.payloads import Attribute, ExchangeType, Payload
    from wizard.engine.ike.v1 import informational as info
    from wizard.engine.ike.v1.constants import CfgAttr, CfgType, PayloadType
    from wizard.engine.ike.v1.messages import AttributePayload

    p = Pair(client_config(), gateway_config())
    establish(p)
    sa = p.r.ike_sa
    assert sa is not None
    push = AttributePayload(CfgType.SET, 9, (Attribute.tlv(CfgAttr.INTERNAL_IP4_ADDRESS, bytes([10, 9, 9, 9])),
                                             Attribute.tlv(CfgAttr.UNITY_BANNER, b"welcome")))  # fmt: skip
    raw = info.protected(sa, 0x1234, [Payload(PayloadType.ATTRIBUTE, push.encode())], ExchangeType.TRANSACTION)
    p.i.receive_datagram(raw, p.now)
    (received,) = p.events("i", ModeConfigReceived) or [p.i.next_event()]
    assert isinstance(received, ModeConfigReceived) and received.address == "10.9.9.9" and received.banner == "welcome"
    (ack,) = p.i.datagrams_to_send()
    assert ack.data[18] == ExchangeType.TRANSACTION and ack.data[20:24] == (0x1234).to_bytes(4, "big")


def test_aggressive_mode_behind_nat() -> None:
    p = Pair(client_config(aggressive=True), gateway_config(aggressive=True, child=ChildConfig(remote_ts=None)), nat=True)
    ic, rc = establish(p)
    assert ic.encapsulated and rc.encapsulated and rc.peer_address == NAT_PUBLIC
    # Aggressive Mode moves to port 4500 with its third message.
    assert [src for _, src, _ in p.i_sent][:2] == [500, 4500]


def test_certificates_with_xauth(pki: dict[str, tuple[x509.Certificate, rsa.RSAPrivateKey]]) -> None:
    icfg, rcfg = _cert_configs(pki)
    icfg = replace(icfg, xauth=True, xauth_username="bob", xauth_password="pw")  # type: ignore[type-var]
    rcfg = replace(rcfg, xauth=True, xauth_check=lambda u, pw: (u, pw) == ("bob", "pw"))  # type: ignore[type-var]
    p = Pair(icfg, rcfg)  # type: ignore[arg-type]
    establish(p)
    assert p.events("i", PhaseOneUp)[0].auth == "rsa+xauth" and p.events("r", XauthDone)[0].username == "bob"
