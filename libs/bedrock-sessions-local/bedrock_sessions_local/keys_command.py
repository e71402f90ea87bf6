"""``python -m bedrock_sessions_local keys ...``: manage the local keyring, as KMS's console would.

Subcommands (each takes ``--keyring FILE``, by default the keyring of the default ``--db``):

- ``create [--description TEXT] [--region R] [--account A]``: a new customer key; prints its ARN,
  the value to give CreateSession's ``encryptionKeyArn``.
- ``list``: every key, one line each (ARN, state, manager, versions, description).
- ``disable KEY_ARN`` / ``enable KEY_ARN``: the key's sessions become unreadable / readable again.
- ``rotate KEY_ARN``: new key material; the service re-wraps the data keys with it.
- ``schedule-deletion KEY_ARN [--pending-window-days 7-30]`` / ``cancel-deletion KEY_ARN``: as
  in KMS, the key is unusable at once, deleted on its date (a cancelled deletion leaves the key
  Disabled).

A running service notices the change at its next call. Errors are one line on stderr and exit
code 1. Every write drops the material of keys whose deletion date has passed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from bedrock_sessions_local.config import DEFAULT_ACCOUNT, DEFAULT_REGION
from bedrock_sessions_local.keyring import (
    MAX_PENDING_DAYS,
    Keyring,
    KeyringError,
    KeyringKey,
    default_keyring_path,
)

#: the keyring of the service's default ``--db`` (``var/bedrock-sessions.db``)
DEFAULT_KEYRING = str(default_keyring_path("var/bedrock-sessions.db"))

#: the subcommands that change one key, and the Keyring method that does it
_CHANGES: dict[str, Callable[[Keyring, str], KeyringKey]] = {
    "disable": Keyring.disable,
    "enable": Keyring.enable,
    "rotate": Keyring.rotate,
    "cancel-deletion": Keyring.cancel_deletion,
}


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the ``keys`` command."""
    parser = argparse.ArgumentParser(
        prog="python -m bedrock_sessions_local keys",
        description="Manage the keys of the local keyring (the local service's KMS).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str, *, key: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument(
            "--keyring",
            default=DEFAULT_KEYRING,
            help="keyring file (default: %(default)s)",
        )
        if key:
            sub.add_argument("key_arn", metavar="KEY_ARN", help="the key's ARN")
        return sub

    create = command("create", "create a customer key and print its ARN", key=False)
    create.add_argument("--description", default="")
    create.add_argument("--region", default=DEFAULT_REGION, help="region in the key's ARN")
    create.add_argument("--account", default=DEFAULT_ACCOUNT, help="account in the key's ARN")
    command("list", "list the keys", key=False)
    command("disable", "disable a key: its sessions cannot be read or written")
    command("enable", "enable a key again")
    command("rotate", "rotate a key: new material; data keys are re-wrapped with it")
    schedule = command("schedule-deletion", "make a key unusable now and delete it later")
    schedule.add_argument(
        "--pending-window-days",
        type=int,
        default=MAX_PENDING_DAYS,
        help="days until the key is deleted, 7 to 30 (default: %(default)s)",
    )
    command("cancel-deletion", "cancel a scheduled deletion (the key stays Disabled)")
    return parser


def main(argv: list[str]) -> int:
    """Run one ``keys`` subcommand; return the exit code (1 with one line on stderr on error)."""
    args = build_parser().parse_args(argv)
    try:
        print(run(args))
    except KeyringError as error:
        print(f"keys {args.command}: {error}", file=sys.stderr)
        return 1
    return 0


def run(args: argparse.Namespace) -> str:
    """Apply the subcommand to the keyring file; return what to print.

    Raises:
        KeyringError: the keyring cannot be read, or KMS would refuse the change.
    """
    if args.command == "create":
        keyring = Keyring.load_or_new(args.keyring)
        keyring.purge_deleted()
        key = keyring.create_key(
            region=args.region, account=args.account, description=args.description
        )
        keyring.save(args.keyring)
        return key.arn
    keyring = Keyring.load(args.keyring)
    if args.command == "list":
        return "\n".join(_line(key) for key in keyring.keys.values()) or "(no keys)"
    keyring.purge_deleted()
    if args.command == "schedule-deletion":
        key = keyring.schedule_deletion(args.key_arn, pending_window_days=args.pending_window_days)
    else:
        key = _CHANGES[args.command](keyring, args.key_arn)
    keyring.save(args.keyring)
    return _line(key)


def _line(key: KeyringKey) -> str:
    state = key.state if key.deletion_date is None else f"{key.state} (until {key.deletion_date})"
    return f"{key.arn}  {state}  {key.managed_by}  v{key.version}  {key.description}".rstrip()
