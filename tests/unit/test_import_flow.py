"""Import previews, phonebooks and the diagnostics report, without Qt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wizard.gui.flow.diagnostics import diagnostics_report
from wizard.gui.flow.importing import fresh_copy, path_from_uri, preview_import, unused_name
from wizard.gui.flow.phonebook import gateway_title, gateways_from_data, load_phonebook
from wizard.gui.flow.sessions import LogLine
from wizard.logsetup import register_secret
from wizard.profiles.codec import export_document
from wizard.profiles.errors import ValidationError
from wizard.profiles.model import Auth, Gateway, Profile, Protocol

PROFILE = Profile(
    name="Office",
    protocol=Protocol.PPTP,
    gateways=(Gateway("vpn.example.com", "Main"), Gateway("vpn2.example.com")),
    auth=Auth(username="alice.smith"),
)


def test_preview_of_an_export_gets_a_new_id_and_lists_weaknesses(tmp_path: Path) -> None:
    path = tmp_path / "office.json"
    path.write_text(json.dumps(export_document(PROFILE)))
    preview = preview_import(path, taken_names=["office"])
    assert preview.ok and preview.profile is not None
    assert preview.profile.id != PROFILE.id and preview.profile.name == "Office"
    assert preview.name_taken
    assert "vpn.example.com" in preview.description
    assert any("PPTP" in w for w in preview.warnings)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01 not json", "not JSON"),
        (b'{"format": "something-else", "profile": {}}', "cannot be imported"),
        (b'{"name": "x", "protocol": "pptp", "gateways": [{"host": "a b"}]}', "gateways[0].host"),
    ],
)
def test_preview_explains_bad_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    preview = preview_import(path)
    assert not preview.ok and message in preview.error


def test_preview_of_a_missing_or_huge_file(tmp_path: Path) -> None:
    assert "Cannot read" in preview_import(tmp_path / "nope.json").error
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (2 << 20))
    assert "larger than 1 MiB" in preview_import(big).error


def test_drop_uris() -> None:
    assert path_from_uri("file:///home/a/My%20VPN.json") == Path("/home/a/My VPN.json")
    assert path_from_uri("/tmp/x.json") == Path("/tmp/x.json")
    assert path_from_uri("https://example.com/x.json") is None
    assert path_from_uri("file://otherhost/x.json") is None


def test_names_and_copies() -> None:
    assert unused_name("Office", ["Home"]) == "Office"
    assert unused_name("Office", ["office", "Office (2)"]) == "Office (3)"
    copy = fresh_copy(PROFILE, "Office (copy)")
    assert copy.id != PROFILE.id and copy.name == "Office (copy)" and copy.gateways == PROFILE.gateways


def test_phonebook_shapes(tmp_path: Path) -> None:
    assert [g.host for g in gateways_from_data(export_document(PROFILE))] == ["vpn.example.com", "vpn2.example.com"]
    book = {"gateways": [{"host": "a.example.com", "label": "A", "region": "EU"}, "b.example.com", "A.example.com"]}
    gateways = gateways_from_data(book)
    assert gateways == [Gateway("a.example.com", "A", "EU"), Gateway("b.example.com")]  # duplicates dropped
    assert gateway_title(gateways[0]) == "A (EU) - a.example.com" and gateway_title(gateways[1]) == "b.example.com"
    path = tmp_path / "book.json"
    path.write_text(json.dumps(["192.0.2.1", "192.0.2.2"]))
    assert len(load_phonebook(path)) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "no gateways"),
        ({"gateways": [{"label": "x"}]}, "needs a host"),
        ({"gateways": [{"host": "a.example.com", "colour": "red"}]}, "colour"),
        ({"gateways": ["bad host"]}, "gateways[0].host"),
    ],
)
def test_bad_phonebooks(data: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        gateways_from_data(data)


def test_bad_phonebook_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot read"):
        load_phonebook(tmp_path / "missing.json")
    junk = tmp_path / "junk.json"
    junk.write_text("{")
    with pytest.raises(ValidationError, match="not a JSON phonebook"):
        load_phonebook(junk)


def test_diagnostics_report_is_redacted() -> None:
    register_secret("Tr0ub4dor-pw")
    session = {
        "state": "connected",
        "message": "connected",
        "kill_switch": True,
        "negotiated": {"address": "10.0.0.5", "encryption": "MPPE-128 stateless"},
        "counters": {"uptime": 61, "bytes_in": 4096, "bytes_out": 100, "packets_in": 4, "packets_out": 1},
    }
    log = [
        LogLine(1.0, "authenticating as alice.smith"),
        LogLine(2.0, "oops Tr0ub4dor-pw leaked", True),
        LogLine(3.0, "psk=hunter22"),
    ]
    report = diagnostics_report(PROFILE, session, log, service="available", versions={"Qt": "6.x"})
    assert "alice.smith" not in report and "[user]" in report
    assert "Tr0ub4dor-pw" not in report and "hunter22" not in report
    assert "MPPE-128 stateless" in report and "10.0.0.5" in report and "4.0 KiB" in report
    assert "Qt:" in report and "ERROR" in report and "WEAK" in report
    empty = diagnostics_report(PROFILE, None, [], service="unavailable: not running")
    assert "not connected" in empty and "(empty)" in empty
