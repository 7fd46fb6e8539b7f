"""The gateway probe against the lab's real strongSwan, xl2tpd and pptpd.

It must find all four protocols on the gateway, the IKE suites of ``configs/gateway/.../vmlab.conf``
(as far as the walk lists cover them) accepted and others refused, leave no IKE SA behind in charon,
and report "no answer" for an address where nothing listens.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time

import pytest

from tests.interop.conftest import Lab
from wizard.probe import IKEV1_WALK, IKEV2_WALK, ProbeProtocol, ProbeReport, ProposalStatus, ProtocolStatus, probe

pytestmark = pytest.mark.interop

# vmlab.conf, connections ikev1-l2tp / ikev1-xauth and ikev2-*: the IKE proposals.
LAB_IKEV1 = {"aes256-sha256-modp2048", "aes128-sha256-modp2048", "aes128-sha1-modp2048", "aes256-sha1-modp1024",
             "aes128-sha1-modp1024", "3des-sha1-modp1024"}  # fmt: skip
LAB_IKEV2 = {"aes256-sha256-modp2048", "aes128-sha256-modp2048", "aes128-sha1-modp2048"} | {
    f"aes{bits}gcm16-prfsha{prf}-{group}"
    for bits in (128, 256)
    for prf in (256, 384)
    for group in ("modp2048", "ecp256")
}
NOBODY = "10.77.0.99"  # inside the lab network, nothing has this address


def _probe(lab: Lab, host: str, timeout: float = 2.0) -> ProbeReport:
    with lab.entered():
        return asyncio.run(probe(host, timeout=timeout))


def _sa_ids_from(lines: list[str], port: int) -> set[str]:
    """charon's IKE_SA numbers of everything that came from our IKE source port."""
    pattern = re.compile(rf"<(\d+)> received packet: from 10\.77\.0\.1\[{port}\]")
    return {m.group(1) for line in lines if (m := pattern.search(line))}


def test_probe_finds_every_protocol_and_the_configured_suites(lab: Lab) -> None:
    offset = lab.log_offset()
    report = _probe(lab, lab.gateway)
    print("\n" + "\n".join(f"{r.protocol.label}: {r.status.value} {r.detail}" for r in report.protocols))
    assert report.speaks == (ProbeProtocol.IKEV2, ProbeProtocol.IKEV1, ProbeProtocol.L2TP, ProbeProtocol.PPTP)

    assert set(report.accepted(1)) == LAB_IKEV1 & set(IKEV1_WALK)
    assert set(report.refused(1)) == set(IKEV1_WALK) - LAB_IKEV1
    assert set(report.accepted(2)) == LAB_IKEV2 & set(IKEV2_WALK)
    assert set(report.refused(2)) == set(IKEV2_WALK) - LAB_IKEV2
    assert report.refused(1) and report.refused(2)

    s = report.suggestion
    assert s.protocol == "ikev2" and not s.allow_legacy
    assert set(s.ike_proposals) == LAB_IKEV2 & set(IKEV2_WALK)
    assert set(s.legacy_proposals) == {"aes256-sha1-modp1024", "aes128-sha1-modp1024", "3des-sha1-modp1024"}
    l2tp, pptp = report.result("l2tp"), report.result("pptp")
    assert l2tp is not None and "StopCCN acknowledged" in l2tp.detail
    assert pptp is not None and "Stop-Reply received" in pptp.detail

    # Politeness: IKEv2 never opens an SA (decoy key exchange); each IKEv1 Main Mode the probe
    # half-opened is ended by its notify. Nothing waits for charon's half-open timeout.
    lines = lab.wait_for_server_log(offset, r"xl2tpd.*control_finish: Connection closed to 10\.77\.0\.1")
    deadline = time.monotonic() + 10
    while True:
        lines = lab.server_log_since(offset)
        ids = _sa_ids_from(lines, report.ike_port)
        destroyed = {i for i in ids if any(re.search(rf"<{i}> IKE_SA \S+\[{i}\] state change: \w+ => DESTROYING", ln)
                                           for ln in lines)}  # fmt: skip
        if (ids and destroyed == ids) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(ids) >= len(IKEV1_WALK) + len(IKEV2_WALK)
    assert destroyed == ids, f"IKE_SAs still open in charon: {sorted(ids - destroyed, key=int)}"
    assert not any("deleting half open IKE_SA" in ln for ln in lines)
    assert sum("received NO_PROPOSAL_CHOSEN error notify" in ln for ln in lines) == len(report.accepted(1))
    assert any("DH group ECP_256 unacceptable, requesting MODP_2048" in ln for ln in lines)
    sas = lab.vm_shell("swanctl --list-sas --noblock 2>&1")
    assert f"10.77.0.1[{report.ike_port}]" not in sas, sas
    assert any("pptpd" in ln and "control connection finished" in ln for ln in lines)


def test_probe_of_an_address_where_nothing_listens(lab: Lab) -> None:
    report = _probe(lab, NOBODY, timeout=1.0)
    assert report.speaks == ()
    assert [r.status for r in report.protocols] == [ProtocolStatus.SILENT] * 4, report.protocols
    for version in (1, 2):
        statuses = [p.status for p in report.proposals if p.version == version]
        # The first suite went unanswered, so the walk stopped there instead of waiting for every suite.
        assert statuses[0] is ProposalStatus.NO_ANSWER and set(statuses[1:]) == {ProposalStatus.SKIPPED}
    assert report.suggestion.protocol == "" and "nothing answered" in report.notes[-1]


def test_cli_prints_the_table_and_json(lab: Lab) -> None:
    proc = lab.run([sys.executable, "-m", "wizard", "probe", lab.gateway, "--only", "ikev1,l2tp", "--no-walk"])
    assert proc.returncode == 0, proc.stderr
    print("\n" + proc.stdout)
    assert re.search(r"^IKEv1\s+udp/500\s+yes\s+Main Mode answered", proc.stdout, re.M)
    assert re.search(r"^L2TP\s+udp/1701\s+yes\s+SCCRP from", proc.stdout, re.M)
    assert re.search(r"^IKEv2\s+udp/500\s+not probed", proc.stdout, re.M)
    proc = lab.run([sys.executable, "-m", "wizard", "probe", NOBODY, "--only", "pptp", "--timeout", "1", "--json"])
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert [r["status"] for r in data["protocols"]] == ["not probed", "not probed", "not probed", "no answer"]
