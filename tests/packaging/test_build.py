"""The installable executable and the .deb build, and the frozen program really runs."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_pyinstaller_folder_and_deb_build_and_run(tmp_path: Path) -> None:
    build = subprocess.run(["sh", "packaging/build.sh"], cwd=REPO, capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    debs = sorted((REPO / "build").glob("connection-wizard_*.deb"))
    assert debs, build.stdout
    contents = subprocess.run(["dpkg-deb", "-c", str(debs[-1])], capture_output=True, text=True, check=True).stdout
    for path in (
        "./usr/bin/connection-wizard",
        "./lib/systemd/system/connection-wizard.socket",
        "./usr/share/polkit-1/actions/org.connectionwizard.helper.policy",
        "./usr/lib/sysusers.d/connection-wizard.conf",
        "./etc/xdg/autostart/connection-wizard-tray.desktop",
        "./usr/lib/connection-wizard/_internal/resources/icons/vpn-connected.svg",
    ):
        assert path in contents, path
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(root)], check=True)
    binary = root / "usr" / "bin" / "connection-wizard"
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("connection-wizard "), version.stderr
    env = {"XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_STATE_HOME": str(tmp_path / "state"), "PATH": "/usr/bin:/bin"}
    bad = subprocess.run([str(binary), "show", "nobody"], capture_output=True, text=True, timeout=60, env=env)
    assert bad.returncode == 2 and "no connection named 'nobody'" in bad.stderr and "Traceback" not in bad.stderr
