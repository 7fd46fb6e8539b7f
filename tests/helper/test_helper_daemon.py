"""The real helper as root in a network namespace, used by real unprivileged users.

Authorisation (members yes, outsiders no, each user sees only their own sessions), the protocol's
error replies (the connection stays usable), and whole sessions with the test stack: connect,
traffic through the tunnel, counters, DNS, reconnect with back-off, deliberate disconnect.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import stat

import pytest

from tests.helper.conftest import (
    ORIGINAL_RESOLV,
    HelperProcess,
    Lab,
    Users,
    connect_as,
    in_ns,
    make_profile,
    open_client,
    wait_state,
)
from wizard.client.client import HelperClient, HelperError, unavailable
from wizard.profiles.codec import profile_to_dict

pytestmark = pytest.mark.root
RIGHT = {"password": "right"}


def test_socket_is_group_only(helper: HelperProcess, users: Users) -> None:
    info = os.stat(helper.socket_path)
    assert stat.S_IMODE(info.st_mode) == 0o660
    assert (info.st_uid, info.st_gid) == (0, users.gid)
    assert stat.S_IMODE(os.stat(helper.socket_path.parent).st_mode) == 0o755


def test_member_says_hello_with_its_own_credentials(helper: HelperProcess, users: Users) -> None:
    async def body() -> None:
        async with await open_client(helper, users.alice) as client:
            hello = await client.hello()
        assert hello["uid"] == users.alice.uid and hello["is_root"] is False
        assert hello["pid"] == os.getpid()
        assert "connect" in hello["methods"]

    asyncio.run(body())


def test_outsider_cannot_open_the_socket_and_is_told_why(helper: HelperProcess, users: Users) -> None:
    with pytest.raises(PermissionError) as err:
        connect_as(helper.socket_path, users.mallory)
    message = str(unavailable(helper.socket_path, err.value))
    assert "connection-wizard" in message and "usermod -aG" in message


def test_outsider_reaching_the_socket_is_refused_by_the_helper(helper: HelperProcess, users: Users) -> None:
    """Defence in depth: even with the socket opened up, the helper checks SO_PEERCRED itself."""

    async def body() -> None:
        os.chmod(helper.socket_path, 0o666)
        try:
            sock = connect_as(helper.socket_path, users.mallory)
        finally:
            os.chmod(helper.socket_path, 0o660)
        async with await HelperClient.open(helper.socket_path, sock=sock) as client:
            with pytest.raises(HelperError) as err:
                await client.hello()
        assert err.value.code == "forbidden"
        assert users.mallory.name in err.value.message and users.group in err.value.message

    asyncio.run(body())


def _raw_exchange(path: object, lines: list[bytes], user: object) -> list[dict[str, object]]:
    sock = connect_as(path, user)  # type: ignore[arg-type]
    sock.setblocking(True)
    sock.settimeout(10)
    replies = []
    with sock, sock.makefile("rb") as f:
        for line in lines:
            sock.sendall(line)
            replies.append(json.loads(f.readline()))
    return replies


def test_bad_requests_get_clear_errors_and_the_connection_keeps_working(helper: HelperProcess, users: Users) -> None:
    big = b'{"version":1,"id":1,"method":"hello","params":{"client":"' + b"x" * (1024 * 1024 + 10) + b'"}}\n'
    lines = [
        b"this is not json\n",
        b"[1, 2]\n",
        big,
        b'{"version":1,"id":2,"method":"reboot"}\n',
        b'{"version":1,"id":3,"method":"hello","params":{"clinet":"x"}}\n',
        b'{"version":1,"id":4,"method":"hello","params":{"client":5}}\n',
        b'{"version":2,"id":5,"method":"hello"}\n',
        b'{"version":1,"id":6,"method":"hello","extra":true}\n',
        b'{"version":1,"id":7,"method":"connect","params":{"profile":{"name":"x"},"secrets":{}}}\n',
        b'{"version":1,"id":8,"method":"disconnect","params":{}}\n',
        b'{"version":1,"id":9,"method":"hello"}\n',
    ]
    replies = _raw_exchange(helper.socket_path, lines, users.alice)
    codes = [r.get("error", {}).get("code") for r in replies]  # type: ignore[union-attr]
    assert codes == [
        "parse_error",
        "parse_error",
        "too_large",
        "unknown_method",
        "invalid_params",
        "invalid_params",
        "unsupported_version",
        "bad_request",
        "invalid_params",
        "invalid_params",
        None,
    ]
    messages = [str(r.get("error", {}).get("message", "")) for r in replies]  # type: ignore[union-attr]
    assert "1048576 bytes" in messages[2]
    assert "'reboot'" in messages[3] and "hello" in messages[3]
    assert "params.clinet" in messages[4]
    assert "params.client: must be text" in messages[5]
    assert "params.profile" in messages[8]
    assert "params.session: is required" in messages[9]
    assert [r.get("id") for r in replies][3:] == [2, 3, 4, 5, 6, 7, 8, 9]
    assert replies[-1]["result"]["uid"] == users.alice.uid  # type: ignore[index]


def test_secrets_are_never_echoed_in_errors(helper: HelperProcess, users: Users) -> None:
    profile = profile_to_dict(make_profile("Echo"))
    request = {"version": 1, "id": 1, "method": "connect",
               "params": {"profile": profile, "secrets": {"password": "right", "psk": "TOPSECRETVALUE"}}}  # fmt: skip
    reply = _raw_exchange(helper.socket_path, [json.dumps(request).encode() + b"\n"], users.alice)[0]
    assert reply["error"]["code"] == "invalid_params"  # type: ignore[index]
    assert "TOPSECRETVALUE" not in json.dumps(reply) and "right" not in json.dumps(reply)
    assert not any("TOPSECRETVALUE" in line or "right" in line.split() for line in helper.log)


def test_member_connects_pings_through_the_tunnel_and_disconnects(helper: HelperProcess, users: Users, lab: Lab) -> None:
    profile = make_profile("Office", split_domains=("corp.example",))

    async def body() -> None:
        async with await open_client(helper, users.alice) as client:
            await client.subscribe()
            session = await client.connect(profile, RIGHT)
            assert session["state"] == "connecting" and session["owner_uid"] == users.alice.uid
            sid = session["id"]
            progress = []
            while True:
                event = await client.next_event(timeout=10)
                assert event is not None
                if event["event"] == "progress":
                    progress.append(event["phase"])
                if event["event"] == "state" and event["state"] == "connected":
                    info = event["info"]
                    break
                assert event["event"] != "error", event
            assert progress[:1] == ["control"] and "network" in progress
            assert info["ifname"].startswith("cwt") and info["negotiated"]["protocol"] == "test"

            # Full tunnel: a far address goes into the TUN; the test stack answers the pings.
            ping = in_ns(lab.a, "ping", "-c", "3", "-i", "0.2", "-W", "2", "198.51.100.7")
            assert ping.returncode == 0, ping.stdout + ping.stderr
            routes = in_ns(lab.a, "ip", "route", "show", "proto", "119").stdout
            assert "0.0.0.0/1" in routes and "128.0.0.0/1" in routes and "192.0.2.2 dev va" in routes
            conf = helper.resolv_conf.read_text()
            assert "nameserver 10.99.0.53" in conf and "corp.example" in conf

            status = (await client.status(sid))[0]
            counters = status["counters"]
            assert counters["packets_in"] >= 3 and counters["packets_out"] >= 3
            assert counters["bytes_in"] >= 3 * 84 and counters["uptime"] >= 0
            while True:  # the per-second counters event carries a rate too
                event = await client.next_event(timeout=5)
                assert event is not None
                if event["event"] == "counters" and event["session"] == sid:
                    assert {"rate_in", "rate_out", "uptime", "bytes_in"} <= set(event["counters"])
                    break

            final = await client.disconnect(sid)
            assert final["state"] == "disconnected"
            assert await client.list_sessions() == []
        assert helper.resolv_conf.read_bytes() == ORIGINAL_RESOLV
        assert in_ns(lab.a, "ip", "route", "show", "proto", "119").stdout == ""
        assert "cwt" not in in_ns(lab.a, "ip", "link").stdout
        assert list(helper.journal_dir.glob("*.json")) == []

    asyncio.run(body())


def test_users_see_and_control_only_their_own_sessions(helper: HelperProcess, users: Users) -> None:
    profile = make_profile("Alice VPN", split=("198.51.100.0/24",))

    async def body() -> None:
        alice = await open_client(helper, users.alice)
        bob = await open_client(helper, users.bob)
        root = await open_client(helper, None)
        try:
            await alice.subscribe()
            await bob.subscribe()
            sid = (await alice.connect(profile, RIGHT))["id"]
            await wait_state(alice, sid, {"connected"})
            assert await bob.list_sessions() == []
            assert await bob.status() == []
            for call in (bob.status(sid), bob.disconnect(sid), bob.subscribe(sid)):
                with pytest.raises(HelperError) as err:
                    await call
                assert err.value.code == "not_found"
            assert [s["id"] for s in await root.list_sessions()] == [sid]
            assert (await alice.status(sid))[0]["state"] == "connected"
            with pytest.raises(TimeoutError):  # bob got no event about alice's session
                await bob.next_event(timeout=0.3)
            assert (await root.disconnect(sid))["state"] == "disconnected"  # root may
        finally:
            for client in (alice, bob, root):
                await client.close()

    asyncio.run(body())


def test_wrong_password_fails_with_the_reason_and_does_not_retry(helper: HelperProcess, users: Users) -> None:
    async def body() -> None:
        async with await open_client(helper, users.bob) as client:
            await client.subscribe()
            sid = (await client.connect(make_profile("Bob"), {"password": "wrong"}))["id"]
            event = await wait_state(client, sid, {"disconnected", "failed", "connected"})
            assert event["state"] == "disconnected"
            assert "rejected the user name or password" in event["reason"]
            assert event["info"]["attempt"] == 0
            assert await client.list_sessions() == []

    asyncio.run(body())


def test_lost_link_reconnects_with_backoff_and_says_so(helper: HelperProcess, users: Users) -> None:
    async def body() -> None:
        async with await open_client(helper, users.alice) as client:
            await client.subscribe()
            sid = (await client.connect(make_profile("Flaky", "flaky"), RIGHT))["id"]
            seen = []
            while True:
                event = await client.next_event(timeout=10)
                assert event is not None
                if event.get("session") != sid:
                    continue
                if event["event"] == "state":
                    seen.append((event["state"], event["info"]["attempt"]))
                if event["event"] == "error":
                    seen.append(("error", event["reason"]))
                if seen.count(("connected", 0)) == 1 and seen[-1][0] == "connected" and len(seen) > 2:
                    break
            states = [s for s, _ in seen]
            assert states[0] == "connected"
            assert ("error", "the server stopped answering (test stack)") in seen
            assert ("error", "no answer from the VPN server (test stack)") in seen
            assert ("reconnecting", 1) in seen and ("reconnecting", 2) in seen
            assert states[-1] == "connected"
            await client.disconnect(sid)

    asyncio.run(body())


def test_disconnect_while_connecting_never_reconnects(helper: HelperProcess, users: Users) -> None:
    async def body() -> None:
        async with await open_client(helper, users.alice) as client:
            await client.subscribe()
            sid = (await client.connect(make_profile("Slow", "slow"), RIGHT))["id"]
            final = await asyncio.wait_for(client.disconnect(sid), 5)
            assert final["state"] == "disconnected" and final["reason"] == "disconnected by the user"
            assert await client.list_sessions() == []
            with pytest.raises(TimeoutError):
                while True:
                    event = await client.next_event(timeout=0.5)
                    assert event is not None and event.get("state") not in ("connecting", "reconnecting")

    asyncio.run(body())


def test_slow_subscriber_is_dropped_with_a_note_and_others_are_served(helper: HelperProcess, users: Users) -> None:
    async def body() -> None:
        lazy = connect_as(helper.socket_path, users.bob)
        lazy.setblocking(True)
        lazy.sendall(b'{"version":1,"id":1,"method":"subscribe"}\n')
        async with await open_client(helper, users.bob) as busy:
            for i in range(400):  # each failed connect makes several events for bob's subscribers
                session = await busy.connect(make_profile(f"Spam {i}"), {"password": "wrong"})
                assert session["state"] == "connecting"
            assert (await busy.hello())["uid"] == users.bob.uid
        lazy.settimeout(10)
        data = b""
        with lazy:
            while b"subscription_dropped" not in data:
                chunk = lazy.recv(1 << 20)
                assert chunk, "the helper closed the lazy client instead of noting the drop"
                data += chunk
            lazy.sendall(b'{"version":1,"id":2,"method":"hello"}\n')  # still usable afterwards
            while b'"id":2' not in data:
                data += lazy.recv(1 << 20)

    asyncio.run(body())


def test_client_reports_a_missing_helper_plainly(tmp_path: object) -> None:
    async def body() -> None:
        with pytest.raises(HelperError) as err:
            await HelperClient.open(tmp_path / "nope.sock")  # type: ignore[operator]
        assert "not running" in err.value.message and "systemctl" in err.value.message

    asyncio.run(body())


def test_cli_connect_status_disconnect(helper: HelperProcess, users: Users, tmp_path: object) -> None:
    """The real CLI as a subprocess (root, a member by definition): secrets on stdin, never in argv."""
    import subprocess
    import sys

    from wizard.profiles.codec import profile_to_json

    home = tmp_path  # type: ignore[assignment]
    profile_file = home / "p.json"  # type: ignore[operator]
    profile_file.write_text(profile_to_json(make_profile("Cli VPN")))
    env = {**os.environ, "XDG_CONFIG_HOME": str(home / "cfg"), "XDG_STATE_HOME": str(home / "state")}  # type: ignore[operator]

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "wizard", *args], input=stdin, capture_output=True, text=True,
                              env=env, timeout=30, check=False)  # fmt: skip

    assert cli("import", str(profile_file)).returncode == 0
    sock = str(helper.socket_path)
    connected = cli("connect", "Cli VPN", "--secrets-stdin", "--socket", sock, stdin="right\n")
    assert connected.returncode == 0, connected.stderr
    assert "[control]" in connected.stdout and "Connected 'Cli VPN'" in connected.stdout
    status = cli("status", "--socket", sock)
    assert "Cli VPN  [connected]" in status.stdout and "up " in status.stdout
    watch = subprocess.Popen([sys.executable, "-m", "wizard", "status", "--watch", "--socket", sock], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert watch.stdout is not None
    frames = 0
    for output in watch.stdout:  # one frame now, then one per counters event (about a second)
        frames += output.startswith(("0", "1", "2"))  # each frame starts with the time of day
        if frames == 2:
            break
    watch.send_signal(signal.SIGINT)
    assert watch.wait(10) == 0 and "Traceback" not in watch.stderr.read()  # type: ignore[union-attr]
    gone = cli("disconnect", "--socket", sock)
    assert gone.returncode == 0 and "Disconnected 'Cli VPN'" in gone.stdout
    assert "No active connections." in cli("status", "--socket", sock).stdout
    nobody = cli("disconnect", "--socket", sock)
    assert nobody.returncode == 2 and "no active connection" in nobody.stderr
    wrong = cli("connect", "Cli VPN", "--secrets-stdin", "--socket", sock, stdin="nope\n")
    assert wrong.returncode == 1 and "rejected the user name or password" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_unix_socket_peer_is_the_connecting_user() -> None:
    a, b = socket.socketpair()
    with a, b:
        from wizard.helper.peer import peer_credentials

        creds = peer_credentials(a)
        assert (creds.uid, creds.pid) == (os.geteuid(), os.getpid())


def test_socket_activation_uses_the_handed_over_socket(lab: Lab, users: Users) -> None:
    """systemd passes the listening socket as fd 3 with LISTEN_PID/LISTEN_FDS; the helper uses it."""
    import shutil
    import subprocess
    import sys

    from tests.helper.conftest import ROOT, workdir

    base = workdir()
    path = base / "activated.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    os.chmod(path, 0o666)
    listener.listen(8)
    helper_argv = ["ip", "netns", "exec", lab.a, sys.executable, "-m", "wizard", "helper",
                   "--socket", str(base / "unused" / "x.sock"), "--state-dir", str(base / "state"),
                   "--group", users.group, "--dns", "off", "--stack-factory", "tests.helper.fakestack:build_stack",
                   "--no-polkit"]  # fmt: skip
    # The wrapper moves the socket to fd 3 and sets LISTEN_PID to its own pid, which exec keeps for
    # ip and then python: exactly what systemd hands a socket-activated service.
    fd = listener.fileno()
    wrapper = (f"import os, sys; os.dup2({fd}, 3); os.close({fd}); os.environ['LISTEN_PID'] = str(os.getpid()); "
               "os.environ['LISTEN_FDS'] = '1'; os.execvp(sys.argv[1], sys.argv[1:])")  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", wrapper, *helper_argv], cwd=ROOT, pass_fds=(fd,), stdin=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    try:
        assert proc.stderr is not None
        log = []
        for raw in proc.stderr:
            log.append(raw.decode(errors="replace"))
            if raw.startswith(b"helper: ready"):
                break
        else:
            raise AssertionError("the activated helper did not start:\n" + "".join(log))

        async def body() -> None:
            async with await HelperClient.open(path, sock=connect_as(path, users.alice)) as client:
                assert (await client.hello())["uid"] == users.alice.uid
            sock = connect_as(path, users.mallory)  # the unit's 0660 is not there: the helper refuses
            async with await HelperClient.open(path, sock=sock) as client:
                with pytest.raises(HelperError) as err:
                    await client.hello()
                assert err.value.code == "forbidden"

        asyncio.run(body())
        assert not (base / "unused").exists()  # it did not create a socket of its own
    finally:
        proc.terminate()
        proc.wait(10)
        listener.close()
    assert path.exists()  # an activated socket belongs to systemd: left in place
    shutil.rmtree(base, ignore_errors=True)


def test_two_sessions_never_stack_resolv_conf_edits(helper: HelperProcess, users: Users) -> None:
    """The first session owns resolv.conf; the original comes back whatever order they end in."""

    async def body() -> None:
        async with await open_client(helper, users.alice) as alice, await open_client(helper, users.bob) as bob:
            await alice.subscribe()
            await bob.subscribe()
            first = (await alice.connect(make_profile("A", split_domains=("alice.example",)), RIGHT))["id"]
            await wait_state(alice, first, {"connected"})
            second = (await bob.connect(make_profile("B", split_domains=("bob.example",)), RIGHT))["id"]
            await wait_state(bob, second, {"connected"})
            text = helper.resolv_conf.read_text()
            assert "alice.example" in text and "bob.example" not in text
            await alice.disconnect(first)
            assert helper.resolv_conf.read_bytes() == ORIGINAL_RESOLV
            await bob.disconnect(second)
            assert helper.resolv_conf.read_bytes() == ORIGINAL_RESOLV

    asyncio.run(body())


def test_the_same_connection_cannot_be_started_twice(helper: HelperProcess, users: Users) -> None:
    profile = make_profile("Twice")

    async def body() -> None:
        async with await open_client(helper, users.alice) as client:
            await client.subscribe()
            sid = (await client.connect(profile, RIGHT))["id"]
            await wait_state(client, sid, {"connected"})
            with pytest.raises(HelperError) as err:
                await client.connect(profile, RIGHT)
            assert err.value.code == "limit" and "already connected" in err.value.message
            await client.disconnect(sid)
            again = await client.connect(profile, RIGHT)  # fine once the first has ended
            await client.disconnect(again["id"])

    asyncio.run(body())
