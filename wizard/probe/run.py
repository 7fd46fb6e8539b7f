"""``probe(host)``: run the IKE, L2TP and PPTP probes side by side and build a :class:`ProbeReport`."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from wizard.probe.ike import IKEV1_WALK, IKEV2_WALK, MAX_WALK, WINDOW, IkeFindings, probe_ike
from wizard.probe.l2tp import probe_l2tp
from wizard.probe.pptp import probe_pptp
from wizard.probe.report import (
    ALL_PROTOCOLS,
    ProbeProtocol,
    ProbeReport,
    ProposalResult,
    ProtocolResult,
    ProtocolStatus,
    suggest,
)
from wizard.profiles.algorithms import parse_proposal


class ProbeError(ValueError):
    """Bad input to :func:`probe` (unknown host, bad proposal, bad timeout); one plain sentence."""


def _check_proposals(proposals: Sequence[str], version: int) -> None:
    if not proposals:
        raise ProbeError(f"the IKEv{version} walk needs at least one proposal")
    if len(proposals) > MAX_WALK:
        raise ProbeError(f"at most {MAX_WALK} IKEv{version} proposals are walked, got {len(proposals)}")
    for text in proposals:
        try:
            parse_proposal(text, "ike")
        except ValueError as exc:
            raise ProbeError(str(exc)) from None
        if version == 1 and "gcm" in text:
            raise ProbeError(f"{text!r} uses AES-GCM, which IKEv1 cannot negotiate for the IKE SA")


async def resolve(host: str) -> str:
    """One address for ``host`` (IPv4 preferred); ProbeError if it does not resolve."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    except OSError as exc:
        raise ProbeError(f"cannot resolve {host!r}: {exc.strerror or exc}") from None
    addresses = [str(info[4][0]) for info in infos]
    v4 = [a for a in addresses if ":" not in a]
    if not addresses:
        raise ProbeError(f"cannot resolve {host!r}")
    return (v4 or addresses)[0]


async def probe(
    host: str,
    *,
    timeout: float = 2.0,
    protocols: Iterable[ProbeProtocol | str] = ALL_PROTOCOLS,
    walk: bool = True,
    ikev2_proposals: Sequence[str] = IKEV2_WALK,
    ikev1_proposals: Sequence[str] = IKEV1_WALK,
    ike_source_port: int = 0,
    window: int = WINDOW,
    random_bytes: Callable[[int], bytes] = os.urandom,
) -> ProbeReport:
    """Find which VPN protocols ``host`` speaks and which IKE suites it accepts, without credentials.

    ``timeout`` is the wait for each protocol's first answer; each protocol takes at most a few
    seconds (IKE: about ``2 * timeout + 1``), and all four run at the same time. IKE goes from an
    ephemeral UDP port unless ``ike_source_port`` (500 needs root). Raises :class:`ProbeError` on bad
    input; network trouble is reported in the rows, never raised.
    """
    if not 0.2 <= timeout <= 30:
        raise ProbeError(f"timeout must be between 0.2 and 30 seconds, not {timeout:g}")
    if not 0 <= ike_source_port <= 65535:
        raise ProbeError(f"{ike_source_port} is not a UDP port")
    if window < 1:
        raise ProbeError("window must be at least 1")
    try:
        wanted = tuple(dict.fromkeys(ProbeProtocol(p) for p in protocols))
    except ValueError:
        raise ProbeError(f"protocols must be among {', '.join(p.value for p in ALL_PROTOCOLS)}") from None
    _check_proposals(ikev2_proposals, 2)
    _check_proposals(ikev1_proposals, 1)
    address = await resolve(host)
    loop = asyncio.get_running_loop()
    started = loop.time()
    versions = [v for v, p in ((2, ProbeProtocol.IKEV2), (1, ProbeProtocol.IKEV1)) if p in wanted]

    async def nothing() -> None:
        return None

    ike_task = probe_ike(address, versions=versions, timeout=timeout, walk=walk, ikev2_proposals=ikev2_proposals,
                         ikev1_proposals=ikev1_proposals, source_port=ike_source_port, window=window,
                         random_bytes=random_bytes) if versions else nothing()  # fmt: skip
    l2tp_task = (
        probe_l2tp(address, timeout=timeout, random_bytes=random_bytes) if ProbeProtocol.L2TP in wanted else nothing()
    )
    pptp_task = probe_pptp(address, timeout=timeout) if ProbeProtocol.PPTP in wanted else nothing()
    ike, l2tp, pptp = await asyncio.gather(ike_task, l2tp_task, pptp_task)
    rows: dict[ProbeProtocol, ProtocolResult] = {}
    proposals: list[ProposalResult] = []
    notes: list[str] = []
    if isinstance(ike, IkeFindings):
        rows.update({r.protocol: r for r in ike.protocols})
        proposals = ike.proposals
        if ike.local[1]:
            notes.append(
                f"IKE was probed from UDP port {ike.local[1]} to port 500"
                + (" (an ephemeral port, so no root was needed; a gateway that answers only IKE from port 500 "
                   "looks silent, try --ike-source-port 500 as root)" if not ike_source_port else "")
            )  # fmt: skip
    for result in (l2tp, pptp):
        if isinstance(result, ProtocolResult):
            rows[result.protocol] = result
    ordered = tuple(rows.get(p) or ProtocolResult(p, ProtocolStatus.SKIPPED) for p in ALL_PROTOCOLS)
    notes += _notes(ordered)
    ike_port = ike.local[1] if isinstance(ike, IkeFindings) else 0
    return ProbeReport(host, address, ordered, tuple(proposals), suggest(ordered, proposals), tuple(notes),
                       loop.time() - started, ike_port)  # fmt: skip


def _notes(rows: Sequence[ProtocolResult]) -> list[str]:
    by = {r.protocol: r for r in rows}
    notes = ["ESP proposals cannot be probed without credentials (they are negotiated after authentication)"]
    ike_up = by[ProbeProtocol.IKEV1].answered or by[ProbeProtocol.IKEV2].answered
    if by[ProbeProtocol.L2TP].status is ProtocolStatus.SILENT and by[ProbeProtocol.IKEV1].answered:
        notes.append("L2TP did not answer in the clear: the gateway may accept L2TP only inside IPsec (L2TP/IPsec)")
    if not ike_up and not any(r.answered for r in rows):
        notes.append("nothing answered: a firewall may drop the probes, or the address is wrong")
    return notes


def probe_blocking(host: str, **kwargs: Any) -> ProbeReport:
    """:func:`probe` for code without a running event loop (the CLI, a worker thread)."""
    return asyncio.run(probe(host, **kwargs))
