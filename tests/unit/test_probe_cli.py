"""``connection-wizard probe``: mistakes end with one line and exit code 2, before any packet is sent."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from wizard.cli import main
from wizard.probe import ProbeError, probe


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["probe", "not a host!"], "is not a host name or IP address"),
        (["probe", "192.0.2.1", "--timeout", "0"], "timeout must be between 0.2 and 30 seconds"),
        (["probe", "192.0.2.1", "--ike-source-port", "70000"], "70000 is not a UDP port"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config-dir", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("connection-wizard: error: ") and message in err


def test_unknown_protocol_is_an_argparse_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--config-dir", str(tmp_path), "probe", "192.0.2.1", "--only", "ikev3"])
    assert exc.value.code == 2
    assert "choose from ikev2,ikev1,l2tp,pptp" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ikev2_proposals": ()}, "needs at least one proposal"),
        ({"ikev1_proposals": ("aes256gcm16-prfsha256-modp2048",)}, "IKEv1 cannot negotiate"),
        ({"ikev2_proposals": ("aes256-sha256",)}, "needs a Diffie-Hellman group"),
        ({"ikev2_proposals": ("aes256-sha256-modp2048",) * 13}, "at most 12"),
        ({"protocols": ("sstp",)}, "protocols must be among"),
        ({"window": 0}, "window must be at least 1"),
    ],
)
def test_library_rejects_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ProbeError, match=message):
        asyncio.run(probe("192.0.2.1", **kwargs))  # type: ignore[arg-type]
