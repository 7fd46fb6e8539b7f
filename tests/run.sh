#!/bin/sh
# Every check, as CI runs it (as root on Debian 12): set-up, ruff, mypy, then pytest (unit, vectors,
# pairs, fuzz, GUI offscreen, real Secret Service, network namespaces, and the interop lab VM with
# the real strongSwan/xl2tpd/pptpd, which the interop fixture builds and boots itself).
# Extra arguments go to pytest, e.g. `sh tests/run.sh tests/unit -x`.
set -eu
cd "$(dirname "$0")/.."
sh packaging/setup.sh --dev
echo "== ruff"
.venv/bin/ruff check .
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
export QT_QPA_PLATFORM=offscreen
exec dbus-run-session -- sh tests/with-keyring.sh .venv/bin/python -m pytest "$@"
