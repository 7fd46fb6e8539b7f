#!/bin/sh
# Set up Connection Wizard from a git checkout on Debian 12, as root:
#   sh packaging/setup.sh         runtime: Debian packages + .venv with the app
#   sh packaging/setup.sh --dev   also test tools, the interop lab's host tools, iperf3 for benchmarks
# Idempotent: a second run only checks that everything is there.
set -eu
cd "$(dirname "$0")/.."

RUNTIME_DEBS="python3 python3-venv ca-certificates iproute2 iputils-ping nftables dbus gnome-keyring
 libegl1 libgl1 libfontconfig1 libglib2.0-0 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0
 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-randr0
 libxcb-shape0 libxcb-xkb1 libxcb-xinerama0"
DEV_DEBS="xvfb xauth trayer desktop-file-utils iperf3 procps qemu-system-x86 debootstrap cpio gzip ike-scan socat"

DEBS="$RUNTIME_DEBS"
EXTRAS=""
if [ "${1:-}" = "--dev" ]; then
    DEBS="$DEBS $DEV_DEBS"
    EXTRAS="[dev]"
fi

missing=""
for deb in $DEBS; do
    dpkg-query -W -f '${Status}' "$deb" 2>/dev/null | grep -q 'ok installed' || missing="$missing $deb"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "setup: missing Debian packages:$missing; run this script as root to install them" >&2
        exit 1
    fi
    echo "setup: installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
    # shellcheck disable=SC2086
    apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    /usr/bin/python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade "pip>=24" 2>&1 | grep -v '^WARNING: Location' || true
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".$EXTRAS" 2>&1 | grep -v '^WARNING: Location' || true
.venv/bin/python -c "import wizard, PySide6, cryptography, pyroute2, keyring" || {
    echo "setup: the virtualenv is incomplete; see the pip output above" >&2
    exit 1
}
echo "setup: ready (.venv/bin/connection-wizard)"
