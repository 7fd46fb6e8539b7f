"""Journal files, resolv.conf edits and the resolved backend, without a helper process."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path

import pytest

from wizard.net.config import AppliedChange, ChangeKind
from wizard.net.dns import DnsError, DnsSettings, ResolvConfDns, ResolvedDns, render_resolv_conf, restore_resolv_conf
from wizard.net.journal import Journal, JournalError, LinkChange, NftTable, ResolvConfEdit, ResolvedLink, load

ORIGINAL = b"# mine\nnameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch home.example\noptions ndots:2\n"
ROUTE = AppliedChange(ChangeKind.ROUTE, "cw0", 7, address="0.0.0.0/1")


def test_journal_round_trip_and_atomic_file(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal")
    journal.prepare()
    assert stat.S_IMODE(os.stat(journal.directory).st_mode) == 0o700
    session = journal.session("abc123")
    entries = [
        NftTable("inet", "connection_wizard"),
        LinkChange(ROUTE),
        ResolvConfEdit("/etc/resolv.conf", ORIGINAL, None, b"new\n", 0o640),
        ResolvedLink(7, "cw0"),
    ]
    for entry in entries:
        session.add(entry)
    assert stat.S_IMODE(os.stat(session.path).st_mode) == 0o600
    assert list(journal.directory.iterdir()) == [session.path]  # no temporary files left
    assert load(session.path).entries == tuple(entries)
    session.discard_where(LinkChange)
    assert load(session.path).entries == (entries[0], entries[2], entries[3])
    session.discard(entries[0])
    assert load(session.path).entries == (entries[2], entries[3])
    session.close()
    assert not session.path.exists()


def test_leftovers_report_unreadable_journals(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.session("good").add(NftTable("inet", "connection_wizard"))
    (tmp_path / "bad.json").write_text('{"format": 1, "entries": [{"type": "reboot"}]}')
    (tmp_path / "ugly.json").write_text("{not json")
    (tmp_path / ".good.json.123.tmp").write_text("half-written")
    found = dict(journal.leftovers())
    assert isinstance(found[tmp_path / "bad.json"], JournalError)
    assert "unknown journal entry type" in found[tmp_path / "bad.json"].reason  # type: ignore[union-attr]
    assert isinstance(found[tmp_path / "ugly.json"], JournalError)
    assert found[tmp_path / "good.json"].entries == (NftTable("inet", "connection_wizard"),)  # type: ignore[union-attr]
    assert not (tmp_path / ".good.json.123.tmp").exists()


def test_session_ids_cannot_escape_the_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Journal(tmp_path).session("../etc/passwd")


def test_resolv_conf_full_tunnel_replaces_servers_and_restores_bytes_and_mode(tmp_path: Path) -> None:
    path = tmp_path / "resolv.conf"
    path.write_bytes(ORIGINAL)
    path.chmod(0o640)
    session = Journal(tmp_path / "j").session("s1")
    entry = ResolvConfDns(path).apply(DnsSettings(("10.99.0.53",), ("corp.example",)), session)
    text = path.read_text()
    assert "nameserver 10.99.0.53" in text and "192.0.2.53" not in text
    assert "search corp.example home.example" in text and "options ndots:2" in text
    assert load(session.path).entries == (entry,)  # journaled with the way back
    assert restore_resolv_conf(entry) is None
    assert path.read_bytes() == ORIGINAL
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_resolv_conf_split_keeps_old_servers_after_the_tunnel_ones() -> None:
    text = render_resolv_conf(DnsSettings(("10.99.0.53",), (), ("corp.example",), default_route=False), ORIGINAL).decode()
    assert [line.split()[1] for line in text.splitlines() if line.startswith("nameserver")] == [
        "10.99.0.53", "192.0.2.53", "192.0.2.54"]  # fmt: skip
    assert "search corp.example home.example" in text


def test_resolv_conf_symlink_and_missing_file_come_back(tmp_path: Path) -> None:
    (tmp_path / "stub").write_bytes(ORIGINAL)
    link = tmp_path / "resolv.conf"
    link.symlink_to("stub")
    session = Journal(tmp_path / "j").session("s2")
    entry = ResolvConfDns(link).apply(DnsSettings(("10.99.0.53",)), session)
    assert not link.is_symlink() and (tmp_path / "stub").read_bytes() == ORIGINAL
    assert restore_resolv_conf(entry) is None
    assert os.readlink(link) == "stub"

    missing = tmp_path / "absent.conf"
    entry = ResolvConfDns(missing).apply(DnsSettings(("10.99.0.53",)), session)
    assert missing.exists()
    assert restore_resolv_conf(entry) is None
    assert not missing.exists()


def test_resolv_conf_edited_by_someone_else_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "resolv.conf"
    path.write_bytes(ORIGINAL)
    entry = ResolvConfDns(path).apply(DnsSettings(("10.99.0.53",)), Journal(tmp_path / "j").session("s3"))
    path.write_bytes(b"nameserver 203.0.113.1\n")
    problem = restore_resolv_conf(entry)
    assert problem is not None and "changed by someone else" in problem
    assert path.read_bytes() == b"nameserver 203.0.113.1\n"


def test_dns_settings_refuse_garbage() -> None:
    with pytest.raises(ValueError):
        DnsSettings(("not-an-ip",))
    with pytest.raises(ValueError):
        DnsSettings((), ("evil\nnameserver 6.6.6.6",))


def fake_resolvectl(tmp_path: Path, fail_on: str = "") -> tuple[Path, Path]:
    log = tmp_path / "calls.jsonl"
    tool = tmp_path / "resolvectl"
    tool.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$*" >> {log}\n'
        f'if [ "$1" = "{fail_on}" ]; then echo "Failed to set: link is unmanaged" >&2; exit 1; fi\n'
    )
    tool.chmod(0o755)
    return tool, log


def test_resolved_split_dns_uses_routing_domains_and_reverts(tmp_path: Path) -> None:
    tool, log = fake_resolvectl(tmp_path)
    session = Journal(tmp_path / "j").session("s4")
    dns = ResolvedDns(str(tool))
    settings = DnsSettings(("10.99.0.53",), ("corp.example",), ("intra.example",), default_route=False)
    entry = asyncio.run(dns.apply("lo", 1, settings, session))
    assert load(session.path).entries == (ResolvedLink(1, "lo"),)
    assert log.read_text().splitlines() == [
        "dns lo 10.99.0.53",
        "domain lo corp.example ~intra.example",
        "default-route lo no",
    ]
    assert asyncio.run(dns.revert(entry)) is None
    assert log.read_text().splitlines()[-1] == "revert lo"


def test_resolved_full_tunnel_takes_the_default_route(tmp_path: Path) -> None:
    tool, log = fake_resolvectl(tmp_path)
    asyncio.run(ResolvedDns(str(tool)).apply("lo", 1, DnsSettings(("10.99.0.53",)), Journal(tmp_path / "j").session("s5")))
    assert log.read_text().splitlines()[1:] == ["domain lo ~.", "default-route lo yes"]


def test_resolved_refusal_is_undone_and_explained(tmp_path: Path) -> None:
    tool, log = fake_resolvectl(tmp_path, fail_on="domain")
    session = Journal(tmp_path / "j").session("s6")
    with pytest.raises(DnsError) as err:
        asyncio.run(ResolvedDns(str(tool)).apply("lo", 1, DnsSettings(("10.99.0.53",)), session))
    assert "link is unmanaged" in err.value.reason
    assert log.read_text().splitlines()[-1] == "revert lo"
    assert json.loads(session.path.read_text())["entries"] == []
