"""`AsyncBedrockSessionCheckpointer`: the upstream async saver, made correct and fast."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextvars import copy_context
from functools import partial
from typing import Any, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph_checkpoint_aws.checkpoint.bedrock_sessions.async_saver import (
    AsyncBedrockSessionSaver,
)

from langgraph_checkpoint_bedrock_sessions.store_backed import StoreBackedSaver

T = TypeVar("T")
_DONE = object()


class AsyncBedrockSessionCheckpointer(StoreBackedSaver, AsyncBedrockSessionSaver):
    """An ``AsyncBedrockSessionSaver`` that keeps its wire format and fixes its defects.

    Same behaviour as ``BedrockSessionCheckpointer`` (see there), for ``ainvoke``/``astream``.
    boto3 is blocking, so each operation runs in the event loop's executor (as upstream
    does for every single call); the independent calls inside one operation go out
    concurrently. The sync methods work too, for code that mixes both.

    Example::

        import asyncio

        import boto3
        from langgraph.graph import START, StateGraph

        builder = StateGraph(int)
        builder.add_node("add_one", lambda x: x + 1)
        builder.add_edge(START, "add_one")
        client = boto3.client("bedrock-agent-runtime")
        graph = builder.compile(checkpointer=AsyncBedrockSessionCheckpointer(client=client))
        thread = {"configurable": {"thread_id": client.create_session()["sessionId"]}}
        asyncio.run(graph.ainvoke(1, thread))  # 2
    """

    @staticmethod
    async def _off_loop(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            None, partial(copy_context().run, partial(func, *args, **kwargs))
        )

    # ------------------------------------------------------------------ async API

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint of ``config`` (latest when it names none), with all its writes."""
        return await self._off_loop(self.store.get_tuple, config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """Checkpoints newest first, fetched lazily page by page."""
        iterator = self.store.list(config, filter=filter, before=before, limit=limit)
        while True:
            item = await self._off_loop(next, iterator, _DONE)
            if item is _DONE:
                return
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a checkpoint, linked to its parent (the checkpoint of ``config``)."""
        return await self._off_loop(self.store.put, config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's pending writes without losing other tasks' writes."""
        await self._off_loop(self.store.put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        """End and delete the thread's Bedrock session (no error when it is already gone)."""
        await self._off_loop(self.store.delete_thread, thread_id)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint and write of a session into another existing session."""
        await self._off_loop(self.store.copy_thread, source_thread_id, target_thread_id)
