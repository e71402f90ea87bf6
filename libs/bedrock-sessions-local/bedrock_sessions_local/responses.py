"""The wire layer: an ASGI app that turns REST-JSON requests into backend calls and back.

One request goes: match the route (method + raw path, from the service model) → read the body
(size-limited) → decode members by location → validate against the input shape → call the
backend method named after the operation (``PutInvocationStep`` → ``put_invocation_step``) →
JSON. Every failure becomes the AWS error shape: the status of the error class, the header
``x-amzn-ErrorType`` and the body ``{"message", "__type"}``, which botocore parses into
``ClientError.response["Error"]``. Bad input is always a 4xx; a 500 means a bug, and is logged.

Faults AWS has are injected at the knobs' rates (``faults.py``): before the backend call
(throttling, a 500 with nothing done) and after it (a 500, a reset connection or a late answer
for a call that did commit).

In IAM mode (an :class:`~bedrock_sessions_local.access.AccessControl`), every API request is
authenticated (SigV4) once its body is read, before latency and faults, and authorized against
the policy once its input is valid, just before the backend runs it.

Besides the API, two local endpoints serve tests and benchmarks: ``GET /health`` (always open)
and ``GET|POST /_local/config`` (the :class:`~bedrock_sessions_local.config.ServiceKnobs`; an
admin principal's signed request in IAM mode).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import botocore.session
import orjson
from botocore import xform_name
from botocore.model import ServiceModel

from bedrock_sessions_local import faults
from bedrock_sessions_local.access import AccessControl
from bedrock_sessions_local.config import MAX_REQUEST_BODY_BYTES, ServiceKnobs
from bedrock_sessions_local.credentials import Principal
from bedrock_sessions_local.exceptions import (
    InternalServerException,
    RequestEntityTooLargeException,
    SerializationException,
    SessionServiceError,
    UnknownOperationException,
    UnsupportedMediaTypeException,
    ValidationException,
)
from bedrock_sessions_local.models import SessionBackend
from bedrock_sessions_local.routes import Route, RouteTable, decode_members, decode_query
from bedrock_sessions_local.validation import validate_input

logger = logging.getLogger("bedrock_sessions_local")

SERVICE_VERSION = "1.0.0"

_JSON = b"application/json"


class _ClientGone(Exception):
    """The client disconnected before sending its whole body; nobody is left to answer."""


def _wire_default(value: Any) -> Any:
    # Backend datetimes are aware UTC; AWS sends ISO-8601 with microseconds and a Z.
    if isinstance(value, datetime):
        if value.tzinfo is UTC:  # the backend's own values: drop "+00:00" without a copy
            return value.isoformat(timespec="microseconds")[:-6] + "Z"
        return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _dumps(document: Any) -> bytes:
    return orjson.dumps(document, default=_wire_default, option=orjson.OPT_PASSTHROUGH_DATETIME)


@lru_cache(maxsize=1)
def load_service_model() -> ServiceModel:
    """Return botocore's model of bedrock-agent-runtime, the source of routes and validation.

    Loaded once per process: parsing the model takes longer than starting a server.
    """
    return botocore.session.get_session().get_service_model("bedrock-agent-runtime")


class SessionServiceApp:
    """ASGI application serving the 14 Bedrock session operations over a backend.

    Example::

        backend = SessionBackend("sessions.db")
        app = SessionServiceApp(backend)
        uvicorn.run(app, port=8766)

    Backend calls run on the event loop thread, one at a time: each takes well under a
    millisecond, and serialising them keeps a SQLite file consistent without locks. Injected
    latency and slow answers are awaited, so they never block other requests. A call the
    backend has run is committed before any fault touches its answer.
    """

    def __init__(
        self,
        backend: SessionBackend,
        *,
        knobs: ServiceKnobs | None = None,
        max_body_bytes: int = MAX_REQUEST_BODY_BYTES,
        service_model: ServiceModel | None = None,
        access: AccessControl | None = None,
    ) -> None:
        self.backend = backend
        #: IAM mode: signatures and policy checked on every API call (None: nothing checked)
        self.access = access
        # One knobs object shared with the backend, so a config change reaches expiry too.
        self.knobs = knobs or backend.knobs
        backend.knobs = self.knobs
        self.max_body_bytes = max_body_bytes
        self.routes = RouteTable(service_model or load_service_model())
        self._methods = {
            route.name: getattr(backend, xform_name(route.name)) for route in self.routes.routes
        }
        # Member name -> the backend's keyword (sessionIdentifier -> session_identifier), once.
        self._keywords = {
            route.name: {
                name: xform_name(name)
                for name in (
                    route.operation.input_shape.members if route.operation.input_shape else ()
                )
            }
            for route in self.routes.routes
        }

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Serve one ASGI connection scope (``http`` or ``lifespan``)."""
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            try:
                message = await receive()
            except asyncio.CancelledError:
                # A second Ctrl-C makes uvicorn cancel the lifespan: close quietly, not a traceback.
                self.backend.close()
                return
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.backend.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        started = time.perf_counter_ns()
        slept_ns = 0
        request_id = str(uuid.uuid4())
        method = scope["method"]
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
        after_commit: faults.AfterCommit | None = None
        try:
            if raw_path == b"/health" or raw_path == b"/_local/config":
                status, body = await self._local(method, raw_path, scope, receive)
            else:
                route, labels = self.routes.match(method, raw_path)
                body_bytes = await self._read_body(scope, receive)
                principal = self._authenticate(method, raw_path, scope, body_bytes)
                if self.knobs.latency_ms > 0:
                    before_sleep = time.perf_counter_ns()
                    await asyncio.sleep(self.knobs.latency_ms / 1000)
                    slept_ns = time.perf_counter_ns() - before_sleep
                faults.before_operation(self.knobs)
                status, body = self._call(route, labels, scope, body_bytes, principal)
                # committed: from here on a fault loses or delays the answer, never the write
                after_commit = faults.after_operation(self.knobs)
                if after_commit is faults.AfterCommit.ERROR:
                    raise faults.error_after_commit()
            headers = [(b"content-type", _JSON)]
        except _ClientGone:
            return
        except SessionServiceError as error:
            status, body, headers = self._error(error)
        except Exception as error:  # a bug, not bad input: answer in AWS shape and log it
            logger.exception(
                "unexpected error serving %s %r (request %s)", method, raw_path, request_id
            )
            status, body, headers = self._error(
                InternalServerException(
                    f"Internal error ({type(error).__name__}); request id {request_id}."
                )
            )
        if after_commit is faults.AfterCommit.SLOW:
            slept_ns += await faults.wait_unless_disconnected(
                receive, self.knobs.slow_response_ms / 1000
            )
        elapsed_us = (time.perf_counter_ns() - started - slept_ns) // 1000
        headers += [
            (b"content-length", str(len(body)).encode()),
            (b"x-amzn-requestid", request_id.encode()),
            (b"x-local-service-time-us", str(elapsed_us).encode()),
        ]
        start = {"type": "http.response.start", "status": status, "headers": headers}
        if after_commit is faults.AfterCommit.DROP:
            await faults.drop_connection(send, receive, start, body)
            return
        await send(start)
        await send({"type": "http.response.body", "body": body})

    def _authenticate(
        self, method: str, raw_path: bytes, scope: dict[str, Any], body_bytes: bytes
    ) -> Principal | None:
        """The signer of the request in IAM mode (raising the signature errors), else None."""
        if self.access is None:
            return None
        query_string = scope.get("query_string", b"")
        return self.access.authenticate(
            method, raw_path, query_string, scope["headers"], body_bytes
        )

    def _call(
        self,
        route: Route,
        labels: dict[str, str],
        scope: dict[str, Any],
        body_bytes: bytes,
        principal: Principal | None,
    ) -> tuple[int, bytes]:
        body = self._parse_body(route, scope, body_bytes)
        query = decode_query(scope.get("query_string", b""))
        params = decode_members(route, labels, query, body)
        checked = validate_input(route.operation.input_shape, params)
        if self.access is not None and principal is not None:
            self.access.authorize(principal, route.name, checked, self.backend)
        keywords = self._keywords[route.name]
        result = self._methods[route.name](**{keywords[k]: v for k, v in checked.items()})
        return route.status, (_dumps(result) if result else b"")

    def _parse_body(self, route: Route, scope: dict[str, Any], body_bytes: bytes) -> dict[str, Any]:
        # Operations without body members (Get, Delete, List*) ignore any body, as AWS does.
        if not route.has_body or not body_bytes.strip():
            return {}
        content_type = _header(scope, b"content-type")
        if content_type is not None and not _is_json(content_type):
            raise UnsupportedMediaTypeException(
                f"Content-Type {content_type.decode('latin-1')[:100]!r} is not supported; "
                "send application/json."
            )
        try:
            document = orjson.loads(body_bytes)
        except orjson.JSONDecodeError as error:
            raise SerializationException(f"The request body is not valid JSON: {error}") from None
        if not isinstance(document, dict):
            raise SerializationException("The request body must be a JSON object.")
        return document

    async def _read_body(self, scope: dict[str, Any], receive: Any) -> bytes:
        declared = _header(scope, b"content-length")
        if (
            declared is not None
            and declared.strip().isdigit()
            and int(declared) > self.max_body_bytes
        ):
            raise RequestEntityTooLargeException(
                f"The request body is larger than {self.max_body_bytes} bytes."
            )
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise RequestEntityTooLargeException(
                    f"The request body is larger than {self.max_body_bytes} bytes."
                )
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _local(
        self, method: str, raw_path: bytes, scope: dict[str, Any], receive: Any
    ) -> tuple[int, bytes]:
        if raw_path == b"/health":
            if method != "GET":
                raise _method_not_allowed(method, "/health", "GET")
            document = {
                "status": "ok",
                "sessions": self.backend.session_count(),
                "version": SERVICE_VERSION,
            }
            return 200, orjson.dumps(document)
        body_bytes = await self._read_body(scope, receive)
        principal = self._authenticate(method, raw_path, scope, body_bytes)
        if self.access is not None and principal is not None:
            self.access.authorize_admin(principal, method)
        if method == "POST":
            try:
                changes = orjson.loads(body_bytes or b"{}")
            except orjson.JSONDecodeError as error:
                raise SerializationException(
                    f"The request body is not valid JSON: {error}"
                ) from None
            if not isinstance(changes, dict):
                raise SerializationException("The request body must be a JSON object.")
            try:
                self.knobs.update(changes)
            except ValueError as error:
                raise ValidationException(str(error)) from None
            logger.info("local config changed: %s", changes)
        elif method != "GET":
            raise _method_not_allowed(method, "/_local/config", "GET, POST")
        return 200, orjson.dumps(self.knobs.as_dict())

    @staticmethod
    def _error(error: SessionServiceError) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        body = orjson.dumps({"message": error.message, "__type": error.code})
        headers = [(b"content-type", _JSON), (b"x-amzn-errortype", error.code.encode())]
        if isinstance(error, RequestEntityTooLargeException):
            # The rest of the body was not read; closing keeps the connection from desyncing.
            headers.append((b"connection", b"close"))
        return error.status, body, headers


def _method_not_allowed(method: str, path: str, allowed: str) -> SessionServiceError:
    return UnknownOperationException(
        f"Method {method} is not allowed on {path}; allowed: {allowed}.", status=405
    )


def _header(scope: dict[str, Any], name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


def _is_json(content_type: bytes) -> bool:
    media = content_type.split(b";", 1)[0].strip().lower()
    return (
        media in (b"application/json", b"")
        or media.endswith(b"+json")
        or media.startswith(b"application/x-amz-json")
    )
