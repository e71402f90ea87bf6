"""The JSON envelopes that `langgraph-checkpoint-aws` stores in Bedrock session steps.

Everything here is pure (no I/O), shared by the sync and the async checkpointer, and keeps the
upstream wire format byte-compatible:

- one **checkpoint step** per LangGraph checkpoint, in the invocation
  ``md5("CHECKPOINTS#" + ns)``, step id = checkpoint id, one text block holding a
  ``SessionCheckpoint`` JSON (serde values base64-encoded, metadata as base64 JSON);
- **writes steps** in the invocation ``md5("WRITES#" + ns + "#" + checkpoint_id)``, one text
  block per pending write holding a ``SessionPendingWrite`` JSON.

Two things differ from upstream, both readable by the upstream saver:

- ``parent_checkpoint_id`` is filled in (upstream declares the field but never sets it);
- the ``checkpoint`` field may be stored *without* its ``channel_values`` ("slim"): the
  upstream reader always overwrites them with the separate ``channel_values`` field, so
  storing them twice only doubles the payload.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph_checkpoint_aws.checkpoint.bedrock_sessions.constants import (
    CHECKPOINT_PREFIX,
    WRITES_PREFIX,
)
from langgraph_checkpoint_aws.checkpoint.bedrock_sessions.models import (
    SessionCheckpoint,
    SessionPendingWrite,
)
from langgraph_checkpoint_aws.checkpoint.bedrock_sessions.utils import (
    deserialize_from_base64,
    deserialize_metadata,
    serialize_metadata,
    serialize_to_base64,
)

#: key of one pending write inside a checkpoint's writes: (task_id, write_idx)
WriteKey = tuple[str, int]
#: a pending write as stored on the wire (the parsed SessionPendingWrite JSON, value still encoded)
RawWrite = dict[str, Any]


def encode_checkpoint(
    checkpoint: Checkpoint,
    config: RunnableConfig,
    metadata: CheckpointMetadata,
    new_versions: ChannelVersions,
    serde: SerializerProtocol,
    *,
    slim: bool = True,
) -> SessionCheckpoint:
    """Build the ``SessionCheckpoint`` envelope of a checkpoint about to be stored.

    The parent is the ``checkpoint_id`` of ``config`` (LangGraph passes the config of the
    previous checkpoint to ``put``), which is what makes ``parent_config`` and the history tree
    work. With ``slim`` the nested ``checkpoint`` field carries an empty ``channel_values``.
    """
    configurable = config.get("configurable", {})
    body = checkpoint.copy()
    # pending_sends is handled through writes in LangGraph >= 0.2; upstream drops it too
    body.pop("pending_sends", None)  # type: ignore[typeddict-item]
    channel_values = body.get("channel_values", {})
    if slim:
        body["channel_values"] = {}
    return SessionCheckpoint(
        step_type=CHECKPOINT_PREFIX,
        thread_id=configurable["thread_id"],
        checkpoint_ns=configurable.get("checkpoint_ns", ""),
        checkpoint_id=checkpoint["id"],
        checkpoint=serialize_to_base64(serde, body),
        metadata=serialize_metadata(metadata),
        parent_checkpoint_id=configurable.get("checkpoint_id"),
        channel_values=serialize_to_base64(serde, channel_values),
        version=serialize_to_base64(serde, new_versions),
    )


def parse_step_texts(texts: Sequence[str]) -> SessionCheckpoint | list[RawWrite] | None:
    """Parse the text blocks of one step: a checkpoint envelope, a list of writes, or None.

    None means the step is not ours (empty, not JSON, or an unknown ``step_type``): other
    software may share a session, and one foreign step must not break a history.
    """
    if not texts:
        return None
    try:
        first = json.loads(texts[0])
    except ValueError:
        return None
    if not isinstance(first, dict):
        return None
    if first.get("step_type") == CHECKPOINT_PREFIX:
        return SessionCheckpoint(**first)
    if first.get("step_type") == WRITES_PREFIX:
        return [first, *(json.loads(text) for text in texts[1:])]
    return None


def checkpoint_text(envelope: SessionCheckpoint) -> str:
    """The single text block stored for a checkpoint (same serialisation as upstream)."""
    return envelope.model_dump_json()


def write_text(write: RawWrite) -> str:
    """The text block stored for one pending write (same serialisation as upstream)."""
    return SessionPendingWrite(**write).model_dump_json()


def merge_write_steps(steps_oldest_first: Iterable[Iterable[RawWrite]]) -> dict[WriteKey, RawWrite]:
    """Merge every writes step of one checkpoint; a newer step wins for the same key.

    Upstream stores one step per ``put_writes`` call holding only that task's writes, and
    reads only the newest step, so sibling tasks' writes are lost. We read every step: steps
    written by upstream (one task each) and our cumulative steps merge to the same result.
    """
    merged: dict[WriteKey, RawWrite] = {}
    for step in steps_oldest_first:
        for write in step:
            merged[(write["task_id"], int(write["write_idx"]))] = write
    return merged


def add_task_writes(
    known: dict[WriteKey, RawWrite],
    writes: Sequence[tuple[str, Any]],
    *,
    task_id: str,
    task_path: str,
    thread_id: str,
    checkpoint_ns: str,
    checkpoint_id: str,
    serde: SerializerProtocol,
) -> tuple[dict[WriteKey, RawWrite], bool]:
    """Return ``known`` plus one task's writes, and whether anything changed.

    Same semantics as LangGraph's ``InMemorySaver`` and upstream ``process_write_operations``:
    a regular write (index >= 0) already stored for (task, index) is kept as is (idempotent
    retries); special channels (ERROR, INTERRUPT, RESUME... with negative indexes from
    ``WRITES_IDX_MAP``) replace the stored one.
    """
    merged = dict(known)
    changed = False
    for idx, (channel, value) in enumerate(writes):
        write_idx = WRITES_IDX_MAP.get(channel, idx)
        key = (task_id, write_idx)
        if write_idx >= 0 and key in merged:
            continue
        merged[key] = SessionPendingWrite(
            step_type=WRITES_PREFIX,
            thread_id=thread_id,
            checkpoint_ns=checkpoint_ns,
            checkpoint_id=checkpoint_id,
            task_id=task_id,
            channel=channel,
            value=serialize_to_base64(serde, value),
            task_path=task_path,
            write_idx=write_idx,
        ).model_dump(mode="json")
        changed = True
    return merged, changed


def to_checkpoint_tuple(
    thread_id: str,
    envelope: SessionCheckpoint,
    writes: Iterable[RawWrite],
    serde: SerializerProtocol,
) -> CheckpointTuple:
    """Decode an envelope and its writes into LangGraph's ``CheckpointTuple``.

    ``thread_id`` is the thread that was asked for (it may differ from the one inside the
    envelope after a copy made by software that did not rewrite it).
    """
    checkpoint_ns = envelope.checkpoint_ns
    checkpoint = cast(
        Checkpoint,
        {
            **deserialize_from_base64(serde, *envelope.checkpoint),
            "channel_values": deserialize_from_base64(serde, *envelope.channel_values),
        },
    )
    # LangGraph >= 0.2 (checkpoint v >= 2) keeps sends in the TASKS channel; an old checkpoint
    # without the key gets an empty list, as upstream gives when it finds no parent sends.
    checkpoint.setdefault("pending_sends", [])  # type: ignore[typeddict-item]
    parent_config: RunnableConfig | None = None
    if envelope.parent_checkpoint_id:
        parent_config = {
            "configurable": {
                "thread_id": thread_id,
                "checkpoint_ns": checkpoint_ns,
                "checkpoint_id": envelope.parent_checkpoint_id,
            }
        }
    return CheckpointTuple(
        config={
            "configurable": {
                "thread_id": thread_id,
                "checkpoint_ns": checkpoint_ns,
                "checkpoint_id": envelope.checkpoint_id,
            }
        },
        checkpoint=checkpoint,
        metadata=deserialize_metadata(*envelope.metadata),
        parent_config=parent_config,
        pending_writes=[
            (w["task_id"], w["channel"], deserialize_from_base64(serde, *w["value"]))
            for w in writes
        ],
    )


def metadata_matches(envelope: SessionCheckpoint, filter: dict[str, Any] | None) -> bool:
    """True when every key of ``filter`` equals the checkpoint's metadata value."""
    if not filter:
        return True
    metadata = deserialize_metadata(*envelope.metadata) if envelope.metadata else {}
    return all(metadata.get(key) == value for key, value in filter.items())


def retarget_checkpoint(envelope: SessionCheckpoint, thread_id: str) -> SessionCheckpoint:
    """The same checkpoint envelope, claimed by another thread (used by ``copy_thread``)."""
    return envelope.model_copy(update={"thread_id": thread_id})


def retarget_write(write: RawWrite, thread_id: str) -> RawWrite:
    """The same pending write, claimed by another thread (used by ``copy_thread``)."""
    return {**write, "thread_id": thread_id}
