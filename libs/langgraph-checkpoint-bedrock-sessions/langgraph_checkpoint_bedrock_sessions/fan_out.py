"""`FanOut`: the independent boto3 calls of one operation, sent concurrently.

boto3 has no async API, so concurrency means threads. Both checkpointers (the async one too)
send the independent calls of one operation (the bodies and writes of a history page, a
checkpoint and its eager writes invocation) through one ``FanOut`` and its own thread pool.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

_in_pool = threading.local()


def _run_in_pool(call: Callable[[], T]) -> T:
    _in_pool.active = True
    return call()


class FanOut:
    """Runs independent blocking calls concurrently on a thread pool of its own.

    Results come back in the order of the calls; the first exception is raised. The pool
    starts on first use; after ``close`` a new one starts on demand.

    Args:
        max_workers: threads of the pool (size a boto3 client's ``max_pool_connections`` to at
            least this, or urllib3 logs "connection pool is full").
        thread_name_prefix: names of the pool's threads.

    Example::

        fan_out = FanOut(max_workers=4)
        fan_out.run([lambda n=n: n * n for n in range(4)])  # [0, 1, 4, 9]
        fan_out.close()
    """

    def __init__(
        self, max_workers: int = 32, *, thread_name_prefix: str = "bedrock-checkpointer"
    ) -> None:
        self.max_workers = max_workers
        self.thread_name_prefix = thread_name_prefix
        self._pool: ThreadPoolExecutor | None = None

    @property
    def pool(self) -> ThreadPoolExecutor:
        """The thread pool (created on first use)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=self.max_workers, thread_name_prefix=self.thread_name_prefix
            )
        return self._pool

    def run(self, calls: Sequence[Callable[[], T]]) -> list[T]:
        """Run independent calls concurrently; return their results in order.

        A single call, or calls made from inside a pool thread, run inline: with every worker
        waiting for queued subtasks the pool would deadlock, so nested fan-outs stay in the
        thread that asked.

        Raises:
            Exception: what the first failing call (in the order given) raised; calls already
                submitted still run to their end.
        """
        if len(calls) <= 1 or getattr(_in_pool, "active", False):
            return [call() for call in calls]
        futures: list[Future[T]] = [self.pool.submit(_run_in_pool, call) for call in calls]
        return [future.result() for future in futures]

    def close(self) -> None:
        """Stop the thread pool, waiting for running calls (a new pool starts on demand)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
