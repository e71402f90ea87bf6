"""Test support: boto3 clients of the local service and a thread-id adapter for conformance.

The conformance suite invents thread ids (``uuid4()``, even ``"thread-0"``), but a Bedrock
thread id is a session id that only the service can create. ``ConformanceSessions`` maps every
invented thread id to a real session created on first sight, and maps ids back in what the
saver returns, so the suite runs unchanged against the real wire protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple

from bedrock_sessions_local.testing import make_client

__all__ = ["conformance_view", "make_client", "new_session_id"]


def new_session_id(client: Any) -> str:
    """Create a Bedrock session and return its id (the LangGraph thread id)."""
    return client.create_session()["sessionId"]


_ASYNC_METHODS = (
    "aput",
    "aput_writes",
    "aget_tuple",
    "alist",
    "adelete_thread",
    "adelete_for_runs",
    "acopy_thread",
    "aprune",
)


def _implements(saver_type: type, async_name: str) -> bool:
    """True when the saver overrides the async method or its sync twin."""
    for name in (async_name, async_name[1:]):
        if getattr(saver_type, name, None) is not getattr(BaseCheckpointSaver, name, None):
            return True
    return False


class _ConformanceSessions(BaseCheckpointSaver):
    """Delegates to ``inner``, translating invented thread ids to real session ids."""

    def __init__(self, inner: BaseCheckpointSaver, client: Any) -> None:
        super().__init__(serde=inner.serde)
        self.inner = inner
        self.client = client
        self.to_session: dict[str, str] = {}
        self.to_thread: dict[str, str] = {}

    # -- id mapping
    async def _session(self, thread_id: str) -> str:
        if thread_id not in self.to_session:
            session_id = await asyncio.to_thread(new_session_id, self.client)
            self.to_session[thread_id] = session_id
            self.to_thread[session_id] = thread_id
        return self.to_session[thread_id]

    async def _in(self, config: RunnableConfig | None) -> RunnableConfig | None:
        if config is None:
            return None
        configurable = dict(config.get("configurable", {}))
        configurable["thread_id"] = await self._session(configurable["thread_id"])
        return {**config, "configurable": configurable}

    def _out(self, config: RunnableConfig | None) -> RunnableConfig | None:
        if config is None:
            return None
        configurable = dict(config["configurable"])
        configurable["thread_id"] = self.to_thread.get(
            configurable["thread_id"], configurable["thread_id"]
        )
        return {**config, "configurable": configurable}

    def _out_tuple(self, tup: CheckpointTuple | None) -> CheckpointTuple | None:
        if tup is None:
            return None
        return tup._replace(
            config=self._out(tup.config), parent_config=self._out(tup.parent_config)
        )

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call the inner async method, or its sync twin in a thread."""
        if getattr(type(self.inner), name) is not getattr(BaseCheckpointSaver, name):
            return await getattr(self.inner, name)(*args, **kwargs)
        return await asyncio.to_thread(getattr(self.inner, name[1:]), *args, **kwargs)

    # -- the async API the suite calls
    async def aput(self, config, checkpoint, metadata, new_versions):  # type: ignore[override]
        config = await self._in(config)
        stored = await self._call("aput", config, checkpoint, metadata, new_versions)
        return self._out(stored)

    async def aput_writes(self, config, writes, task_id, task_path=""):  # type: ignore[override]
        await self._call("aput_writes", await self._in(config), writes, task_id, task_path)

    async def aget_tuple(self, config):  # type: ignore[override]
        return self._out_tuple(await self._call("aget_tuple", await self._in(config)))

    async def alist(  # type: ignore[override]
        self, config, *, filter=None, before=None, limit=None
    ) -> AsyncIterator[CheckpointTuple]:
        config, before = await self._in(config), await self._in(before)
        inner_type = type(self.inner)
        if inner_type.alist is not BaseCheckpointSaver.alist:
            async for tup in self.inner.alist(config, filter=filter, before=before, limit=limit):
                yield self._out_tuple(tup)
        else:
            tuples = await asyncio.to_thread(
                lambda: list(self.inner.list(config, filter=filter, before=before, limit=limit))
            )
            for tup in tuples:
                yield self._out_tuple(tup)

    async def adelete_thread(self, thread_id):  # type: ignore[override]
        await self._call("adelete_thread", await self._session(thread_id))

    async def adelete_for_runs(self, run_ids):  # type: ignore[override]
        await self._call("adelete_for_runs", run_ids)

    async def acopy_thread(self, source_thread_id, target_thread_id):  # type: ignore[override]
        await self._call(
            "acopy_thread",
            await self._session(source_thread_id),
            await self._session(target_thread_id),
        )

    async def aprune(self, thread_ids, *, strategy="keep_latest"):  # type: ignore[override]
        sessions = [await self._session(t) for t in thread_ids]
        await self._call("aprune", sessions, strategy=strategy)


def conformance_view(inner: BaseCheckpointSaver, client: Any) -> BaseCheckpointSaver:
    """Wrap ``inner`` for the conformance suite; capabilities it lacks stay undetected."""
    missing: dict[str, Callable[..., Any]] = {
        name: getattr(BaseCheckpointSaver, name)
        for name in _ASYNC_METHODS
        if not _implements(type(inner), name)
    }
    view_type = type(f"Conformance[{type(inner).__name__}]", (_ConformanceSessions,), missing)
    return view_type(inner, client)
