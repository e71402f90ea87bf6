"""`chat`, `sessions` and `approvals`: the shop from a terminal (scriptable with --json).

Every command acts as the signed-in user (`shoe-assistant login`; see `signed_in`) and the
application decides what that user may do: shoppers chat and manage their own conversations,
operators decide their tenant's checkouts, an admin cleans up store-wide. The JSON shapes
printed here are stable: workshop scripts and tests depend on them.
"""

from __future__ import annotations

import argparse
import json
import sys

from tqdm import tqdm

from assistant.cli.errors import CliError
from assistant.cli.signed_in import principal, shop

__all__ = ["register", "shop"]


def _me():
    return principal(shop())


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `chat`, `sessions` and `approvals` subcommands."""
    chat = subparsers.add_parser("chat", help="chat with the assistant in the terminal")
    chat.add_argument("--session", help="continue this session id (default: a new one)")
    chat.add_argument("--json", action="store_true", help="print one JSON object")
    chat.add_argument(
        "--message-id",
        help="any unique id for this message (e.g. a UUID); sending again with the same id "
        "after a crash or a lost answer never runs the turn twice",
    )
    chat.add_argument("message", nargs="?", help="one message; interactive without it")
    chat.set_defaults(run=_chat)

    session_parser = subparsers.add_parser("sessions", help="list, show, end, delete, clean up")
    session_commands = session_parser.add_subparsers(dest="action", required=True)
    listing = session_commands.add_parser(
        "list", help="your conversations (an operator: the tenant's; an admin: all)"
    )
    listing.add_argument("--user", help="only this user's (operators and admins)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=_sessions_list)
    for name, helptext in (
        ("show", "the messages and cart of a conversation"),
        ("end", "end a conversation (read-only afterwards)"),
        ("delete", "delete a conversation and its checkpoints"),
    ):
        command = session_commands.add_parser(name, help=helptext)
        command.add_argument("session_id")
        command.add_argument("--json", action="store_true")
        command.set_defaults(run=_SESSION_ACTIONS[name])
    cleanup = session_commands.add_parser(
        "cleanup", help="delete idle conversations (yours; an admin: the whole store's)"
    )
    cleanup.add_argument("--older-than-days", type=int, help="default: SESSION_RETENTION_DAYS")
    cleanup.add_argument("--json", action="store_true")
    cleanup.set_defaults(run=_sessions_cleanup)

    approvals = subparsers.add_parser("approvals", help="the store's checkout approvals queue")
    approval_commands = approvals.add_subparsers(dest="action", required=True)
    listing = approval_commands.add_parser("list", help="pending checkouts")
    listing.add_argument("--all", action="store_true", help="decided ones too")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=_approvals_list)
    approve = approval_commands.add_parser("approve", help="approve (optionally edit) a checkout")
    approve.add_argument("approval_id")
    approve.add_argument("--discount", type=float, default=0.0, help="percent off, 0-50")
    approve.add_argument(
        "--quantity",
        action="append",
        default=[],
        metavar="PRODUCT_ID:SIZE=QTY",
        help="change a line's quantity (0 removes it); makes the decision an edit",
    )
    approve.add_argument("--reason", help="note to the shopper")
    approve.add_argument("--json", action="store_true")
    approve.set_defaults(run=_approve)
    reject = approval_commands.add_parser("reject", help="reject a checkout with a reason")
    reject.add_argument("approval_id")
    reject.add_argument("--reason", required=True)
    reject.add_argument("--json", action="store_true")
    reject.set_defaults(run=_reject)


def _print(value, as_json: bool, text: str) -> None:
    print(json.dumps(value, default=str, indent=None if as_json else 2) if as_json else text)


def _guard(function):
    """Turn application errors into one line on stderr and exit status 1."""

    def wrapper(args):
        from assistant.application import AlreadyDecided, ApprovalError, TurnError

        try:
            return function(args)
        except (TurnError, ApprovalError, AlreadyDecided) as error:  # incl. NotAllowed
            raise CliError(str(error)) from error

    return wrapper


def _format_turn(result) -> str:
    lines = [f"assistant> {result.reply}"]
    if result.cart:
        lines.append(f"cart ({len(result.cart)} lines, ${result.cart_total:.2f}):")
        lines += [
            f"  - {line['name']} size {line['size']:g} × {line['quantity']} "
            f"@ ${line['unit_price']:.2f}"
            for line in result.cart
        ]
    if result.pending_approval:
        lines.append(f"waiting for store approval: {result.pending_approval.id}")
    return "\n".join(lines)


@_guard
def _chat(args: argparse.Namespace) -> int:
    the_shop, me = shop(), _me()
    session_id = args.session or the_shop.new_conversation(me)
    if args.message is not None:
        result = the_shop.send(me, session_id, args.message, message_id=args.message_id)
        if args.json:
            print(json.dumps(result.to_json(), default=str))
        else:
            print(f"session: {session_id}\n{_format_turn(result)}")
        return 0
    print(f"session: {session_id} (Ctrl-D to leave; resume with --session {session_id})")
    while True:
        try:
            message = input("you> ")
        except EOFError:
            print()
            return 0
        from assistant.application import TurnError

        try:
            print(_format_turn(the_shop.send(me, session_id, message)))
        except TurnError as error:
            print(f"assistant> {error}")


@_guard
def _sessions_list(args: argparse.Namespace) -> int:
    rows = [
        {
            "session_id": c.session_id,
            "user": c.user,
            "tenant": c.tenant,
            "title": c.title,
            "status": c.status,
            "updated_at": c.updated_at.isoformat(),
        }
        for c in shop().conversations(_me(), args.user)
    ]
    text = "\n".join(
        f"{r['session_id']}  {r['status']:<7} {r['user']:<8} {r['updated_at'][:19]}  {r['title']}"
        for r in rows
    )
    _print(rows, args.json, text or "no conversations")
    return 0


@_guard
def _sessions_show(args: argparse.Namespace) -> int:
    the_shop, me = shop(), _me()
    conversation = the_shop.open(me, args.session_id)
    messages = the_shop.messages(me, args.session_id)
    current = the_shop.current(me, args.session_id)
    data = {
        "session_id": args.session_id,
        "status": conversation.status,
        "messages": [{"type": m.type, "text": m.text} for m in messages],
        "cart": current.cart,
        "pending_approval": current.to_json()["pending_approval"],
    }
    text = (
        "\n".join(f"{m['type']:>6}> {m['text']}" for m in data["messages"] if m["text"])
        + "\n"
        + _format_turn(current)
    )
    _print(data, args.json, text)
    return 0


@_guard
def _sessions_end(args: argparse.Namespace) -> int:
    shop().end(_me(), args.session_id)
    _print({"session_id": args.session_id, "status": "ENDED"}, args.json, "ended")
    return 0


@_guard
def _sessions_delete(args: argparse.Namespace) -> int:
    shop().delete(_me(), args.session_id)
    _print({"session_id": args.session_id, "status": "DELETED"}, args.json, "deleted")
    return 0


_SESSION_ACTIONS = {"show": _sessions_show, "end": _sessions_end, "delete": _sessions_delete}


@_guard
def _sessions_cleanup(args: argparse.Namespace) -> int:
    deleted = shop().cleanup(
        _me(),
        args.older_than_days,
        progress=lambda items: tqdm(items, desc="deleting idle sessions", file=sys.stderr),
    )
    _print({"deleted": deleted}, args.json, f"deleted {len(deleted)} idle conversation(s)")
    return 0


@_guard
def _approvals_list(args: argparse.Namespace) -> int:
    rows = [row.to_json() for row in shop().approvals(_me(), None if args.all else "pending")]
    text = "\n".join(
        f"{r['id']}  {r['status']:<9} {r['user']:<8} ${r['total']:.2f}  "
        + ", ".join(f"{i['name']} {i['size']:g}×{i['quantity']}" for i in r["items"])
        + (f"  [repeat of order {r['repeat_of_order']}]" if r["repeat_of_order"] else "")
        for r in rows
    )
    _print(rows, args.json, text or "no pending checkouts")
    return 0


def _parse_quantities(specs: list[str]) -> dict[str, int]:
    quantities = {}
    for spec in specs:
        try:
            line, quantity = spec.rsplit("=", 1)
            product_id, size = line.rsplit(":", 1)
            quantities[f"{product_id}|{float(size):g}"] = int(quantity)
        except ValueError as error:
            raise CliError(f"--quantity {spec!r}: expected PRODUCT_ID:SIZE=QTY") from error
    return quantities


@_guard
def _approve(args: argparse.Namespace) -> int:
    quantities = _parse_quantities(args.quantity)
    edited = bool(quantities) or args.discount > 0
    decision = {
        "action": "edit" if edited else "approve",
        "discount_pct": args.discount,
        "quantities": quantities,
        "reason": args.reason,
    }
    result = shop().decide(_me(), args.approval_id, decision)
    _print(result.to_json(), args.json, _format_turn(result))
    return 0


@_guard
def _reject(args: argparse.Namespace) -> int:
    decision = {"action": "reject", "reason": args.reason}
    result = shop().decide(_me(), args.approval_id, decision)
    _print(result.to_json(), args.json, _format_turn(result))
    return 0
