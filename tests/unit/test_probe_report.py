"""Gateway probe: the suggestion (protocol, proposals, allow_legacy) and the rendered table."""

from __future__ import annotations

import json

import pytest

from wizard.probe.report import (
    ProbeProtocol,
    ProbeReport,
    ProposalResult,
    ProposalStatus,
    ProtocolResult,
    ProtocolStatus,
    format_report,
    peer_words,
    suggest,
)
from wizard.profiles.errors import ValidationError
from wizard.profiles.model import CryptoPolicy

P = ProbeProtocol
S = ProtocolStatus
A, R, N, K = ProposalStatus.ACCEPTED, ProposalStatus.REFUSED, ProposalStatus.NO_ANSWER, ProposalStatus.SKIPPED


def rows(**status: ProtocolStatus) -> list[ProtocolResult]:
    return [ProtocolResult(p, status.get(p.value, S.SILENT)) for p in ProbeProtocol]


def props(version: int, **results: ProposalStatus) -> list[ProposalResult]:
    return [ProposalResult(version, name.replace("_", "-"), status) for name, status in results.items()]


def test_legacy_flags_come_from_the_profile_algorithm_table() -> None:
    assert ProposalResult(1, "3des-md5-modp1024", A).legacy_parts == ("3des", "md5", "modp1024")
    assert not ProposalResult(2, "aes256gcm16-prfsha384-ecp384", A).legacy
    assert ProposalResult(1, "aes256-sha1-modp1024", R).legacy


def test_ikev2_with_modern_suites_wins_and_legacy_ones_are_flagged_as_not_needed() -> None:
    found = props(2, aes256_sha256_modp2048=A, aes256_sha1_modp1024=A, aes128gcm16_prfsha256_ecp256=R)
    found += props(1, aes128_sha1_modp2048=A, **{"3des_sha1_modp1024": A})
    s = suggest(rows(ikev2=S.ANSWERED, ikev1=S.ANSWERED, pptp=S.ANSWERED), found)
    assert s.protocol == "ikev2"
    assert s.ike_proposals == ("aes256-sha256-modp2048",)
    assert not s.allow_legacy
    assert s.legacy_proposals == ("aes256-sha1-modp1024", "3des-sha1-modp1024")
    assert s.ikev1_proposals == ("aes128-sha1-modp2048",)
    text = "\n".join(s.reasons)
    assert "fallback: L2TP/IPsec over IKEv1 with aes128-sha1-modp2048" in text
    assert "IKEv2 accepts legacy aes256-sha1-modp1024 (modp1024); not needed" in text
    assert "also speaks PPTP" in text
    CryptoPolicy(ike_proposals=s.ike_proposals, allow_legacy=s.allow_legacy).validate()


def test_only_legacy_ikev1_suites_need_allow_legacy() -> None:
    found = props(2, aes256_sha256_modp2048=N) + props(1, aes256_sha256_modp2048=R, aes256_sha1_modp1024=A)
    found += props(1, **{"3des_sha1_modp1024": A})
    s = suggest(rows(ikev1=S.ANSWERED, l2tp=S.SILENT), found)
    assert s.protocol == "l2tp_ipsec"
    assert s.ike_proposals == ("aes256-sha1-modp1024", "3des-sha1-modp1024")
    assert s.allow_legacy
    assert any("IKEv2 did not answer" in r for r in s.reasons)
    assert any("needed: nothing modern was accepted" in r for r in s.reasons)
    assert "allow_legacy must be true for this gateway" in s.reasons
    CryptoPolicy(ike_proposals=s.ike_proposals, allow_legacy=s.allow_legacy).validate()
    with pytest.raises(ValidationError, match="allow_legacy"):
        CryptoPolicy(ike_proposals=s.ike_proposals, allow_legacy=False).validate()


def test_ikev2_accepting_nothing_falls_back_to_an_ikev1_that_does() -> None:
    found = props(2, aes256_sha256_modp2048=R) + props(1, aes256_sha256_modp2048=A)
    s = suggest(rows(ikev2=S.ANSWERED, ikev1=S.ANSWERED), found)
    assert s.protocol == "l2tp_ipsec" and s.ike_proposals == ("aes256-sha256-modp2048",)
    assert s.ikev2_proposals == ()
    assert any("IKEv2 answered but accepted none" in r for r in s.reasons)


def test_ike_that_accepts_nothing_keeps_the_defaults() -> None:
    s = suggest(rows(ikev2=S.ANSWERED), props(2, aes256_sha256_modp2048=R, aes128_sha256_modp2048=R))
    assert s.protocol == "ikev2" and s.ike_proposals == () and not s.allow_legacy
    assert "ask its administrator" in s.reasons[0]


@pytest.mark.parametrize(
    ("answered", "protocol", "legacy"),
    [({"l2tp": S.ANSWERED, "pptp": S.ANSWERED}, "l2tp", False), ({"pptp": S.ANSWERED}, "pptp", True), ({}, "", False)],
)
def test_without_ike(answered: dict[str, ProtocolStatus], protocol: str, legacy: bool) -> None:
    s = suggest(rows(**answered), [])
    assert (s.protocol, s.ike_proposals, s.allow_legacy) == (protocol, (), legacy)
    assert s.reasons


def test_closed_and_silent_rows_do_not_count_as_answers() -> None:
    s = suggest(rows(ikev2=S.CLOSED, ikev1=S.SILENT, l2tp=S.ERROR), props(2, aes256_sha256_modp2048=N))
    assert s.protocol == ""


def _report() -> ProbeReport:
    protocols = (
        ProtocolResult(P.IKEV2, S.ANSWERED, "IKE_SA_INIT answered", features=("COOKIE challenge",)),
        ProtocolResult(P.IKEV1, S.SILENT, "no answer to Main Mode within 2 s"),
        ProtocolResult(P.L2TP, S.CLOSED, "nothing listens on UDP 1701"),
        ProtocolResult(P.PPTP, S.SKIPPED),
    )
    proposals = tuple(props(2, aes256_sha256_modp2048=A, aes128_sha1_modp1024=R))
    proposals += tuple(ProposalResult(1, p, K, "the gateway did not answer the first suite")
                       for p in ("aes256-sha256-modp2048", "aes128-sha1-modp2048", "3des-sha1-modp1024"))  # fmt: skip
    return ProbeReport("vpn.example", "192.0.2.7", protocols, proposals, suggest(protocols, proposals),
                       ("a note",), 1.25, 40000)  # fmt: skip


def test_table_shows_every_protocol_the_suites_and_the_policy() -> None:
    text = format_report(_report())
    assert text.startswith("Gateway vpn.example (192.0.2.7), probed in 1.2 s")
    lines = text.splitlines()
    assert any(line.split()[:4] == ["IKEv2", "udp/500", "yes", "IKE_SA_INIT"] and "[COOKIE challenge]" in line
               for line in lines)  # fmt: skip
    assert any(line.startswith("PPTP") and "not probed" in line for line in lines)
    assert any("aes128-sha1-modp1024" in line and "refused" in line and "legacy: modp1024" in line for line in lines)
    assert any("(3 more suites)" in line and "not tried" in line for line in lines)  # long runs of skips fold
    assert "  ike_proposals: aes256-sha256-modp2048" in lines
    assert "  allow_legacy:  false" in lines
    assert "  - a note" in lines


def test_json_form_is_plain_data() -> None:
    data = json.loads(json.dumps(_report().to_dict()))
    assert data["ike_port"] == 40000
    assert [p["status"] for p in data["protocols"]] == ["yes", "no answer", "closed", "not probed"]
    assert data["proposals"][1] == {"version": 2, "proposal": "aes128-sha1-modp1024", "status": "refused",
                                    "detail": "", "legacy": ["modp1024"]}  # fmt: skip
    assert data["suggestion"]["protocol"] == "ikev2"


def test_report_lookups() -> None:
    report = _report()
    assert report.speaks == (P.IKEV2,)
    assert report.accepted(2) == ("aes256-sha256-modp2048",) and report.refused(2) == ("aes128-sha1-modp1024",)
    assert report.result("l2tp") is not None and report.result(P.L2TP).status is S.CLOSED  # type: ignore[union-attr]


def test_peer_words() -> None:
    assert peer_words("gw", "xelerance.com") == ' from "gw" (vendor xelerance.com)'
    assert peer_words("", "linux") == " from vendor linux"
    assert peer_words("", "") == ""
