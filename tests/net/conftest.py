"""Throwaway network namespaces for the root-only data plane tests.

Each test gets two fresh namespaces joined by a veth pair (documentation addresses) and loses them
in the fixture's finalizer, also when the test fails. Names carry our pid, so leftovers of a killed
run are recognised and removed by the next run.
"""

from __future__ import annotations

import itertools
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.netns_util import ip, remove_stale_namespaces, require_root

PREFIX = "cwt-"
_counter = itertools.count()


def _remove_stale() -> None:
    remove_stale_namespaces(PREFIX, "ab")


@dataclass(frozen=True)
class NsPair:
    """Namespace ``a`` (veth ``va``, 192.0.2.1, 2001:db8:1::1) <-> ``b`` (``vb``, .2, ::2).

    In ``a`` the default routes point to 192.0.2.254 / 2001:db8:1::ff (an "old default route" to pin
    a VPN gateway's host route to); nothing answers there.
    """

    a: str
    b: str
    a_addr: str = "192.0.2.1"
    b_addr: str = "192.0.2.2"
    a_addr6: str = "2001:db8:1::1"
    b_addr6: str = "2001:db8:1::2"
    a_if: str = "va"
    b_if: str = "vb"
    default_gw: str = "192.0.2.254"
    default_gw6: str = "2001:db8:1::ff"


@pytest.fixture
def ns_pair() -> Iterator[NsPair]:
    require_root()
    _remove_stale()
    n = next(_counter)
    pair = NsPair(a=f"{PREFIX}{os.getpid()}-{n}a", b=f"{PREFIX}{os.getpid()}-{n}b")
    try:
        for name in (pair.a, pair.b):
            ip("netns", "add", name)
            ip("-n", name, "link", "set", "lo", "up")
        ip("-n", pair.a, "link", "add", pair.a_if, "type", "veth", "peer", "name", pair.b_if, "netns", pair.b)
        for ns, ifname, v4, v6 in (
            (pair.a, pair.a_if, pair.a_addr, pair.a_addr6),
            (pair.b, pair.b_if, pair.b_addr, pair.b_addr6),
        ):
            ip("-n", ns, "addr", "add", f"{v4}/24", "dev", ifname)
            ip("-n", ns, "addr", "add", f"{v6}/64", "dev", ifname, "nodad")
            ip("-n", ns, "link", "set", ifname, "up")
        ip("-n", pair.a, "route", "add", "default", "via", pair.default_gw)
        ip("-n", pair.a, "-6", "route", "add", "default", "via", pair.default_gw6)
        yield pair
    finally:
        for name in (pair.a, pair.b):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
