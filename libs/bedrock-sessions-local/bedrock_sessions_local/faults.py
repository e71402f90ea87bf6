"""Injected faults: what AWS does to a call besides answering it, drawn at the knobs' rates.

Before the operation runs, so nothing is stored (:func:`before_operation`):

- ``throttle_rate``: 429 ``ThrottlingException``.
- ``internal_error_rate``: 500 ``InternalServerException``.

After the operation ran and committed, so the write *is* stored and only its answer is lost or
late (:func:`after_operation`; at most one per call, and only for a call that succeeded):

- ``commit_drop_rate`` (:attr:`AfterCommit.DROP`): the status line and headers go out with the
  full ``Content-Length``, then half of the body, then the connection is reset (a TCP RST).
  botocore raises ``ConnectionClosedError`` and retries the call, as after a network failure.
  An empty body is reset before any byte goes out (the headers alone would be a whole answer).
- ``commit_error_rate`` (:attr:`AfterCommit.ERROR`): 500 ``InternalServerException`` in the
  AWS error shape, which botocore retries.
- ``slow_response_rate`` (:attr:`AfterCommit.SLOW`): the answer waits ``slow_response_ms``
  (awaited: other calls go on meanwhile). With a client ``read_timeout`` shorter than that,
  botocore raises ``ReadTimeoutError`` and retries the call.

Why a reset and not an orderly close: botocore reads bodies with urllib3's
``enforce_content_length=False``, so a body cut short by a FIN is parsed as if it were whole:
a 201 with its members missing, not an error (botocore 1.44). A reset is an error at any point.

A retry of a write that was stored meets the stored write: 409 ``ConflictException`` for an id
the client chose (an invocation or a step), a second row for one the service chose.
"""

from __future__ import annotations

import asyncio
import enum
import socket
import struct
import time
from typing import Any

from bedrock_sessions_local.config import ServiceKnobs
from bedrock_sessions_local.exceptions import InternalServerException, ThrottlingException

#: SO_LINGER on, timeout 0: closing the socket sends a TCP reset, not a FIN
_RESET_ON_CLOSE = struct.pack("ii", 1, 0)


class AfterCommit(enum.Enum):
    """What happens to the answer of a call that ran and committed."""

    DROP = "drop"
    ERROR = "error"
    SLOW = "slow"


def before_operation(knobs: ServiceKnobs) -> None:
    """Draw the faults that stop a call before it runs.

    Raises:
        ThrottlingException: at ``throttle_rate``.
        InternalServerException: at ``internal_error_rate``.
    """
    if knobs.throttle_rate and knobs.dice.random() < knobs.throttle_rate:
        raise ThrottlingException("Rate exceeded (throttling injected by the local service).")
    if knobs.internal_error_rate and knobs.dice.random() < knobs.internal_error_rate:
        raise InternalServerException(
            "Internal server error (fault injected by the local service)."
        )


def after_operation(knobs: ServiceKnobs) -> AfterCommit | None:
    """Draw what happens to the answer of a call that succeeded; None: it goes out as it is.

    A knob at 0 draws nothing, so turning one fault on leaves the others' sequence alone.
    """
    if knobs.commit_drop_rate and knobs.dice.random() < knobs.commit_drop_rate:
        return AfterCommit.DROP
    if knobs.commit_error_rate and knobs.dice.random() < knobs.commit_error_rate:
        return AfterCommit.ERROR
    if knobs.slow_response_rate and knobs.dice.random() < knobs.slow_response_rate:
        return AfterCommit.SLOW
    return None


def error_after_commit() -> InternalServerException:
    """The 500 of :attr:`AfterCommit.ERROR`: the operation's effect stays."""
    return InternalServerException(
        "Internal server error after the operation completed (fault injected by the local service)."
    )


async def wait_unless_disconnected(receive: Any, seconds: float) -> int:
    """Wait ``seconds`` before answering, or less if the client hangs up; return the ns waited.

    A client that timed out is not waited for: nobody is left to read the answer, and a
    server stopping would otherwise wait for the delay to run out.
    """
    started = time.perf_counter_ns()
    disconnected = asyncio.ensure_future(_disconnect(receive))
    try:
        await asyncio.wait({disconnected}, timeout=seconds)
    finally:
        disconnected.cancel()
    return time.perf_counter_ns() - started


async def _disconnect(receive: Any) -> None:
    # Once the body is read, an ASGI server's receive() only returns at http.disconnect.
    while (await receive())["type"] != "http.disconnect":
        pass


async def drop_connection(send: Any, receive: Any, start: dict[str, Any], body: bytes) -> None:
    """Send ``start`` (status and headers) and half of ``body``, then reset the connection.

    Needs the transport of the connection, which ASGI does not offer: this reads it from the
    server's ``send`` (uvicorn's request cycle keeps it as ``transport``), as the service's
    own server is uvicorn.

    Raises:
        RuntimeError: the ASGI server is not uvicorn (nothing has been sent).
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise RuntimeError("dropping a connection needs uvicorn's transport")
    if body:
        await send(start)
        await send(
            {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
        )
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
    transport.abort()
    # Return once the server has seen the connection go, so that it does not log an
    # unfinished answer as an application error.
    await wait_unless_disconnected(receive, 1.0)
