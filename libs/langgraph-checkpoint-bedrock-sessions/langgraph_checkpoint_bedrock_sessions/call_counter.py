"""Count the Bedrock session API calls a boto3 client makes, by operation name."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

_EVENT = "before-call.bedrock-agent-runtime"


class ApiCallCounter:
    """Counts calls of one ``bedrock-agent-runtime`` client through a botocore event hook.

    ``before-call`` fires once per API operation (botocore retries happen below it), so the
    numbers are the calls the code asked for, whatever the network did. Thread-safe.

    Example::

        import boto3

        client = boto3.client("bedrock-agent-runtime")
        counter = ApiCallCounter.attach(client)
        client.create_session()
        counter.snapshot()  # {"CreateSession": 1}
        counter.detach()
    """

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._clients: list[Any] = []

    @classmethod
    def attach(cls, client: Any) -> ApiCallCounter:
        """Create a counter and start counting the calls of ``client``."""
        counter = cls()
        counter.watch(client)
        return counter

    def watch(self, client: Any) -> None:
        """Start counting the calls of another ``bedrock-agent-runtime`` client."""
        # unique_id makes registering twice harmless and lets detach remove exactly this hook
        client.meta.events.register(_EVENT, self._on_call, unique_id=self._hook_id)
        self._clients.append(client)

    def detach(self) -> None:
        """Stop counting (the counts stay readable)."""
        for client in self._clients:
            client.meta.events.unregister(_EVENT, unique_id=self._hook_id)
        self._clients.clear()

    @property
    def _hook_id(self) -> str:
        return f"bedrock-session-api-call-counter-{id(self)}"

    def _on_call(self, model: Any, **_: Any) -> None:
        with self._lock:
            self._counts[model.name] += 1

    def snapshot(self) -> dict[str, int]:
        """Calls so far by operation name (a copy)."""
        with self._lock:
            return dict(self._counts)

    def reset(self) -> dict[str, int]:
        """Zero the counts; return what they were."""
        with self._lock:
            before = dict(self._counts)
            self._counts.clear()
            return before

    @property
    def total(self) -> int:
        """Calls so far, all operations together."""
        with self._lock:
            return sum(self._counts.values())
