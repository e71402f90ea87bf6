"""Limits of the HTTP layer: how large a request may be, how long it may take to arrive, and how
many connections and request bytes the service holds at once.

They are enforced while a request arrives, before it is read whole (``protocol.py``), and each
is answered in the AWS error shape. The body limit is the service's ``max_body_bytes``
(``config.MAX_REQUEST_BODY_BYTES``), which the wire layer enforces too. AWS publishes none of
these numbers; the defaults are generous for any client of the 14 operations (a boto3 request
has about 1 KiB of headers and a URL under 300 bytes) and small enough that no single client can
make the service read, hold or wait for much (README "Choices where AWS is silent").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

__all__ = ["RequestLimits"]


@dataclass(frozen=True)
class RequestLimits:
    """The HTTP layer's limits; a value out of range is a ``ValueError``.

    Attributes:
        max_header_bytes: header fields of one request, names and values (each counted with
            its ``": "`` and line end): more is 431 ``RequestHeaderFieldsTooLargeException``.
        max_url_bytes: the request target, path and query string: more is 414
            ``RequestURITooLongException``.
        request_timeout_seconds: from a request's first byte to its last (headers and body):
            later is 408 ``RequestTimeoutException``.
        idle_timeout_seconds: a connection with no request in progress (new, or kept alive
            after an answer) is closed after this long.
        max_connections: open connections; one more closes the connection that has waited
            longest for its client (idle, or a request still arriving), or, when every
            connection is busy in the service, is answered 429 ``ThrottlingException``.
        max_body_bytes_in_flight: request body bytes held at once across all connections
            (received and not yet answered); a body that would pass it is answered 429
            ``ThrottlingException``. At least the body limit, so any one legal body fits.
    """

    max_header_bytes: int = 16 * 1024
    max_url_bytes: int = 8 * 1024
    request_timeout_seconds: float = 30.0
    idle_timeout_seconds: float = 30.0
    max_connections: int = 500
    max_body_bytes_in_flight: int = 64 * 1024 * 1024

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{field.name} must be a number, got {value!r}")
            if field.type == "int" and not isinstance(value, int):
                raise ValueError(f"{field.name} must be an integer, got {value!r}")
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{field.name} must be a finite number > 0, got {value!r}")

    @property
    def max_head_bytes(self) -> int:
        """The most a legal request head takes: target, header fields, and 64 bytes for the
        method, the version and the line ends."""
        return self.max_url_bytes + self.max_header_bytes + 64

    def check_body_limit(self, max_body_bytes: int) -> None:
        """Raise ValueError unless one body of ``max_body_bytes`` fits in the bytes in flight."""
        if max_body_bytes > self.max_body_bytes_in_flight:
            raise ValueError(
                f"max_body_bytes ({max_body_bytes}) must not exceed "
                f"max_body_bytes_in_flight ({self.max_body_bytes_in_flight})"
            )
