"""Undo what a crashed helper left behind, before the new one serves anyone.

Reads every journal file in the journal directory and reverts its entries newest first: link
changes (routes, addresses, MTU; the TUN device itself died with the crashed process), DNS
(resolv.conf put back exactly, resolved links reverted) and the kill switch table. A journal whose
entries were all undone is deleted; problems are returned as plain sentences for the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from wizard.net.config import revert_changes
from wizard.net.dns import ResolvedDns, restore_resolv_conf
from wizard.net.errors import NetError
from wizard.net.journal import Journal, JournalError, LinkChange, NftTable, ResolvConfEdit, ResolvedLink
from wizard.net.killswitch import delete_table

log = logging.getLogger("wizard.helper.recovery")


async def recover(
    journal: Journal,
    ipr_factory: Callable[[], Any],
    resolved: ResolvedDns | None = None,
    nft: str = "nft",
) -> list[str]:
    """Revert every leftover journal; returns what was done and what could not be."""
    report: list[str] = []
    leftovers = journal.leftovers()
    if not leftovers:
        return report
    ipr = ipr_factory()
    try:
        for path, found in leftovers:
            if isinstance(found, JournalError):
                report.append(f"{found.reason}; removed it")
                path.unlink(missing_ok=True)
                continue
            problems = await _undo(found.entries, ipr, resolved or ResolvedDns(), nft)
            report.append(
                f"undid {len(found.entries)} changes left by session {found.session_id} of a previous helper"
                + (f" ({len(problems)} problems)" if problems else "")
            )
            report += problems
            found.close()
    finally:
        ipr.close()
    return report


async def _undo(entries: tuple[Any, ...], ipr: Any, resolved: ResolvedDns, nft: str) -> list[str]:
    problems: list[str] = []
    links = [e.change for e in entries if isinstance(e, LinkChange)]
    try:
        problems += await revert_changes(ipr, links)
    except Exception as exc:  # keep going: DNS and the kill switch matter as much
        problems.append(f"could not undo network changes: {exc}")
    for entry in reversed(entries):
        problem: str | None = None
        if isinstance(entry, ResolvConfEdit):
            problem = restore_resolv_conf(entry)
        elif isinstance(entry, ResolvedLink):
            problem = await resolved.revert(entry)
        elif isinstance(entry, NftTable):
            try:
                await delete_table(entry.name, nft)
            except NetError as exc:
                problem = exc.reason
        if problem:
            problems.append(problem)
    return problems
