"""What a gateway probe found, and the crypto policy it suggests; plain data, no I/O.

The dataclasses are what the CLI prints and what the GUI's "Check this gateway" button will read.
:func:`suggest` turns raw findings into a profile-shaped suggestion (protocol, proposal strings in the
profile format, whether ``allow_legacy`` is needed); :func:`format_report` renders the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from wizard.profiles.algorithms import weak_parts


class ProbeProtocol(StrEnum):
    IKEV2 = "ikev2"
    IKEV1 = "ikev1"
    L2TP = "l2tp"
    PPTP = "pptp"

    @property
    def label(self) -> str:
        return {"ikev2": "IKEv2", "ikev1": "IKEv1", "l2tp": "L2TP", "pptp": "PPTP"}[self.value]

    @property
    def port(self) -> str:
        return {"ikev2": "udp/500", "ikev1": "udp/500", "l2tp": "udp/1701", "pptp": "tcp/1723"}[self.value]


ALL_PROTOCOLS: tuple[ProbeProtocol, ...] = tuple(ProbeProtocol)


def peer_words(peer_name: str, vendor: str) -> str:
    """' from "gw1" (vendor xelerance.com)', or "" when the peer named nothing."""
    parts = [f'"{peer_name}"'] if peer_name else []
    if vendor:
        parts.append(f"(vendor {vendor})" if parts else f"vendor {vendor}")
    return f" from {' '.join(parts)}" if parts else ""


class ProtocolStatus(StrEnum):
    ANSWERED = "yes"  # the gateway answered in this protocol: it speaks it
    SILENT = "no answer"  # nothing came back in time (filtered, dropped, or nobody there)
    CLOSED = "closed"  # the host said nobody listens (ICMP port unreachable, TCP reset)
    ERROR = "error"  # we could not even try (e.g. no route)
    SKIPPED = "not probed"


class ProposalStatus(StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"  # NO_PROPOSAL_CHOSEN
    OTHER_GROUP = "other DH group"  # IKEv2 INVALID_KE_PAYLOAD: all but the DH group would do
    NO_ANSWER = "no answer"
    ERROR = "error"  # another notify, or an answer we could not use
    SKIPPED = "not tried"


@dataclass(frozen=True)
class ProtocolResult:
    """One protocol's row: did the gateway answer, and what it said about itself (L2TP/PPTP host name, vendor)."""

    protocol: ProbeProtocol
    status: ProtocolStatus
    detail: str = ""
    peer_name: str = ""
    vendor: str = ""
    features: tuple[str, ...] = ()
    elapsed: float = 0.0

    @property
    def answered(self) -> bool:
        return self.status is ProtocolStatus.ANSWERED


@dataclass(frozen=True)
class ProposalResult:
    """One IKE proposal (profile format, e.g. ``aes256-sha256-modp2048``) offered alone to the gateway."""

    version: int  # 1 or 2
    proposal: str
    status: ProposalStatus
    detail: str = ""

    @property
    def legacy_parts(self) -> tuple[str, ...]:
        """The legacy algorithms in the proposal (empty for a modern one)."""
        try:
            return tuple(a.name for a in weak_parts(self.proposal, "ike"))
        except ValueError:
            return ()

    @property
    def legacy(self) -> bool:
        return bool(self.legacy_parts)

    @property
    def accepted(self) -> bool:
        return self.status is ProposalStatus.ACCEPTED


@dataclass(frozen=True)
class CryptoSuggestion:
    """A profile-shaped suggestion. Empty ``ike_proposals``: keep the profile's defaults (nothing proven).

    ``protocol`` is a profile protocol value (``ikev2``, ``l2tp_ipsec``, ``l2tp``, ``pptp``) or "" when
    nothing answered. ``ikev2_proposals``/``ikev1_proposals`` are what each IKE version accepted, in the
    order to offer them (modern first; legacy only when nothing modern was accepted).
    """

    protocol: str
    ike_proposals: tuple[str, ...] = ()
    allow_legacy: bool = False
    legacy_proposals: tuple[str, ...] = ()
    ikev2_proposals: tuple[str, ...] = ()
    ikev1_proposals: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProbeReport:
    host: str
    address: str
    protocols: tuple[ProtocolResult, ...]
    proposals: tuple[ProposalResult, ...]
    suggestion: CryptoSuggestion
    notes: tuple[str, ...] = field(default=())
    elapsed: float = 0.0
    ike_port: int = 0  # the local UDP port IKE went from (0: IKE not probed)

    def result(self, protocol: ProbeProtocol | str) -> ProtocolResult | None:
        return next((r for r in self.protocols if r.protocol == protocol), None)

    @property
    def speaks(self) -> tuple[ProbeProtocol, ...]:
        return tuple(r.protocol for r in self.protocols if r.answered)

    def accepted(self, version: int) -> tuple[str, ...]:
        return tuple(p.proposal for p in self.proposals if p.version == version and p.accepted)

    def refused(self, version: int) -> tuple[str, ...]:
        return tuple(p.proposal for p in self.proposals if p.version == version and p.status is ProposalStatus.REFUSED)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``--json``): enums become their values."""
        return {
            "host": self.host,
            "address": self.address,
            "elapsed": round(self.elapsed, 3),
            "ike_port": self.ike_port,
            "protocols": [_protocol_dict(r) for r in self.protocols],
            "proposals": [
                {
                    "version": p.version,
                    "proposal": p.proposal,
                    "status": p.status.value,
                    "detail": p.detail,
                    "legacy": list(p.legacy_parts),
                }
                for p in self.proposals
            ],
            "suggestion": {
                "protocol": self.suggestion.protocol,
                "ike_proposals": list(self.suggestion.ike_proposals),
                "allow_legacy": self.suggestion.allow_legacy,
                "legacy_proposals": list(self.suggestion.legacy_proposals),
                "ikev2_proposals": list(self.suggestion.ikev2_proposals),
                "ikev1_proposals": list(self.suggestion.ikev1_proposals),
                "reasons": list(self.suggestion.reasons),
            },
            "notes": list(self.notes),
        }


def _protocol_dict(r: ProtocolResult) -> dict[str, Any]:
    return {
        "protocol": r.protocol.value,
        "port": r.protocol.port,
        "status": r.status.value,
        "detail": r.detail,
        "peer_name": r.peer_name,
        "vendor": r.vendor,
        "features": list(r.features),
        "elapsed": round(r.elapsed, 3),
    }


# --- the suggestion --------------------------------------------------------------------------------

_LABELS = {"ikev2": "IKEv2", "l2tp_ipsec": "L2TP/IPsec", "l2tp": "L2TP (no encryption)", "pptp": "PPTP (insecure)"}


def _usable(accepted: Sequence[ProposalResult]) -> tuple[str, ...]:
    """Modern proposals only, unless the gateway accepted nothing modern (then its legacy ones)."""
    modern = tuple(p.proposal for p in accepted if not p.legacy)
    return modern or tuple(p.proposal for p in accepted)


def _legacy_lines(accepted: Sequence[ProposalResult], chosen: Sequence[str], version: str) -> list[str]:
    lines = []
    for p in accepted:
        if not p.legacy:
            continue
        needed = "needed: nothing modern was accepted" if p.proposal in chosen else "not needed: modern suites work"
        lines.append(f"{version} accepts legacy {p.proposal} ({', '.join(p.legacy_parts)}); {needed}")
    return lines


def _ikev2_state(rows: dict[ProbeProtocol, ProtocolResult]) -> str:
    row = rows.get(ProbeProtocol.IKEV2)
    if row is None or row.status is ProtocolStatus.SKIPPED:
        return "IKEv2 was not probed"
    if row.answered:
        return "IKEv2 answered but accepted none of its suites tried"
    return "IKEv2 did not answer"


def suggest(protocols: Iterable[ProtocolResult], proposals: Iterable[ProposalResult]) -> CryptoSuggestion:
    """Pick the protocol to use and the crypto policy for it from what the probe found."""
    rows = {r.protocol: r for r in protocols}
    props = list(proposals)

    def answered(p: ProbeProtocol) -> bool:
        row = rows.get(p)
        return row is not None and row.answered

    acc2 = [p for p in props if p.version == 2 and p.accepted]
    acc1 = [p for p in props if p.version == 1 and p.accepted]
    v2, v1 = _usable(acc2), _usable(acc1)
    reasons: list[str] = []
    protocol = ""
    chosen: tuple[str, ...] = ()
    if answered(ProbeProtocol.IKEV2) and v2:
        protocol, chosen = "ikev2", v2
        reasons.append(f"the gateway speaks IKEv2 and accepted {len(acc2)} of the IKEv2 suites tried")
    elif answered(ProbeProtocol.IKEV1) and v1:
        protocol, chosen = "l2tp_ipsec", v1
        reasons.append(
            f"the gateway speaks IKEv1 and accepted {len(acc1)} of the IKEv1 suites tried ({_ikev2_state(rows)}); "
            "L2TP/IPsec is the usual IKEv1 service (IKEv1 with XAUTH is the other: without credentials the probe "
            "cannot tell which one the gateway expects)"
        )
    elif answered(ProbeProtocol.IKEV2) or answered(ProbeProtocol.IKEV1):
        protocol = "ikev2" if answered(ProbeProtocol.IKEV2) else "l2tp_ipsec"
        reasons.append(
            "the gateway speaks IKE but accepted none of the suites tried: ask its administrator for the proposals "
            "(IKEv1 suites were offered with pre-shared-key authentication; a gateway that allows only XAUTH or "
            "certificates refuses them all)"
        )
    elif answered(ProbeProtocol.L2TP):
        protocol = "l2tp"
        reasons.append("only plain L2TP answered: traffic is not encrypted unless PPP negotiates MPPE")
    elif answered(ProbeProtocol.PPTP):
        protocol = "pptp"
        reasons.append("only PPTP answered: it is insecure (MS-CHAPv2 can be cracked offline, MPPE is RC4)")
    else:
        reasons.append(
            "no VPN protocol answered: check the address, and that UDP 500 and 1701 and TCP 1723 are not blocked"
        )
    if protocol == "ikev2" and v1 and answered(ProbeProtocol.IKEV1):
        reasons.append(f"fallback: L2TP/IPsec over IKEv1 with {', '.join(v1)}")
    if protocol in ("ikev2", "l2tp_ipsec") and answered(ProbeProtocol.PPTP):
        reasons.append("the gateway also speaks PPTP; do not use it while IPsec works")
    reasons += _legacy_lines(acc2, chosen if protocol == "ikev2" else (), "IKEv2")
    reasons += _legacy_lines(acc1, chosen if protocol == "l2tp_ipsec" else v1, "IKEv1")
    legacy_chosen = tuple(p for p in chosen if any(r.proposal == p and r.legacy for r in props))
    allow_legacy = bool(legacy_chosen) or protocol == "pptp"
    if allow_legacy:
        reasons.append("allow_legacy must be true for this gateway")
    legacy_all = tuple(dict.fromkeys(p.proposal for p in acc2 + acc1 if p.legacy))
    return CryptoSuggestion(protocol, tuple(chosen), allow_legacy, legacy_all, v2, v1, tuple(reasons))


# --- rendering -------------------------------------------------------------------------------------


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _proposal_groups(rows: Sequence[ProposalResult]) -> list[tuple[int, list[ProposalResult]]]:
    """Consecutive rows of one version with the same status and detail (long runs of skips fold into one)."""
    groups: list[tuple[int, list[ProposalResult]]] = []
    for p in rows:
        last = groups[-1][1] if groups else None
        if last and last[0].version == p.version and (last[0].status, last[0].detail) == (p.status, p.detail):
            last.append(p)
        else:
            groups.append((p.version, [p]))
    return groups


def format_report(report: ProbeReport) -> str:
    """The CLI's text: a protocol table, the proposals table, the suggestion and the notes."""
    where = report.host if report.host == report.address else f"{report.host} ({report.address})"
    out = [f"Gateway {where}, probed in {report.elapsed:.1f} s", ""]
    rows = []
    for r in report.protocols:
        detail = r.detail + (f" [{', '.join(r.features)}]" if r.features else "")
        rows.append([r.protocol.label, r.protocol.port, r.status.value, detail])
    out += _table(["Protocol", "Port", "Answer", "Details"], rows)
    if report.proposals:
        out += ["", "IKE proposals (each offered alone)"]
        prow = []
        for version, group in _proposal_groups(report.proposals):
            if len(group) > 2 and all(p.status is ProposalStatus.SKIPPED for p in group):
                prow.append([f"IKEv{version}", f"({len(group)} more suites)", group[0].status.value, group[0].detail])
                continue
            for p in group:
                flag = f"legacy: {', '.join(p.legacy_parts)}" if p.legacy else ""
                note = "; ".join(x for x in (p.detail, flag) if x)
                prow.append([f"IKEv{p.version}", p.proposal, p.status.value, note])
        out += _table(["Version", "Proposal", "Result", "Note"], prow)
    s = report.suggestion
    out += ["", "Suggested crypto policy"]
    out.append(f"  protocol:      {s.protocol} ({_LABELS[s.protocol]})" if s.protocol else "  protocol:      (none)")
    if s.ike_proposals:
        out.append(f"  ike_proposals: {', '.join(s.ike_proposals)}")
    elif s.protocol in ("ikev2", "l2tp_ipsec"):
        out.append("  ike_proposals: (keep the defaults: no suite tried was accepted)")
    out.append(f"  allow_legacy:  {'true' if s.allow_legacy else 'false'}")
    out += [f"  - {line}" for line in s.reasons]
    if report.notes:
        out += ["", "Notes"]
        out += [f"  - {note}" for note in report.notes]
    return "\n".join(out)
