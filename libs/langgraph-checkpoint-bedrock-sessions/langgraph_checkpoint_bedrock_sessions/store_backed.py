"""`StoreBackedSaver`: what the sync and async checkpointers share.

Both extend an upstream saver (sync or async) and route every operation to one
`CheckpointSessionStore`. This mixin, placed before the upstream class in the bases, holds the
construction of that store and the blocking API, so each checkpointer only adds what differs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from botocore.config import Config
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)

from langgraph_checkpoint_bedrock_sessions.session_store import CheckpointSessionStore


class StoreBackedSaver:
    """Blocking checkpoint API over a `CheckpointSessionStore` (mix in before an upstream saver).

    Takes the upstream saver's arguments plus the store's options; without a ``client`` or a
    botocore ``config`` the upstream saver builds a client with ``max_workers`` pooled
    connections.

    Example::

        from langgraph_checkpoint_aws.checkpoint.bedrock_sessions.saver import (
            BedrockSessionSaver,
        )


        class BedrockSessionCheckpointer(StoreBackedSaver, BedrockSessionSaver):
            pass  # every blocking operation now goes through self.store
    """

    store: CheckpointSessionStore

    def __init__(
        self,
        *args: Any,
        slim_checkpoints: bool = True,
        eager_writes_invocation: bool = False,
        max_workers: int = 32,
        step_cache_size: int = 4096,
        **kwargs: Any,
    ) -> None:
        if not args and kwargs.get("client") is None and kwargs.get("config") is None:
            # concurrent reads need as many pooled connections as threads (boto3 default: 10)
            kwargs["config"] = Config(max_pool_connections=max_workers)
        super().__init__(*args, **kwargs)
        self.store = CheckpointSessionStore(
            self.session_client.client,
            self.serde,
            slim_checkpoints=slim_checkpoints,
            eager_writes_invocation=eager_writes_invocation,
            max_workers=max_workers,
            step_cache_size=step_cache_size,
        )

    @property
    def client(self) -> Any:
        """The boto3 ``bedrock-agent-runtime`` client this saver calls."""
        return self.session_client.client

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint of ``config`` (latest when it names none), with all its writes."""
        return self.store.get_tuple(config)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints newest first, fetched lazily page by page."""
        return self.store.list(config, filter=filter, before=before, limit=limit)

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a checkpoint, linked to its parent (the checkpoint of ``config``)."""
        return self.store.put(config, checkpoint, metadata, new_versions)

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's pending writes without losing other tasks' writes."""
        self.store.put_writes(config, writes, task_id, task_path)

    def delete_thread(self, thread_id: str) -> None:
        """End and delete the thread's Bedrock session (no error when it is already gone)."""
        self.store.delete_thread(thread_id)

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint and write of a session into another existing session."""
        self.store.copy_thread(source_thread_id, target_thread_id)
