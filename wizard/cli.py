"""``connection-wizard``: the command-line entry point.

Every user mistake ends with one line naming what was wrong and how to fix it, and exit code 2;
no traceback reaches the user. Secrets are read from stdin or a no-echo prompt, never from argv
(other users can read argv through /proc).
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from wizard import __version__
from wizard.client.commands import HELPER_COMMANDS, add_helper_commands
from wizard.logsetup import register_secret, setup_logging
from wizard.probe.cli import add_probe_command, cmd_probe
from wizard.profile_flags import add_profile_flags, default_secrets, flag_for, merge, overrides_from_args
from wizard.profiles.codec import export_document, import_document, profile_from_dict, profile_to_dict
from wizard.profiles.errors import ProfileError, ProfileNotFound, SecretsUnavailable, ValidationError
from wizard.profiles.model import SCHEMA_VERSION, Profile, Protocol, SecretKind, default_mppe
from wizard.profiles.secrets import SecretStore
from wizard.profiles.store import MAX_PROFILE_BYTES, ProfileStore, atomic_write
from wizard.summary import describe_profile

EXIT_USAGE = 2
log = logging.getLogger("wizard.cli")


class UsageError(Exception):
    """A mistake the user can fix; printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\nRun '{self.prog} --help' to see the options.\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="connection-wizard", description="Connect to your organisation's VPN.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--config-dir", type=Path, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    sub.add_parser("list", help="list stored connections")
    show = sub.add_parser("show", help="show one connection")
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help="print the stored JSON")

    add = sub.add_parser("add", help="create a connection from flags or a JSON file")
    add.add_argument("--from-json", type=Path, metavar="FILE", help="start from a profile JSON file")
    add_profile_flags(add, creating=True)

    edit = sub.add_parser("edit", help="change fields of a stored connection")
    edit.add_argument("name")
    add_profile_flags(edit, creating=False)

    remove = sub.add_parser("remove", help="delete a connection and its saved secrets")
    remove.add_argument("name")

    export = sub.add_parser("export", help="write a connection to a file (never includes secrets)")
    export.add_argument("name")
    export.add_argument("file", type=Path, help="output file, or - for stdout")

    imp = sub.add_parser("import", help="create a connection from an exported file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--dry-run", action="store_true", help="only show what would be created")
    imp.add_argument("--rename", metavar="NAME", help="store it under another name")

    sub.add_parser("gui", help="open the connections window")
    sub.add_parser("new", help="open the New Connection wizard")
    sub.add_parser("tray", help="the system tray app (a small window where no tray exists)")
    gateway = sub.add_parser("gateway", help="run our own PPTP/L2TP gateway (root) from a JSON config")
    gateway.add_argument("--config", type=Path, required=True, metavar="FILE", help="gateway configuration (JSON)")
    sub.add_parser("demo", help="a real connection through the helper to our own local gateway (root)")
    add_helper_commands(sub)
    add_probe_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging()
    store = ProfileStore(args.config_dir)
    command: Callable[[argparse.Namespace, ProfileStore], int] | None = COMMANDS.get(args.command or "")
    if command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return command(args, store)
    except ValidationError as exc:
        flag = flag_for(exc.field)
        hint = f" [{flag}]" if flag else ""
        return _fail(f"invalid connection: {exc}{hint}")
    except (UsageError, ProfileNotFound, SecretsUnavailable) as exc:
        return _fail(str(exc))
    except ProfileError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130


def _fail(message: str) -> int:
    print(f"connection-wizard: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def cmd_list(args: argparse.Namespace, store: ProfileStore, out: TextIO = sys.stdout) -> int:
    profiles, broken = store.load_all()
    if not profiles:
        print("No connections yet. Create one with 'connection-wizard add' or 'connection-wizard gui'.", file=out)
    for profile in profiles:
        gateway = profile.gateways[0].host
        weak = "  [weak security]" if profile.weaknesses() else ""
        print(f"{profile.name:<30} {profile.protocol.label:<22} {gateway}{weak}", file=out)
    _report_broken(broken)
    return 0


def _report_broken(broken: Sequence[Any]) -> None:
    for item in broken:
        print(f"warning: skipped unreadable profile {item.path.name}: {item.reason}", file=sys.stderr)


def cmd_show(args: argparse.Namespace, store: ProfileStore) -> int:
    profile = store.find(args.name)
    if args.json:
        print(json.dumps(profile_to_dict(profile), indent=2))
    else:
        secrets = SecretStore()
        saved = [k.value for k in profile.auth.secrets if secrets.get(profile, k) is not None]
        print(describe_profile(profile, saved_secrets=saved))
    return 0


def _read_json_file(path: Path) -> Any:
    try:
        if str(path) != "-" and path.stat().st_size > MAX_PROFILE_BYTES:
            raise UsageError(f"{path} is larger than {MAX_PROFILE_BYTES} bytes; is it really a profile?")
        raw = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a text file; expected a JSON profile") from None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"{path} is not valid JSON ({exc})") from None


def cmd_add(args: argparse.Namespace, store: ProfileStore) -> int:
    base: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    if args.from_json:
        base = profile_to_dict(import_document(_read_json_file(args.from_json)))
        base.pop("id")
    overrides = overrides_from_args(args)
    data = merge(base, overrides)
    auth = data.setdefault("auth", {})
    if "secrets" not in auth:
        auth["secrets"] = default_secrets(str(data.get("protocol", "")), str(auth.get("method", "password")))
    # the ppp defaults depend on the protocol, so a new profile gets them written out
    protocol = str(data.get("protocol", ""))
    if protocol in {p.value for p in Protocol}:
        data.setdefault("ppp", {}).setdefault("mppe", default_mppe(Protocol(protocol)).value)
    profile = profile_from_dict(data)
    secrets = _collect_secrets(args, profile)
    store.save(profile)
    log.info("created profile %s (%s, %s)", profile.id, profile.protocol.value, profile.gateways[0].host)
    print(f"Created {profile.name!r} ({profile.protocol.label}, id {profile.id}).")
    _store_secrets(profile, secrets)
    _warn_weak(profile)
    return 0


def cmd_edit(args: argparse.Namespace, store: ProfileStore) -> int:
    profile = store.find(args.name)
    overrides = overrides_from_args(args)
    updated = profile_from_dict(merge(profile_to_dict(profile), overrides))
    secrets = _collect_secrets(args, updated)
    if not overrides and not secrets:
        raise UsageError("nothing to change; give at least one flag (see 'connection-wizard edit --help')")
    store.save(updated, replace=True)
    log.info("updated profile %s: %s", updated.id, ", ".join(sorted(overrides)) or "secrets")
    print(f"Updated {updated.name!r}.")
    dropped = set(profile.saved_secrets) - set(updated.saved_secrets)
    if dropped:
        SecretStore().delete_all(updated, dropped)
    _store_secrets(updated, secrets)
    _warn_weak(updated)
    return 0


def cmd_remove(args: argparse.Namespace, store: ProfileStore) -> int:
    profile = store.find(args.name)
    store.remove(profile)
    SecretStore().delete_all(profile)
    log.info("removed profile %s", profile.id)
    print(f"Removed {profile.name!r} and its saved secrets.")
    return 0


def cmd_export(args: argparse.Namespace, store: ProfileStore) -> int:
    profile = store.find(args.name)
    text = json.dumps(export_document(profile), indent=2) + "\n"
    if str(args.file) == "-":
        sys.stdout.write(text)
        return 0
    try:
        atomic_write(args.file.resolve(), text.encode(), mode=0o644)
    except OSError as exc:
        raise UsageError(f"cannot write {args.file}: {exc.strerror}") from None
    print(f"Exported {profile.name!r} to {args.file} (secrets are never exported).")
    return 0


def cmd_import(args: argparse.Namespace, store: ProfileStore) -> int:
    profile = import_document(_read_json_file(args.file))
    data = profile_to_dict(profile)
    data.pop("id")  # an import is a new connection, even if the file came from this machine
    if args.rename:
        data["name"] = args.rename
    profile = profile_from_dict(data)
    print(describe_profile(profile))
    if args.dry_run:
        print("\n(dry run: nothing was stored)")
        return 0
    store.save(profile)
    print(f"\nImported {profile.name!r}. Secrets are not part of an export: you will be asked for them.")
    _warn_weak(profile)
    return 0


def cmd_gui(args: argparse.Namespace, store: ProfileStore) -> int:
    from wizard.gui.app import run_connections_window

    return run_connections_window(store)


def cmd_new(args: argparse.Namespace, store: ProfileStore) -> int:
    from wizard.gui.app import run_new_connection_wizard

    return run_new_connection_wizard(store)


def cmd_tray(args: argparse.Namespace, store: ProfileStore) -> int:
    from wizard.gui.app import run_tray

    return run_tray(store)


def cmd_gateway(args: argparse.Namespace, store: ProfileStore) -> int:
    from wizard.stacks.gateway import main_gateway

    return main_gateway(args.config)


def cmd_demo(args: argparse.Namespace, store: ProfileStore) -> int:
    """The README's main job: a real connection through the helper to our bundled gateway."""
    from wizard.demo import run_demo

    return run_demo()


def _collect_secrets(args: argparse.Namespace, profile: Profile) -> dict[SecretKind, str]:
    wanted: list[SecretKind] = []
    if args.password_stdin:
        wanted.append(SecretKind.PASSWORD)
    if args.psk_stdin:
        wanted.append(SecretKind.PSK)
    secrets: dict[SecretKind, str] = {}
    for kind in wanted:
        if kind not in profile.auth.secrets:
            raise UsageError(f"this connection does not use a {kind.value}; add it with --secrets")
        line = sys.stdin.readline()
        if not line:
            raise UsageError(f"expected the {kind.value} on standard input, found end of input")
        secrets[kind] = line.rstrip("\r\n")
        register_secret(secrets[kind])
    if args.ask_secrets:
        for kind in profile.auth.secrets:
            if kind not in secrets:
                secrets[kind] = getpass.getpass(f"{kind.value.replace('_', ' ').capitalize()}: ")
                register_secret(secrets[kind])
    return secrets


def _store_secrets(profile: Profile, secrets: dict[SecretKind, str]) -> None:
    if not secrets:
        return
    if not profile.saved_secrets:
        print(
            f"Credential policy is {profile.credential_policy.value!r}: secrets are not saved, "
            "you will be asked when you connect."
        )
        return
    store = SecretStore()
    if not store.available:
        print(f"note: {store.unavailable_reason()}", file=sys.stderr)
        return
    for kind, value in secrets.items():
        store.set(profile, kind, value)
        log.info("saved %s for profile %s in %s", kind.value, profile.id, type(store.backend).__name__)
    print(f"Saved {', '.join(k.value for k in secrets)} in the keyring.")


def _warn_weak(profile: Profile) -> None:
    for weakness in profile.weaknesses():
        print(f"warning: weak security: {weakness}", file=sys.stderr)


COMMANDS: dict[str, Callable[[argparse.Namespace, ProfileStore], int]] = {
    "list": cmd_list,
    "show": cmd_show,
    "add": cmd_add,
    "edit": cmd_edit,
    "remove": cmd_remove,
    "export": cmd_export,
    "import": cmd_import,
    "gui": cmd_gui,
    "new": cmd_new,
    "tray": cmd_tray,
    "gateway": cmd_gateway,
    "demo": cmd_demo,
    "probe": cmd_probe,
    **HELPER_COMMANDS,
}

if __name__ == "__main__":
    sys.exit(main())
