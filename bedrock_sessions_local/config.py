"""Settings of the local service: runtime knobs (faults, latency, expiry) and quotas.

Knobs can change while the service runs (``POST /_local/config``); quotas are fixed when the
backend is built. AWS publishes no numeric quota for sessions, so every default here is a
generous local choice (see README "Choices where AWS is silent").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"

#: page size when a List call has no maxResults (AWS is silent; the smithy Python SDK shows 10)
DEFAULT_PAGE_SIZE = 10

#: largest request body accepted, in bytes (AWS publishes no payload limit)
MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024


@dataclass
class ServiceKnobs:
    """Runtime behaviour a test or a benchmark may change through ``/_local/config``.

    Attributes:
        latency_ms: extra latency added to every API call (awaited, never blocks other calls).
        throttle_rate: probability in [0, 1] that an API call answers ThrottlingException 429.
        internal_error_rate: probability in [0, 1] that a call answers InternalServerException.
        session_ttl_seconds: idle time after which an ACTIVE session reads as EXPIRED;
            None disables expiry.
    """

    latency_ms: float = 0.0
    throttle_rate: float = 0.0
    internal_error_rate: float = 0.0
    session_ttl_seconds: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the knobs as a JSON-ready dict."""
        return asdict(self)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply ``changes`` after checking every name and value; raise ValueError on bad input.

        Nothing is applied when any change is invalid, so a bad request leaves the knobs intact.
        """
        known = {f.name for f in fields(self)}
        checked: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown setting {name!r}; known: {sorted(known)}")
            if name == "session_ttl_seconds" and value is None:
                checked[name] = None
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number, got {value!r}")
            number = float(value)
            if number != number or number in (float("inf"), float("-inf")) or number < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
            if name.endswith("_rate") and number > 1:
                raise ValueError(f"{name} is a probability and must be <= 1, got {value!r}")
            checked[name] = number
        for name, value in checked.items():
            setattr(self, name, value)


@dataclass(frozen=True)
class Quotas:
    """Limits that answer ServiceQuotaExceededException when a write would pass them.

    ``max_tags_per_session`` is the model's TagsMap maximum; the others are local choices.
    """

    max_sessions: int = 1_000_000
    max_invocations_per_session: int = 100_000
    max_steps_per_session: int = 1_000_000
    max_tags_per_session: int = 200
