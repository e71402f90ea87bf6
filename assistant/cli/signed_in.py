"""Who this terminal is: the CLI's one Shop, its sign-in token, and the principal it stands for.

`shoe-assistant login` keeps the token in the user's config directory (see `token_file`), or a
script passes it in `SHOE_ASSISTANT_TOKEN`; every shop command asks `principal(shop())`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from assistant.cli.errors import CliError
from assistant.settings import get_settings

TOKEN_ENV = "SHOE_ASSISTANT_TOKEN"


@lru_cache(maxsize=1)
def shop():
    """The process's Shop (built on first use: commands like --help need none)."""
    from assistant.application.shop import Shop

    return Shop()


def token_file() -> Path:
    """Where `login` keeps the token: CLI_TOKEN_FILE, else the user's config directory."""
    configured = get_settings().cli_token_file
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "shoe-assistant" / "token"


def stored_token() -> str | None:
    """The token of this terminal: SHOE_ASSISTANT_TOKEN, else the token file's."""
    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV].strip()
    try:
        return token_file().read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def principal(the_shop):
    """The signed-in principal of this terminal, or CliError saying how to sign in."""
    from assistant.application import NotSignedIn

    token = stored_token()
    if token is None:
        raise CliError("not signed in: run `shoe-assistant login <username>` first")
    try:
        return the_shop.principal(token)
    except NotSignedIn as error:
        raise CliError(f"{error} (`shoe-assistant login <username>`)") from error
