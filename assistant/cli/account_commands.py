"""`login`, `logout`, `whoami`: who the CLI acts as.

`shoe-assistant login alice` asks for the password and keeps a sign-in token in the user's
config directory (`$XDG_CONFIG_HOME/shoe-assistant/token`, or `CLI_TOKEN_FILE`), created 0600.
Scripts can pass a token in `SHOE_ASSISTANT_TOKEN` instead (`login --print-token` prints one).
Every shop command turns the token into a principal through the application, which checks its
signature, its age and that it was not revoked; `logout` revokes it everywhere.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
from pathlib import Path

from assistant.cli.errors import CliError
from assistant.cli.signed_in import TOKEN_ENV, principal, shop, token_file

__all__ = ["TOKEN_ENV", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `login`, `logout` and `whoami` subcommands."""
    login = subparsers.add_parser("login", help="sign in as a shop user (asks the password)")
    login.add_argument("username", nargs="?", help="e.g. alice (asked when left out)")
    login.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    login.add_argument(
        "--print-token",
        action="store_true",
        help=f"print the token (for {TOKEN_ENV} in scripts) instead of storing it",
    )
    login.set_defaults(run=_login)
    logout = subparsers.add_parser("logout", help="sign out (the token stops working)")
    logout.set_defaults(run=_logout)
    whoami = subparsers.add_parser("whoami", help="who the CLI acts as")
    whoami.set_defaults(run=_whoami)


def _write_token(path: Path, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        os.fchmod(file.fileno(), 0o600)  # open()'s mode applies to new files only
        file.write(token + "\n")


def _login(args: argparse.Namespace) -> int:
    from assistant.application import SignInRefused

    username = args.username or input("username: ").strip()
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {username}: ")
    try:
        who, token = shop().sign_in(username, password, channel="cli")
    except SignInRefused as error:
        raise CliError(str(error)) from error
    if args.print_token:
        print(token)
        return 0
    path = token_file()
    _write_token(path, token)
    print(f"Signed in as {who.username} ({who.role}, {who.tenant}); token in {path}")
    return 0


def _logout(args: argparse.Namespace) -> int:
    # Revoke every token this terminal could act with: the token file's and SHOE_ASSISTANT_TOKEN's.
    path = token_file()
    tokens = [os.environ.get(TOKEN_ENV, "").strip()]
    with contextlib.suppress(FileNotFoundError):
        tokens.append(path.read_text(encoding="utf-8").strip())
    tokens = [token for token in dict.fromkeys(tokens) if token]
    for token in tokens:
        shop().sign_out(token)
    path.unlink(missing_ok=True)
    print("Signed out." if tokens else "Nobody was signed in.")
    if os.environ.get(TOKEN_ENV):
        print(f"(The token in {TOKEN_ENV} no longer works; unset it.)")
    return 0


def _whoami(args: argparse.Namespace) -> int:

    who = principal(shop())
    print(f"{who.username} ({who.role}, tenant {who.tenant})")
    return 0
