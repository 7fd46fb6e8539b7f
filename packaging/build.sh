#!/bin/sh
# Build the installable executable (PyInstaller, one folder) and a .deb around it, as root or not:
#   sh packaging/build.sh        -> build/dist/connection-wizard/ and build/connection-wizard_<version>_<arch>.deb
# Needs the dev set-up first (sh packaging/setup.sh --dev), which installs PyInstaller.
set -eu
cd "$(dirname "$0")/.."
VERSION=$(.venv/bin/python -c 'import wizard; print(wizard.__version__)')
ARCH=$(dpkg --print-architecture)
.venv/bin/pyinstaller --noconfirm --log-level ERROR --distpath build/dist --workpath build/work \
    packaging/connection-wizard.spec

ROOT=build/deb/connection-wizard
rm -rf "$ROOT"
install -d "$ROOT/DEBIAN" "$ROOT/usr/lib" "$ROOT/usr/bin"
cp -a build/dist/connection-wizard "$ROOT/usr/lib/connection-wizard"
ln -s ../lib/connection-wizard/connection-wizard "$ROOT/usr/bin/connection-wizard"
install -D -m 0644 resources/systemd/connection-wizard.service "$ROOT/lib/systemd/system/connection-wizard.service"
install -D -m 0644 resources/systemd/connection-wizard.socket "$ROOT/lib/systemd/system/connection-wizard.socket"
install -D -m 0644 resources/polkit/org.connectionwizard.helper.policy \
    "$ROOT/usr/share/polkit-1/actions/org.connectionwizard.helper.policy"
install -D -m 0644 resources/sysusers.d/connection-wizard.conf "$ROOT/usr/lib/sysusers.d/connection-wizard.conf"
install -D -m 0644 resources/connection-wizard.desktop "$ROOT/usr/share/applications/connection-wizard.desktop"
install -D -m 0644 resources/connection-wizard-tray.desktop "$ROOT/etc/xdg/autostart/connection-wizard-tray.desktop"
install -D -m 0644 resources/icons/connection-wizard.svg "$ROOT/usr/share/icons/hicolor/scalable/apps/connection-wizard.svg"

cat > "$ROOT/DEBIAN/control" <<CONTROL
Package: connection-wizard
Version: $VERSION
Architecture: $ARCH
Maintainer: Connection Wizard developers <noreply@connection-wizard.invalid>
Depends: iproute2, nftables, dbus, libegl1, libgl1, libfontconfig1, libglib2.0-0, libxkbcommon0, libxkbcommon-x11-0, libxcb-cursor0
Recommends: gnome-keyring | kwalletmanager, policykit-1
Section: net
Priority: optional
Description: VPN client for IKEv2, L2TP/IPsec, IPsec, L2TP and PPTP
 A New Connection wizard and a tray app; a bundled userspace protocol engine runs in a small
 privileged helper reached over a Unix socket (group connection-wizard).
CONTROL
cat > "$ROOT/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
    systemd-sysusers /usr/lib/sysusers.d/connection-wizard.conf 2>/dev/null || getent group connection-wizard >/dev/null || addgroup --system connection-wizard
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload
        systemctl enable --now connection-wizard.socket || true
    fi
fi
POSTINST
cat > "$ROOT/DEBIAN/prerm" <<'PRERM'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
    systemctl disable --now connection-wizard.socket connection-wizard.service || true
fi
PRERM
chmod 0755 "$ROOT/DEBIAN/postinst" "$ROOT/DEBIAN/prerm"
dpkg-deb --build --root-owner-group "$ROOT" "build/connection-wizard_${VERSION}_${ARCH}.deb" >/dev/null
echo "built build/dist/connection-wizard/ and build/connection-wizard_${VERSION}_${ARCH}.deb"
