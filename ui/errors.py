"""Failures shown as readable messages, never as a traceback on the page.

Every call a page makes into the Shop goes through `attempt` (or the `shown_errors` block): a
`TurnError`, an approval refusal or any unexpected exception becomes an `st.error` box, the full
traceback goes to the server log for developers, and the rest of the page keeps rendering, so the
conversation on screen stays intact.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import streamlit as st

from assistant.application import AlreadyDecided, ApprovalError, TurnError

log = logging.getLogger("ui")

P = ParamSpec("P")
T = TypeVar("T")

# Failures whose message was written for a person: shown as is.
EXPECTED = (TurnError, AlreadyDecided, ApprovalError)


def readable(error: BaseException, doing: str) -> str:
    """The message a person sees for `error`, which happened while `doing` something."""
    if isinstance(error, EXPECTED):
        return str(error)
    name = type(error).__name__
    if "Connect" in name or "Endpoint" in name:
        # botocore's connection errors: the session store (local service or AWS) is not reachable.
        return (
            f"Could not reach the session store while {doing}: {error}. "
            "Is the local session service running? (`shoe-assistant up` starts it.)"
        )
    return f"Something went wrong while {doing}: {name}: {error}"


def attempt(call: Callable[P, T], *args: P.args, doing: str, **kwargs: P.kwargs) -> T | None:
    """`call(*args, **kwargs)`, or None after showing a readable error when it fails."""
    with shown_errors(doing):
        return call(*args, **kwargs)
    return None


@contextmanager
def shown_errors(doing: str, *, where=st) -> Iterator[None]:
    """Run a block; if it fails, show `st.error` (in `where`) and carry on after the block.

    Streamlit's own rerun/stop signals derive from BaseException, so they pass through untouched.
    """
    try:
        yield
    except Exception as error:  # the page must survive anything the backend raises
        if not isinstance(error, EXPECTED):
            log.exception("UI call failed while %s", doing)
        where.error(readable(error, doing), icon=":material/error:")
