"""IKEv2 initiator against IKEv2 responder over a simulated lossy network (simulated clock).

Every authentication method, the COOKIE and INVALID_KE_PAYLOAD retries, fragmentation under 20 % loss,
rekeys of child and IKE SAs under ESP traffic with no packet lost (both sides initiating, with and without
PFS), liveness checks on a dead peer, MOBIKE, NAT traversal, and the failures with their plain-language
reasons.
"""

from __future__ import annotations

import pytest

from tests.pairs.ikev2_harness import (
    CLIENT2,
    Pair,
    client_config,
    gateway_config,
    inner_packet,
    pki,
)
from tests.pairs.netsim import Impairment
from wizard.engine.ike.v1.identities import TrafficSelector
from wizard.engine.ike.v2 import events as ev
from wizard.engine.ike.v2.config import ChildConfig
from wizard.engine.ike.v2.connection import State
from wizard.engine.ike.v2.constants import NotifyType, PayloadType
from wizard.engine.ike.v2.messages import NotifyPayload

USERS = {"alice": "correct horse", "DOMAIN\\bob": "battery staple"}


def connect(p: Pair, until: float = 120.0) -> Pair:
    p.start()
    p.run(until, lambda q: q.up() or bool(q.events("i", ev.Closed)))
    return p


def failure(p: Pair, side: str = "i") -> str:
    failed = p.events(side, ev.ConnectionFailed)
    assert failed, f"no failure on {side}: {p.iev if side == 'i' else p.rev}"
    return str(failed[0].reason)


def exchange_traffic(p: Pair, count: int = 5) -> None:
    ri, ii = len(p.rdata.received), len(p.idata.received)
    for n in range(count):
        assert p.send_esp(True, inner_packet(n))
        assert p.send_esp(False, inner_packet(n, "10.50.0.1", "10.88.1.1"))
    p.run(p.now + 1.0)
    assert len(p.rdata.received) - ri == count and len(p.idata.received) - ii == count


def assert_pair_matches(p: Pair) -> tuple[ev.ChildSA, ev.ChildSA]:
    i_sa, r_sa = p.events("i", ev.ChildSAUp)[0].sa, p.events("r", ev.ChildSAUp)[0].sa
    assert (i_sa.spi_in, i_sa.spi_out) == (r_sa.spi_out, r_sa.spi_in)
    assert (i_sa.enc_key_in, i_sa.auth_key_in) == (r_sa.enc_key_out, r_sa.auth_key_out)
    assert (i_sa.enc_key_out, i_sa.auth_key_out) == (r_sa.enc_key_in, r_sa.auth_key_in)
    assert i_sa.enc_key_in != i_sa.enc_key_out
    return i_sa, r_sa


# --- authentication methods ---------------------------------------------------------------------------


def _cert_pair(kind: str, rfc7427: bool) -> Pair:
    k = pki(kind)
    return Pair(
        client_config(auth="cert", certificate=k.client, private_key=k.client_key, ca_certificates=(k.ca,), signature_rfc7427=rfc7427),
        gateway_config(auth="cert", certificate=k.gateway, private_key=k.gateway_key, ca_certificates=(k.ca,),
                       signature_rfc7427=rfc7427),
    )  # fmt: skip


def _eap_pair(methods: tuple[str, ...], *, eap_only: bool = True, user: str = "alice", password: str = "correct horse",
              ca: bool = True) -> Pair:  # fmt: skip
    k = pki()
    return Pair(
        client_config(auth="eap", psk=None, eap_username=user, eap_password=password, ca_certificates=(k.ca,) if ca else (),
                      eap_methods=methods, eap_only=eap_only),
        gateway_config(auth="cert", psk=None, certificate=k.gateway, private_key=k.gateway_key, eap_users=USERS,
                       eap_methods=methods),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("make", "auth", "peer_auth"),
    [
        (lambda: Pair(client_config(), gateway_config()), "psk", "psk"),
        (lambda: _cert_pair("rsa", True), "cert", "RSA/SHA256 (RFC 7427)"),
        (lambda: _cert_pair("rsa", False), "cert", "RSA/SHA1"),
        (lambda: _cert_pair("ecdsa", True), "cert", "ECDSA/SHA256 (RFC 7427)"),
        (lambda: _cert_pair("ecdsa", False), "cert", "ECDSA/SHA256"),
        (lambda: _eap_pair(("mschapv2",), eap_only=False), "eap (EAP-MSCHAPv2)", "RSA/SHA256 (RFC 7427)"),
        (lambda: _eap_pair(("mschapv2",)), "eap (EAP-MSCHAPv2)", "RSA/SHA256 (RFC 7427)"),
        (lambda: _eap_pair(("mschapv2",), ca=False), "eap (EAP-MSCHAPv2)", "eap-only (EAP-MSCHAPv2)"),
        (lambda: _eap_pair(("md5",)), "eap (EAP-MD5)", "RSA/SHA256 (RFC 7427)"),
        (lambda: _eap_pair(("mschapv2", "md5"), user="DOMAIN\\bob", password="battery staple", ca=False),
         "eap (EAP-MSCHAPv2)", "eap-only (EAP-MSCHAPv2)"),
    ],
    ids=["psk", "rsa-rfc7427", "rsa-classic", "ecdsa-rfc7427", "ecdsa-classic", "eap-mschapv2", "eap-mschapv2-with-ca",
         "eap-mschapv2-eap-only", "eap-md5", "eap-domain-user"],
)  # fmt: skip
def test_every_auth_method_sets_up_a_working_tunnel(make: object, auth: str, peer_auth: str) -> None:
    assert callable(make)
    p = connect(make())
    assert p.up(), (p.iev, p.rev)
    up = p.events("i", ev.IKESAUp)[0]
    assert (up.auth, up.peer_auth) == (auth, peer_auth)
    assert_pair_matches(p)
    exchange_traffic(p)
    assert p.i.state is State.ESTABLISHED and p.r.state is State.ESTABLISHED


def test_eap_identity_reaches_the_gateway() -> None:
    p = connect(_eap_pair(("mschapv2",)))
    assert p.events("r", ev.IKESAUp)[0].eap_identity == "alice"


def test_large_certificate_messages_are_fragmented() -> None:
    p = _cert_pair("rsa", True)
    p = connect(p)
    assert p.up()
    assert p.i.stats.fragments_sent > 1 and p.r.stats.fragments_received > 1
    assert p.r.stats.fragments_sent > 1 and p.i.stats.fragments_received > 1


def test_without_fragmentation_support_messages_stay_whole() -> None:
    k = pki()
    p = connect(Pair(client_config(auth="cert", certificate=k.client, private_key=k.client_key, ca_certificates=(k.ca,),
                                   fragmentation=False),
                     gateway_config(auth="cert", certificate=k.gateway, private_key=k.gateway_key, ca_certificates=(k.ca,))))  # fmt: skip
    assert p.up() and p.i.stats.fragments_sent == 0 and p.r.stats.fragments_sent == 0


# --- configuration payload and traffic selectors -------------------------------------------------


def test_config_payload_and_narrowed_selectors() -> None:
    child = ChildConfig(local_ts=(TrafficSelector.network("10.50.0.0/16"),))
    p = connect(Pair(client_config(), gateway_config(child=child)))
    assert p.up()
    cfg = p.events("i", ev.ConfigReceived)[0]
    assert (cfg.address, cfg.dns, cfg.split_include) == ("10.88.1.1", ("10.77.0.53", "10.77.0.54"), ("10.50.0.0/16",))
    i_sa, r_sa = assert_pair_matches(p)
    assert str(i_sa.local_ts) == "10.88.1.1" and str(i_sa.remote_ts) == "10.50.0.0/16"
    assert str(r_sa.remote_ts) == "10.88.1.1" and p.i.virtual_address == "10.88.1.1"


def test_transport_mode_host_to_host() -> None:
    child = ChildConfig(mode="transport")
    p = connect(Pair(client_config(child=child), gateway_config(child=child, lease_provider=None)))
    i_sa, r_sa = assert_pair_matches(p)
    assert i_sa.mode == r_sa.mode == "transport"
    assert (str(i_sa.local_ts), str(i_sa.remote_ts)) == ("192.0.2.10", "192.0.2.1")
    assert not p.events("i", ev.ConfigReceived)


# --- IKE_SA_INIT retries ----------------------------------------------------------------------------


def _first_notify(data: bytes) -> int:
    from wizard.engine.ike.payloads import HEADER_SIZE, decode_chain, decode_header

    h = decode_header(data)
    first = decode_chain(h.next_payload, data[HEADER_SIZE:]).payloads[0]
    return NotifyPayload.decode(first.body).notify_type if first.type == PayloadType.NOTIFY else 0


def test_cookie_path() -> None:
    p = connect(Pair(client_config(), gateway_config(require_cookie=True)))
    assert p.up()
    assert _first_notify(p.r_sent[0][0]) == NotifyType.COOKIE
    assert _first_notify(p.i_sent[0][0]) == 0 and _first_notify(p.i_sent[1][0]) == NotifyType.COOKIE
    assert len(p.responders) == 1  # the COOKIE answer kept no state


def test_invalid_ke_payload_retry() -> None:
    p = connect(Pair(client_config(ike_proposals=("aes256-sha256-modp2048-ecp256",)),
                     gateway_config(ike_proposals=("aes256-sha256-ecp256",))))  # fmt: skip
    assert p.up()
    assert _first_notify(p.r_sent[0][0]) == NotifyType.INVALID_KE_PAYLOAD
    assert p.events("i", ev.IKESAUp)[0].suite.endswith("ecp256")


# --- loss, duplication, fragmentation -------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_fragmented_certificate_exchange_survives_20_percent_loss(seed: int) -> None:
    k = pki()
    p = Pair(client_config(auth="cert", certificate=k.client, private_key=k.client_key, ca_certificates=(k.ca,), fragment_size=600),
             gateway_config(auth="cert", certificate=k.gateway, private_key=k.gateway_key, ca_certificates=(k.ca,),
                            fragment_size=600),
             impairment=Impairment(loss=0.2, duplicate=0.05, reorder=0.1), seed=seed)  # fmt: skip
    connect(p, 200)
    assert p.up(), (p.iev, p.rev)
    assert p.i.stats.fragments_sent >= 3 and p.r.stats.fragments_sent >= 3
    assert p.i.stats.malformed_dropped == 0 and p.r.stats.malformed_dropped == 0


def test_fragment_loss_is_really_exercised() -> None:
    """The seeds above do lose fragments (else the loss test would prove nothing)."""
    k = pki()
    lost = 0
    for seed in range(6):
        p = Pair(client_config(auth="cert", certificate=k.client, private_key=k.client_key, ca_certificates=(k.ca,), fragment_size=600),
                 gateway_config(auth="cert", certificate=k.gateway, private_key=k.gateway_key, ca_certificates=(k.ca,),
                                fragment_size=600),
                 impairment=Impairment(loss=0.2, duplicate=0.05, reorder=0.1), seed=seed)  # fmt: skip
        connect(p, 200)
        lost += p.i2r.dropped + p.r2i.dropped
        assert p.up()
    assert lost > 5


def test_retransmitted_requests_get_the_cached_answer() -> None:
    p = connect(Pair(client_config(), gateway_config(), impairment=Impairment(loss=0.3, duplicate=0.3), seed=3), 200)
    assert p.up()
    assert p.r.stats.responses_replayed + p.r.stats.duplicates > 0
    assert p.i.stats.retransmissions > 0


# --- rekeying under traffic -----------------------------------------------------------------------


def _run_traffic(p: Pair, until: float, every: float = 0.05) -> tuple[int, int]:
    sent_i = sent_r = n = 0
    t = p.now
    while p.now < until:
        if p.now >= t:
            sent_i += p.send_esp(True, inner_packet(n))
            sent_r += p.send_esp(False, inner_packet(n, "10.50.0.1", "10.88.1.1"))
            n += 1
            t += every
        if not p.step():
            break
        p.now = min(p.now, t)
    p.run(p.now + 5)
    return sent_i, sent_r


@pytest.mark.parametrize("pfs", [None, "modp2048"])
@pytest.mark.parametrize("rekeyer", ["client", "gateway"])
def test_rekeys_of_child_and_ike_sa_under_traffic_lose_nothing(pfs: str | None, rekeyer: str) -> None:
    short = ChildConfig(lifetime_seconds=100, rekey_margin=20, pfs_group=pfs)
    long = ChildConfig(lifetime_seconds=100000, pfs_group=pfs)
    fast, slow = {"child": short, "ike_lifetime": 150, "ike_rekey_margin": 30}, {"child": long, "ike_lifetime": 100000}
    icfg = client_config(**(fast if rekeyer == "client" else slow))  # type: ignore[arg-type]
    rcfg = gateway_config(**(fast if rekeyer == "gateway" else slow))  # type: ignore[arg-type]
    p = Pair(icfg, rcfg, impairment=Impairment(reorder=0.1))
    connect(p)
    assert p.up()
    sent_i, sent_r = _run_traffic(p, 420)
    side = p.i if rekeyer == "client" else p.r
    assert side.stats.child_rekeys >= 3 and side.stats.ike_rekeys >= 2
    assert len(p.rdata.received) == sent_i and len(p.idata.received) == sent_r, (p.rdata.lost, p.idata.lost)
    assert p.rdata.lost == 0 and p.idata.lost == 0
    assert p.i.state is State.ESTABLISHED and p.r.state is State.ESTABLISHED
    rekeyed = p.events("i", ev.ChildSARekeyed)
    assert rekeyed and all(e.new.pfs_group == (14 if pfs else None) for e in rekeyed)
    assert len([e for e in p.iev if isinstance(e, ev.ChildSADeleted) and e.reason == "rekeyed"]) >= 3
    assert len(p.i.children) == 1 and len(p.r.children) == 1
    assert p.i.stats.decrypt_failed == 0 and p.r.stats.decrypt_failed == 0


def test_rekey_on_request_and_pfs_invalid_ke_retry() -> None:
    p = connect(Pair(client_config(child=ChildConfig(pfs_group="ecp256", esp_proposals=("aes128-sha256-ecp256-modp2048",))),
                     gateway_config(child=ChildConfig(esp_proposals=("aes128-sha256-modp2048",)))))  # fmt: skip
    assert p.up()
    assert p.i.rekey_child(p.now)
    p.run(p.now + 10)
    rekeyed = p.events("i", ev.ChildSARekeyed)
    assert rekeyed and rekeyed[0].new.pfs_group == 14  # the gateway asked for MODP-2048 instead of ECP-256
    exchange_traffic(p)


# --- liveness, MOBIKE, NAT --------------------------------------------------------------------------


def test_liveness_check_finds_a_dead_peer() -> None:
    p = connect(Pair(client_config(dpd_interval=10), gateway_config(dpd_interval=None)))
    assert p.up()
    p.run(p.now + 5)
    assert p.i.stats.liveness_checks == 0
    p.run(p.now + 20)
    assert p.i.stats.liveness_checks >= 1 and p.i.state is State.ESTABLISHED  # answered while alive
    p.cut = True
    p.run(p.now + 300, lambda q: bool(q.events("i", ev.Closed)))
    dead = p.events("i", ev.PeerDead)
    assert dead and "stopped answering" in dead[0].reason
    assert p.i.state is State.CLOSED and p.events("i", ev.ChildSADeleted)


def test_traffic_keeps_liveness_checks_quiet() -> None:
    p = connect(Pair(client_config(dpd_interval=10), gateway_config(dpd_interval=None)))
    for _ in range(10):
        p.send_esp(False, inner_packet(1, "10.50.0.1", "10.88.1.1"))
        p.run(p.now + 5)
    assert p.i.stats.liveness_checks == 0


def test_mobike_moves_the_sas_to_a_new_address() -> None:
    p = connect(Pair(client_config(), gateway_config()))
    exchange_traffic(p)
    p.client_address = CLIENT2
    p.i.update_local_address(CLIENT2, 4500, p.now)
    p.run(p.now + 5)
    moved_i, moved_r = p.events("i", ev.AddressesUpdated), p.events("r", ev.AddressesUpdated)
    assert moved_i and moved_i[0].local_address == CLIENT2 and moved_i[0].children[0].local_address == CLIENT2
    assert moved_r and moved_r[0].peer_address == CLIENT2 and moved_r[0].children[0].peer_address == CLIENT2
    # The gateway now reaches the client only at its new address (old-address packets are dropped).
    assert p.r.rekey_child(p.now)
    p.run(p.now + 10)
    assert p.events("i", ev.ChildSAInboundReady) and p.r.stats.child_rekeys == 1
    exchange_traffic(p)


def test_address_change_without_mobike_asks_for_a_reconnect() -> None:
    p = connect(Pair(client_config(), gateway_config(mobike=False)))
    p.i.update_local_address(CLIENT2, 4500, p.now)
    p.run(p.now + 1)
    assert "does not support MOBIKE" in failure(p) and "reconnect" in failure(p)


def test_nat_traversal_floats_to_4500_and_encapsulates() -> None:
    p = connect(Pair(client_config(), gateway_config(), nat=True))
    assert p.up()
    nat_i, nat_r = p.events("i", ev.NATDetected), p.events("r", ev.NATDetected)
    assert nat_i and nat_i[0].local_behind_nat and nat_r and nat_r[0].peer_behind_nat
    i_sa, r_sa = assert_pair_matches(p)
    assert i_sa.encapsulated and r_sa.encapsulated and (i_sa.local_port, i_sa.peer_port) == (4500, 4500)
    assert r_sa.peer_port == 4500 + 30000  # the NAT's mapped port
    assert all(port == 4500 for _, port, _ in p.i_sent[1:])
    exchange_traffic(p)


def test_forced_encapsulation_without_nat() -> None:
    p = connect(Pair(client_config(force_encapsulation=True), gateway_config()))
    i_sa, r_sa = assert_pair_matches(p)
    assert i_sa.encapsulated and r_sa.encapsulated


def test_close_tells_the_gateway() -> None:
    p = connect(Pair(client_config(), gateway_config()))
    p.i.close(p.now)
    p.run(p.now + 2)
    closed = p.events("r", ev.Closed)
    assert closed and closed[0].by_peer and p.events("r", ev.ChildSADeleted)
    assert p.events("i", ev.Closed)[0].reason == "closed by the user"


# --- failures and their reasons ---------------------------------------------------------------------


def test_wrong_psk() -> None:
    p = connect(Pair(client_config(psk="wrong"), gateway_config()))
    assert "AUTHENTICATION_FAILED" in failure(p) and "pre-shared key is probably wrong" in failure(p)
    assert "pre-shared key is probably wrong" in failure(p, "r")


def test_wrong_eap_password() -> None:
    p = connect(_eap_pair(("mschapv2",), password="wrong"))
    assert "rejected the user name or password" in failure(p) and "E=691" in failure(p)
    assert "user name or password was wrong" in failure(p, "r")


def test_wrong_eap_md5_password() -> None:
    p = connect(_eap_pair(("md5",), password="wrong"))
    assert "user name or password" in failure(p)


def test_gateway_certificate_without_a_configured_ca() -> None:
    """EAP-MD5 proves nothing about the gateway, so it must show a certificate, which nothing can check."""
    p = connect(_eap_pair(("md5",), ca=False))
    assert "no CA certificate is configured" in failure(p)


def test_untrusted_gateway_certificate() -> None:
    k, other = pki(), pki("rsa", "Some Other CA")
    p = connect(Pair(client_config(auth="eap", psk=None, eap_username="alice", eap_password="correct horse",
                                   ca_certificates=(other.ca,), eap_methods=("mschapv2",)),
                     gateway_config(auth="cert", certificate=k.gateway, private_key=k.gateway_key, eap_users=USERS)))  # fmt: skip
    reason = failure(p)
    assert "not trusted" in reason and "CN=gateway.test" in reason
    p.run(p.now + 1)
    assert "the client rejected our certificate" in failure(p, "r")  # told by AUTHENTICATION_FAILED (RFC 7296 §2.21.2)


def test_gateway_rejects_a_client_certificate_from_another_ca() -> None:
    k, other = pki(), pki("rsa", "Some Other CA")
    p = connect(Pair(client_config(auth="cert", certificate=other.client, private_key=other.client_key, ca_certificates=(k.ca,)),
                     gateway_config(auth="cert", certificate=k.gateway, private_key=k.gateway_key, ca_certificates=(k.ca,))))  # fmt: skip
    assert "rejected our certificate" in failure(p)
    assert "not trusted" in failure(p, "r")


def test_expired_certificate_names_the_dates() -> None:
    import datetime as dt

    k = pki()
    future = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)
    p = connect(Pair(client_config(auth="cert", certificate=k.client, private_key=k.client_key, ca_certificates=(k.ca,),
                                   wall_clock=lambda: future),
                     gateway_config(auth="cert", certificate=k.gateway, private_key=k.gateway_key, ca_certificates=(k.ca,))))  # fmt: skip
    assert "not valid now" in failure(p) and "check the clock" in failure(p)


def test_gateway_identity_mismatch() -> None:
    k = pki()
    p = connect(Pair(client_config(auth="cert", certificate=k.client, private_key=k.client_key, ca_certificates=(k.ca,),
                                   peer_id="vpn.example.org"),
                     gateway_config(auth="cert", certificate=k.gateway, private_key=k.gateway_key, ca_certificates=(k.ca,))))  # fmt: skip
    assert "identity mismatch" in failure(p) and "vpn.example.org" in failure(p)


def test_no_ike_proposal_chosen_names_offer_and_what_the_gateway_takes() -> None:
    p = connect(Pair(client_config(ike_proposals=("aes256-sha256-modp2048",)), gateway_config(ike_proposals=("aes128-sha1-ecp384",))))
    reason = failure(p)
    assert "NO_PROPOSAL_CHOSEN" in reason and "aes256-sha256-modp2048" in reason and "aes128-sha1-prfsha1-ecp384" in reason
    assert "aes128-sha1-ecp384" in failure(p, "r")


def test_no_esp_proposal_chosen() -> None:
    p = connect(Pair(client_config(child=ChildConfig(esp_proposals=("aes256-sha512",))),
                     gateway_config(child=ChildConfig(esp_proposals=("aes128-sha1",)))))  # fmt: skip
    reason = failure(p)
    assert "NO_PROPOSAL_CHOSEN" in reason and "aes256-sha512" in reason and "ESP" in reason


def test_ts_unacceptable() -> None:
    p = connect(Pair(client_config(child=ChildConfig(remote_ts=(TrafficSelector.network("192.168.0.0/16"),))),
                     gateway_config(child=ChildConfig(local_ts=(TrafficSelector.network("10.50.0.0/16"),)))))  # fmt: skip
    reason = failure(p)
    assert "TS_UNACCEPTABLE" in reason and "192.168.0.0/16" in reason
    assert "TS_UNACCEPTABLE" in failure(p, "r")


def test_psk_client_against_certificate_gateway() -> None:
    k = pki()
    p = connect(Pair(client_config(), gateway_config(auth="cert", certificate=k.gateway, private_key=k.gateway_key,
                                                     peer_auth="cert", ca_certificates=(k.ca,))))  # fmt: skip
    assert "AUTHENTICATION_FAILED" in failure(p)
    assert "pre-shared key" in failure(p, "r") and "expects a certificate" in failure(p, "r")


def test_no_reply_from_the_gateway() -> None:
    p = Pair(client_config(), gateway_config())
    p.cut = True
    connect(p, 200)
    assert "no reply from the gateway during the IKE_SA_INIT exchange" in failure(p)
    assert p.i.stats.retransmissions == p.icfg.max_retransmits


def test_half_open_responder_gives_up() -> None:
    p = Pair(client_config(), gateway_config())
    p.start()
    p.run(0.5, lambda q: q.r.state is State.AUTH)
    p.cut = True
    p.run(200, lambda q: q.r.state is State.CLOSED)
    assert "stopped before authentication finished" in failure(p, "r")


def test_ike_sa_that_cannot_be_rekeyed_expires() -> None:
    p = connect(Pair(client_config(ike_lifetime=100, ike_rekey_margin=20, dpd_interval=None),
                     gateway_config(ike_lifetime=100000, ike_proposals=("aes128-sha256-modp2048",), dpd_interval=None)))  # fmt: skip
    assert p.up()
    # The gateway's policy changes under us: it no longer accepts what we offer for the IKE SA.
    p.r._ike_offers = list(p.r._ike_offers[:0])
    p.run(p.now + 200, lambda q: bool(q.events("i", ev.Closed)))
    assert "end of its lifetime" in failure(p) and "refused to rekey the IKE SA (NO_PROPOSAL_CHOSEN)" in failure(p)
    assert p.i.stats.ike_rekeys == 0
