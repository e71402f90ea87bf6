"""`erase`: a shopper's "delete my data", and the admin's "delete this shopper".

    shoe-assistant erase --mine --yes          # signed in as a shopper
    shoe-assistant erase --user bob --yes      # signed in as the admin

Prints the receipt (what was removed, what was kept: the orders) as JSON or text. Running it
again after an interruption finishes the job; every step is idempotent.
"""

from __future__ import annotations

import argparse
import json
import sys

from tqdm import tqdm

from assistant.cli.errors import CliError
from assistant.cli.signed_in import principal, shop


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `erase` subcommand."""
    erase = subparsers.add_parser(
        "erase", help="delete a shopper's data (your own, or any shopper's as the admin)"
    )
    whose = erase.add_mutually_exclusive_group(required=True)
    whose.add_argument("--mine", action="store_true", help="your own data (shoppers)")
    whose.add_argument("--user", help="this shopper's data and account (the admin)")
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    erase.add_argument("--json", action="store_true", help="print the receipt as JSON")
    erase.set_defaults(run=_erase)


def _erase(args: argparse.Namespace) -> int:
    from assistant.application import TurnError

    the_shop, me = shop(), principal(shop())
    subject = me.username if args.mine else args.user
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError("erasing cannot be undone: pass --yes to confirm")
        answer = input(f"Erase every conversation of {subject} (orders are kept)? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing erased.")
            return 0

    def progress(items):
        return tqdm(items, desc=f"erasing {subject}'s conversations", file=sys.stderr)

    try:
        if args.mine:
            receipt = the_shop.erase_my_data(me, progress=progress)
        else:
            receipt = the_shop.erase_shopper(me, args.user, progress=progress)
    except TurnError as error:
        raise CliError(str(error)) from error
    data = receipt.to_json()
    if args.json:
        print(json.dumps(data))
        return 0
    print(
        f"Erased {subject}: {len(data['sessions_deleted'])} session(s) deleted, "
        f"{data['registry_rows_removed']} conversation record(s) and "
        f"{data['approvals_removed']} approval(s) removed, {data['sign_ins_revoked']} sign-in(s) "
        f"revoked, data key {'destroyed' if data['data_key_destroyed'] else 'already gone'}"
        f"{', account removed' if data['account_removed'] else ''}; "
        f"kept {len(data['orders_kept'])} order(s) for the shop's accounts."
    )
    return 0
