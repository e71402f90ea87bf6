"""Settings of the local service: runtime knobs (faults, latency, expiry) and quotas.

Knobs can change while the service runs (``POST /_local/config``); quotas are fixed when the
backend is built. AWS publishes no numeric quota for sessions, so every default here is a
generous local choice (see README "Choices where AWS is silent").
"""

from __future__ import annotations

import random
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

    Faults before an operation (nothing is stored) and faults after it (the operation ran and
    committed; only its answer is lost or late) are both drawn per API call; see ``faults.py``
    for how each one looks on the wire.

    Attributes:
        latency_ms: extra latency added to every API call (awaited, never blocks other calls).
        throttle_rate: probability in [0, 1] that an API call answers ThrottlingException 429
            without running.
        internal_error_rate: probability in [0, 1] that an API call answers
            InternalServerException 500 without running.
        commit_error_rate: probability in [0, 1] that a call which succeeded (and committed)
            answers InternalServerException 500 instead of its result.
        commit_drop_rate: probability in [0, 1] that a call which succeeded (and committed) has
            its connection reset partway through the answer.
        slow_response_rate: probability in [0, 1] that a call which succeeded (and committed)
            answers only after ``slow_response_ms``.
        slow_response_ms: the delay of a slow answer (awaited, never blocks other calls).
        session_ttl_seconds: idle time after which an ACTIVE session reads as EXPIRED;
            None disables expiry.
        fault_seed: seed of the dice the faults are drawn with; setting it (again) restarts
            the sequence, so the same calls in the same order meet the same faults. None seeds
            from the operating system.
    """

    latency_ms: float = 0.0
    throttle_rate: float = 0.0
    internal_error_rate: float = 0.0
    commit_error_rate: float = 0.0
    commit_drop_rate: float = 0.0
    slow_response_rate: float = 0.0
    slow_response_ms: float = 0.0
    session_ttl_seconds: float | None = None
    fault_seed: int | None = None

    def __post_init__(self) -> None:
        #: the dice every fault is drawn with (not a knob: ``fault_seed`` sets it)
        self.dice = random.Random(self.fault_seed)

    def as_dict(self) -> dict[str, Any]:
        """Return the knobs as a JSON-ready dict."""
        return asdict(self)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply ``changes`` after checking every name and value; raise ValueError on bad input.

        Nothing is applied when any change is invalid, so a bad request leaves the knobs intact.
        Rates (names ending in ``_rate``) are probabilities in [0, 1]; durations are finite and
        >= 0; ``fault_seed`` is an integer >= 0; ``session_ttl_seconds`` and ``fault_seed`` may
        be None.
        """
        known = {f.name for f in fields(self)}
        checked: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown setting {name!r}; known: {sorted(known)}")
            if name in ("session_ttl_seconds", "fault_seed") and value is None:
                checked[name] = None
                continue
            if name == "fault_seed":
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"fault_seed must be an integer >= 0, got {value!r}")
                checked[name] = value
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
        if "fault_seed" in checked:
            self.dice.seed(self.fault_seed)


@dataclass(frozen=True)
class Quotas:
    """Limits that answer ServiceQuotaExceededException when a write would pass them.

    ``max_tags_per_session`` is the model's TagsMap maximum; the others are local choices.
    """

    max_sessions: int = 1_000_000
    max_invocations_per_session: int = 100_000
    max_steps_per_session: int = 1_000_000
    max_tags_per_session: int = 200
