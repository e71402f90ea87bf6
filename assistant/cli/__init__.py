"""`shoe-assistant`: the one command-line entry point, with subcommands.

Every subcommand lives in its own module beside this one and registers itself with `register`.
Errors a user can cause end with a non-zero exit and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys

from assistant.cli import account_commands, bench, erase_commands, services, shop_commands
from assistant.cli.errors import CliError

SUBCOMMAND_MODULES = [services, account_commands, shop_commands, erase_commands, bench]


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="shoe-assistant",
        description="Shoe shopping assistant on Amazon Bedrock Session Management.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand and return its exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except CliError as error:
        print(f"shoe-assistant: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
