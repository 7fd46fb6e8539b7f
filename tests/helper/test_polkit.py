"""The kill switch needs polkit's yes: a private system bus with a stand-in polkit authority.

The stand-in (test-only) owns org.freedesktop.PolicyKit1 on a private dbus-daemon and answers
CheckAuthorization from a table; it records each question so the test can check that the helper
described the requesting process exactly as the kernel reports it (pid, start time, uid).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helper.conftest import HelperProcess, Lab, Users, make_profile, nft_cleanup, open_client, wait_state, workdir
from wizard.client.client import HelperError
from wizard.helper.peer import PeerCredentials
from wizard.helper.polkit import ACTION_KILL_SWITCH, PolkitAuthority, process_start_time

pytestmark = pytest.mark.root
RIGHT = {"password": "right"}
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={path}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""


@dataclass
class FakeAuthority:
    """Answers CheckAuthorization: uids in ``allowed`` get yes, everyone else no."""

    address: str
    allowed: set[int]
    questions: list[tuple[Any, str]] = field(default_factory=list)

    def serve(self, ready: threading.Event, stop: threading.Event) -> None:
        from jeepney import MessageType, new_error, new_method_return
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        with open_dbus_connection(bus=self.address) as conn:
            conn.send_and_get_reply(message_bus.RequestName("org.freedesktop.PolicyKit1"))
            ready.set()
            while not stop.is_set():
                try:
                    msg = conn.receive(timeout=0.2)
                except TimeoutError:
                    continue
                if msg.header.message_type is not MessageType.method_call:
                    continue
                if msg.header.fields.get(3) != "CheckAuthorization":  # HeaderFields.member
                    conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))
                    continue
                subject, action, _details, _flags, _cancel = msg.body
                self.questions.append((subject, action))
                uid = subject[1]["uid"][1]
                conn.send(new_method_return(msg, "(bba{ss})", ((uid in self.allowed, False, {}),)))


@pytest.fixture(scope="module")
def system_bus() -> Iterator[tuple[str, Path]]:
    if shutil.which("dbus-daemon") is None:
        pytest.fail("dbus-daemon is not installed (packaging/setup.sh installs it)")
    base = workdir()
    socket_path = base / "system_bus_socket"
    (base / "bus.conf").write_text(BUS_CONFIG.format(path=socket_path))
    proc = subprocess.Popen(["dbus-daemon", "--config-file", str(base / "bus.conf"), "--nofork", "--nopidfile",
                             "--print-address"], stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None
    address = proc.stdout.readline().strip()
    try:
        yield address, base
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def authority(system_bus: tuple[str, Path], users: Users) -> Iterator[FakeAuthority]:
    fake = FakeAuthority(system_bus[0], allowed={users.alice.uid})
    ready, stop = threading.Event(), threading.Event()
    thread = threading.Thread(target=fake.serve, args=(ready, stop), daemon=True)
    thread.start()
    assert ready.wait(10), "the stand-in polkit did not get its bus name"
    yield fake
    stop.set()
    thread.join(5)


@pytest.fixture(scope="module")
def polkit_helper(lab: Lab, users: Users, system_bus: tuple[str, Path], authority: FakeAuthority) -> Iterator[HelperProcess]:
    base = workdir()
    process = HelperProcess(
        lab.a, base, users.group, polkit=True, env={"DBUS_SYSTEM_BUS_ADDRESS": system_bus[0]}
    ).start()
    try:
        yield process
    finally:
        process.stop()
        nft_cleanup(lab.a)
        shutil.rmtree(base, ignore_errors=True)


def test_kill_switch_asks_polkit_about_the_exact_process(
    polkit_helper: HelperProcess, authority: FakeAuthority, users: Users
) -> None:
    async def body() -> None:
        async with await open_client(polkit_helper, users.alice) as alice:
            await alice.subscribe()
            sid = (await alice.connect(make_profile("Guarded", kill_switch=True), RIGHT))["id"]
            await wait_state(alice, sid, {"connected"})
            await alice.disconnect(sid)
        async with await open_client(polkit_helper, users.bob) as bob:
            with pytest.raises(HelperError) as err:
                await bob.connect(make_profile("Guarded", kill_switch=True), RIGHT)
            assert err.value.code == "forbidden"
            assert "kill switch was not allowed" in err.value.message and users.bob.name in err.value.message
            plain = await bob.connect(make_profile("Unguarded"), RIGHT)  # no kill switch: no question
            await bob.disconnect(plain["id"])

    asyncio.run(body())
    assert len(authority.questions) == 2
    (kind, details), action = authority.questions[0]
    assert (kind, action) == ("unix-process", ACTION_KILL_SWITCH)
    assert details == {
        "pid": ("u", os.getpid()),
        "start-time": ("t", process_start_time(os.getpid())),
        "uid": ("i", users.alice.uid),
    }
    assert authority.questions[1][0][1]["uid"] == ("i", users.bob.uid)


def test_without_polkit_group_membership_decides(tmp_path: Path) -> None:
    async def body() -> None:
        authority = PolkitAuthority(bus=f"unix:path={tmp_path / 'no-bus-here'}")
        peer = PeerCredentials(uid=12345, gid=12345, pid=os.getpid())
        decision = await authority.check(peer, ACTION_KILL_SWITCH)
        assert decision.allowed and decision.reason == "no polkit on this system"
        gone = await authority.check(PeerCredentials(uid=12345, gid=12345, pid=2**22 + 1), ACTION_KILL_SWITCH)
        assert not gone.allowed

    asyncio.run(body())
