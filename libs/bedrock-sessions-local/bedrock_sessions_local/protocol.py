"""The HTTP/1.1 layer: uvicorn's httptools protocol, held to :class:`RequestLimits`, answering
everything it refuses in the AWS error shape.

Left to itself, uvicorn reads a request head whole whatever its size (a 200 MB header took
minutes and 470 MB, and stalled the event loop, ``/health`` with it), waits forever for a client
that sends nothing or sends slowly, and answers what its parser refuses with a plain-text 400.
Here every refusal is decided while the request arrives, before it is read whole, and answered
with the status, ``x-amzn-ErrorType`` and ``{"message", "__type"}`` body of the rest of the
service:

- a request target longer than ``max_url_bytes``: 414 ``RequestURITooLongException``;
- header fields larger than ``max_header_bytes``: 431 ``RequestHeaderFieldsTooLargeException``;
- a body larger than ``max_body_bytes``, declared or counted as a chunked one arrives: 413
  ``RequestEntityTooLargeException``;
- a request not whole ``request_timeout_seconds`` after its first byte (a slow or stalled
  client, a Content-Length larger than the body sent): 408 ``RequestTimeoutException``;
- a method HTTP/1.1 does not know (``get``, ``FOO``): 405 ``UnknownOperationException``;
- anything else the parser refuses (request line, header syntax, a conflicting or malformed
  Content-Length, chunked framing, HTTP/2, upgrades and CONNECT): 400 ``SerializationException``;
- more body bytes at once than ``max_body_bytes_in_flight``, or one connection more than
  ``max_connections`` while all are busy: 429 ``ThrottlingException``.

Each such answer closes the connection: the service stops parsing, sends the answer and a FIN,
and drops what the client still sends for up to :data:`LINGER_SECONDS`, so that a client busy
sending a huge request gets to read the answer instead of a reset. A request the service has
already answered (it answered early, without its body) gets no second answer; its connection is
closed. Answers to earlier pipelined requests on the connection go out first.

A connection with no request in progress is closed after ``idle_timeout_seconds`` (new ones
too: uvicorn's httptools protocol times out only kept-alive ones). At ``max_connections`` a new
connection closes the one that has waited longest for its client, idle or still sending.
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from typing import Any

import httptools
import orjson
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

from bedrock_sessions_local.exceptions import (
    InternalServerException,
    RequestEntityTooLargeException,
    RequestHeaderFieldsTooLargeException,
    RequestTimeoutException,
    RequestURITooLongException,
    SerializationException,
    SessionServiceError,
    ThrottlingException,
    UnknownOperationException,
)
from bedrock_sessions_local.limits import RequestLimits

logger = logging.getLogger("bedrock_sessions_local")

__all__ = ["LINGER_SECONDS", "LimitedHttpProtocol", "limited_protocol"]

#: how long a refused connection is still read (what arrives is dropped) before it is closed
LINGER_SECONDS = 2.0

#: body bytes of one request not counted against ``max_body_bytes_in_flight``: uvicorn buffers
#: this much per connection anyway, and small calls go on while large uploads fill the budget
_UNCOUNTED_BODY_BYTES = HIGH_WATER_LIMIT


class _Refused(Exception):
    """Raised in a parser callback: stop parsing this connection and answer ``error``."""

    def __init__(self, error: SessionServiceError) -> None:
        super().__init__(error.message)
        self.error = error


class _BodyBudget:
    """Body bytes held at once by the connections of one server."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    def take(self, size: int) -> bool:
        if self.held + size > self.limit:
            return False
        self.held += size
        return True

    def give_back(self, size: int) -> None:
        self.held -= size


def limited_protocol(limits: RequestLimits, max_body_bytes: int) -> type[LimitedHttpProtocol]:
    """The protocol class of one server: its limits and a body budget of its own.

    Raises:
        ValueError: ``max_body_bytes`` is not positive or passes ``max_body_bytes_in_flight``.
    """
    if max_body_bytes <= 0:
        raise ValueError(f"max_body_bytes must be > 0, got {max_body_bytes}")
    limits.check_body_limit(max_body_bytes)
    attributes = {
        "limits": limits,
        "max_body_bytes": max_body_bytes,
        "budget": _BodyBudget(limits.max_body_bytes_in_flight),
    }
    return type("LimitedHttpProtocol", (LimitedHttpProtocol,), attributes)


class LimitedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with :class:`RequestLimits`; build it with
    :func:`limited_protocol` and give it to ``uvicorn.Config(http=...)``."""

    limits: RequestLimits
    max_body_bytes: int
    budget: _BodyBudget

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: where the parser is in the current message: "idle" (between), "head" or "body"
        self._state = "idle"
        self._messages = 0
        # bytes of a head still arriving, counted from its second read on (see data_received)
        self._head_bytes = 0
        self._header_bytes = 0
        self._body_bytes = 0
        self._message_held = 0  # of the current message's body, held in the budget
        self._held = 0  # by this connection, held in the budget
        self._message_cycle: RequestResponseCycle | None = None  # once the head is whole
        self._running: RequestResponseCycle | None = None  # the one the service answers
        self._request_timer: Any = None
        self._linger_timer: Any = None
        self._waiting_since = 0.0  # when the connection began to wait for its client
        self._refused = False  # what arrives from now on is dropped
        self._deferred: tuple[SessionServiceError, bool] | None = None

    # --------------------------------------------------------------------- connection events

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._waiting_since = self.loop.time()
        if len(self.connections) > self.limits.max_connections and not self._make_room():
            self._refuse(
                ThrottlingException(
                    f"The service holds {self.limits.max_connections} connections, all busy "
                    "answering requests; retry later."
                )
            )
            return
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        self._give_back()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        message, in_head = self._messages, self._state == "head"
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:  # pragma: no cover - upgrades are refused before
            self._refuse(_upgrade_refused())
            return
        except httptools.HttpParserError as error:
            self._refuse(self._parse_error(error))
            return
        # A head that began in an earlier read and is still incomplete: all of this read is
        # head. (A head that ends in this read was counted exactly by the callbacks; one that
        # begins in it is counted from the next read on, so a head is refused after at most
        # its limit and two reads.)
        if in_head and self._state == "head" and self._messages == message:
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_head_bytes:
                self._refuse(self._headers_too_large())

    def shutdown(self) -> None:
        """Server stopping: close a connection waiting for its client at once; let one the
        service is answering finish."""
        if self._waits_for_client() or (self._refused and self._deferred is None):
            self._disconnect_own_cycle()
            self.transport.close()
            return
        super().shutdown()

    # ------------------------------------------------------------------------ parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._unset_keepalive_if_required()
        self._cancel_request_timer()
        self._state = "head"
        self._messages += 1
        self._head_bytes = self._header_bytes = self._body_bytes = self._message_held = 0
        self._message_cycle = None
        self._waiting_since = self.loop.time()
        self._request_timer = self.loop.call_later(
            self.limits.request_timeout_seconds, self._request_timed_out
        )

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.limits.max_url_bytes:
            raise _Refused(
                RequestURITooLongException(
                    f"The request target (path and query string) is longer than "
                    f"{self.limits.max_url_bytes} bytes."
                )
            )

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > self.limits.max_header_bytes:
            raise _Refused(self._headers_too_large())
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._state = "body"
        if self.parser.should_upgrade():
            raise _Refused(_upgrade_refused())
        if self._declared_length() > self.max_body_bytes:
            raise _Refused(self._body_too_large())
        super().on_headers_complete()
        self._message_cycle = self.cycle

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        if self._body_bytes > self.max_body_bytes:
            raise _Refused(self._body_too_large())
        if self._body_bytes > _UNCOUNTED_BODY_BYTES:
            more = self._body_bytes - self._message_held
            if not self.budget.take(more):
                raise _Refused(
                    ThrottlingException(
                        f"The service holds {self.budget.limit} bytes of request bodies "
                        "already; retry later."
                    )
                )
            self._message_held += more
            self._held += more
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._cancel_request_timer()
        self._state = "idle"
        self._message_cycle = None
        super().on_message_complete()

    # ----------------------------------------------------------------------- answering

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        self._running = cycle
        super()._start_asgi_task(cycle, app)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._busy():
            return
        self._give_back()
        self._waiting_since = self.loop.time()
        if self._state != "idle" or self._deferred is not None:
            # the next request has begun (its own timer runs), or a refusal waited for this
            self._unset_keepalive_if_required()
        if self._deferred is not None:
            error, linger = self._deferred
            self._deferred = None
            self._answer(error, linger=linger)

    def _refuse(self, error: SessionServiceError, *, linger: bool = True) -> None:
        """Stop reading requests on this connection and answer ``error`` once the answers to
        earlier requests are out; no answer when the service answered this request already."""
        if self._refused:
            return
        self._refused = True
        self._cancel_timers()
        self._unset_keepalive_if_required()
        self._give_back()
        logger.info(
            "refused a request from %s: %s %s (%s)",
            self.client,
            error.status,
            error.code,
            error.message,
        )
        own = self._message_cycle if self._state == "body" else None
        if own is not None and own.response_started:
            if own.response_complete:
                self._close(linger)
            else:
                own.keep_alive = False  # uvicorn closes the connection after the answer
            return
        self._disconnect_own_cycle()
        if self._busy():
            self._deferred = (error, linger)
        else:
            self._answer(error, linger=linger)

    def _answer(self, error: SessionServiceError, *, linger: bool) -> None:
        body = orjson.dumps({"message": error.message, "__type": error.code})
        code = error.code.encode()
        head = [STATUS_LINE[error.status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: application/json\r\n",
            b"x-amzn-errortype: " + code + b"\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"x-amzn-requestid: " + str(uuid.uuid4()).encode() + b"\r\n",
            b"x-local-service-time-us: 0\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
        self.transport.write(b"".join(head))
        self._close(linger)

    def _close(self, linger: bool) -> None:
        if not linger or self.transport.is_closing():
            self.transport.close()
            return
        self.flow.resume_reading()  # read (and drop) what the client still sends
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._linger_timer = self.loop.call_later(LINGER_SECONDS, self.transport.close)

    # ------------------------------------------------------------------------ the rest

    def _disconnect_own_cycle(self) -> None:
        """The request being received will not be answered by the service: its ``receive()``
        now reports a disconnect and whatever it sends is dropped."""
        own = self._message_cycle if self._state == "body" else None
        if own is None or own.response_started:
            return
        own.disconnected = True
        own.waiting_for_100_continue = False  # no "100 Continue" after the refusal
        own.message_event.set()
        self.pipeline = deque(entry for entry in self.pipeline if entry[0] is not own)

    def _busy(self) -> bool:
        """The service is answering an earlier request on this connection."""
        cycles = [self._running, *(cycle for cycle, _ in self.pipeline)]
        return any(
            cycle is not None and not cycle.response_complete and not cycle.disconnected
            for cycle in cycles
        )

    def _waits_for_client(self) -> bool:
        """Nothing is asked of the service: the connection is idle or a request is arriving."""
        if self._refused or self.pipeline:
            return False
        running = self._running
        if running is None or running.response_complete:
            return True
        # the service may be reading the body that is still arriving
        return running is self._message_cycle and not running.response_started

    def _make_room(self) -> bool:
        """Close the connection that has waited longest for its client; False when none waits."""
        waiting = [
            connection
            for connection in self.connections
            if connection is not self
            and isinstance(connection, LimitedHttpProtocol)
            and connection._waits_for_client()
        ]
        if not waiting:
            return False
        oldest = min(waiting, key=lambda connection: connection._waiting_since)
        if oldest._state == "idle":
            oldest.transport.close()
        else:
            oldest._refuse(
                RequestTimeoutException(
                    "The request was still arriving when the service needed its connection "
                    f"for another (max_connections {self.limits.max_connections})."
                ),
                linger=False,
            )
        return True

    def _request_timed_out(self) -> None:
        self._request_timer = None
        self._refuse(
            RequestTimeoutException(
                f"The request did not arrive whole within "
                f"{self.limits.request_timeout_seconds:g} seconds."
            )
        )

    def _declared_length(self) -> int:
        # the parser refuses a malformed or repeated Content-Length before the head is whole
        for name, value in self.headers:
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    raise _Refused(
                        SerializationException("The Content-Length is not a number.")
                    ) from None
        return 0

    def _parse_error(self, error: httptools.HttpParserError) -> SessionServiceError:
        context = error.__context__
        if isinstance(context, _Refused):
            return context.error
        if isinstance(error, httptools.HttpParserInvalidMethodError):
            return UnknownOperationException(
                "The request method is not one HTTP/1.1 knows; methods are case-sensitive "
                "(GET, PUT, POST, PATCH, DELETE).",
                status=405,
            )
        if isinstance(error, httptools.HttpParserCallbackError):
            if isinstance(context, ValueError | httptools.HttpParserError):
                # uvicorn's own parsing of the target (httptools.parse_url, its decoding)
                return SerializationException(f"The request target cannot be parsed: {context}.")
            logger.error("unexpected error in the HTTP layer", exc_info=context)
            return InternalServerException("Internal error in the HTTP layer.")
        reason = str(error)
        if reason.startswith("Pause on PRI"):
            return SerializationException("HTTP/2 is not supported; send HTTP/1.1.")
        return SerializationException(f"The request is not valid HTTP/1.1: {reason}.")

    def _headers_too_large(self) -> SessionServiceError:
        return RequestHeaderFieldsTooLargeException(
            f"The request's header fields are larger than {self.limits.max_header_bytes} bytes."
        )

    def _body_too_large(self) -> SessionServiceError:
        # the wire layer's wording (responses.py), which says the same for a body it reads
        return RequestEntityTooLargeException(
            f"The request body is larger than {self.max_body_bytes} bytes."
        )

    def _give_back(self) -> None:
        self.budget.give_back(self._held)
        self._held = 0

    def _cancel_request_timer(self) -> None:
        if self._request_timer is not None:
            self._request_timer.cancel()
            self._request_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_request_timer()
        if self._linger_timer is not None:
            self._linger_timer.cancel()
            self._linger_timer = None


def _upgrade_refused() -> SessionServiceError:
    return SerializationException(
        "Protocol upgrades (Upgrade, HTTP/2) and CONNECT are not supported; send HTTP/1.1."
    )
