#!/bin/sh
# Inside a D-Bus session: start an unlocked, throwaway GNOME Keyring (Secret Service), then run "$@".
set -eu
XDG_DATA_HOME=$(mktemp -d)
export XDG_DATA_HOME
eval "$(printf 'test-keyring' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
status=0
"$@" || status=$?
rm -rf "$XDG_DATA_HOME"
exit $status
