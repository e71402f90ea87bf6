"""Pure logic: envelopes, write merging, caches, fan-out, and the call counter on a real client."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langgraph.checkpoint.conformance.test_utils import (
    generate_checkpoint,
    generate_config,
    generate_metadata,
)
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.serde.types import ERROR, INTERRUPT
from langgraph_checkpoint_aws.checkpoint.bedrock_sessions.models import (
    BedrockSessionContentBlock,
    SessionCheckpoint,
)
from langgraph_checkpoint_aws.checkpoint.bedrock_sessions.utils import (
    construct_checkpoint_tuple,
    deserialize_from_base64,
    process_writes_invocation_content_blocks,
)

from langgraph_checkpoint_bedrock_sessions import ApiCallCounter
from langgraph_checkpoint_bedrock_sessions.cache import StepCache, WritesLedger
from langgraph_checkpoint_bedrock_sessions.envelope import (
    add_task_writes,
    checkpoint_text,
    encode_checkpoint,
    merge_write_steps,
    metadata_matches,
    parse_step_texts,
    to_checkpoint_tuple,
    write_text,
)
from langgraph_checkpoint_bedrock_sessions.fan_out import FanOut

SERDE = JsonPlusSerializer()
IDS = {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "c"}


def _writes(known: dict, writes: list[tuple[str, Any]], task: str) -> tuple[dict, bool]:
    return add_task_writes(
        known,
        writes,
        task_id=task,
        task_path="",
        thread_id="t",
        checkpoint_ns="",
        checkpoint_id="c",
        serde=SERDE,
    )


def test_slim_envelope_reads_the_same_in_upstream_and_stores_the_parent() -> None:
    checkpoint = generate_checkpoint(
        channel_values={"cart": ["shoe"]}, channel_versions={"cart": 1}
    )
    config = generate_config("t", checkpoint_id="parent-id")
    envelope = encode_checkpoint(checkpoint, config, generate_metadata(step=3), {"cart": 1}, SERDE)
    assert envelope.parent_checkpoint_id == "parent-id"
    assert deserialize_from_base64(SERDE, *envelope.checkpoint)["channel_values"] == {}
    upstream = construct_checkpoint_tuple("t", "", envelope, [], [], SERDE)
    ours = to_checkpoint_tuple("t", envelope, [], SERDE)
    assert upstream.checkpoint["channel_values"] == {"cart": ["shoe"]}
    assert ours.checkpoint == upstream.checkpoint
    assert ours.parent_config == upstream.parent_config
    assert ours.metadata == upstream.metadata == generate_metadata(step=3)


def test_full_envelope_is_still_available() -> None:
    checkpoint = generate_checkpoint(channel_values={"a": 1})
    envelope = encode_checkpoint(
        checkpoint, generate_config("t"), generate_metadata(), {}, SERDE, slim=False
    )
    assert deserialize_from_base64(SERDE, *envelope.checkpoint)["channel_values"] == {"a": 1}
    assert envelope.parent_checkpoint_id is None


def test_parse_step_texts_recognises_each_kind_and_ignores_foreign_steps() -> None:
    envelope = encode_checkpoint(
        generate_checkpoint(), generate_config("t"), generate_metadata(), {}, SERDE
    )
    assert isinstance(parse_step_texts([checkpoint_text(envelope)]), SessionCheckpoint)
    writes, _ = _writes({}, [("ch", 1), ("ch2", 2)], "task")
    parsed = parse_step_texts([write_text(w) for w in writes.values()])
    assert isinstance(parsed, list) and len(parsed) == 2
    assert parse_step_texts([]) is None
    assert parse_step_texts(["not json"]) is None
    assert parse_step_texts([json.dumps({"step_type": "SOMETHING_ELSE"})]) is None
    assert parse_step_texts([json.dumps([1, 2])]) is None


def test_write_blocks_read_in_upstream() -> None:
    writes, _ = _writes({}, [("ch", {"size": 42})], "task")
    blocks = [BedrockSessionContentBlock(text=write_text(w)) for w in writes.values()]
    (decoded,) = process_writes_invocation_content_blocks(blocks, SERDE)
    assert (decoded.task_id, decoded.channel, decoded.value) == ("task", "ch", {"size": 42})


def test_regular_writes_are_idempotent_and_special_channels_replace() -> None:
    first, changed = _writes({}, [("ch", "v1"), (ERROR, "boom")], "task")
    assert changed
    again, changed = _writes(first, [("ch", "other")], "task")
    assert not changed and again == first  # (task, 0) already stored: kept
    replaced, changed = _writes(first, [(ERROR, "second boom")], "task")
    assert changed
    error_key = next(k for k in replaced if k[1] < 0)
    assert deserialize_from_base64(SERDE, *replaced[error_key]["value"]) == "second boom"


def test_merge_keeps_every_task_and_newest_wins() -> None:
    a, _ = _writes({}, [("ch", "from a")], "a")
    b, _ = _writes({}, [("ch", "from b")], "b")
    a_interrupt_1, _ = _writes({}, [(INTERRUPT, "first")], "a")
    a_interrupt_2, _ = _writes({}, [(INTERRUPT, "second")], "a")
    merged = merge_write_steps(
        [a.values(), b.values(), a_interrupt_1.values(), a_interrupt_2.values()]
    )
    assert {k[0] for k in merged} == {"a", "b"}
    tuple_ = to_checkpoint_tuple(
        "t",
        encode_checkpoint(generate_checkpoint(), generate_config("t"), {}, {}, SERDE),
        merged.values(),
        SERDE,
    )
    assert ("a", INTERRUPT, "second") in tuple_.pending_writes
    assert len(tuple_.pending_writes) == 3


def test_metadata_filter() -> None:
    metadata = generate_metadata(source="loop", step=2)
    envelope = encode_checkpoint(generate_checkpoint(), generate_config("t"), metadata, {}, SERDE)
    assert metadata_matches(envelope, None)
    assert metadata_matches(envelope, {"source": "loop", "step": 2})
    assert not metadata_matches(envelope, {"source": "loop", "step": 3})


def test_step_cache_is_a_bounded_lru_and_forgets_sessions() -> None:
    cache = StepCache(max_entries=2)
    cache.put(("s1", "i", "a"), ("A",))
    cache.put(("s1", "i", "b"), ("B",))
    assert cache.get(("s1", "i", "a")) == ("A",)  # a is now the most recent
    cache.put(("s2", "i", "c"), ("C",))
    assert cache.get(("s1", "i", "b")) is None  # b was the least recently used
    assert len(cache) == 2
    cache.forget_session("s1")
    assert cache.get(("s1", "i", "a")) is None
    assert cache.get(("s2", "i", "c")) == ("C",)
    with pytest.raises(ValueError):
        StepCache(max_entries=0)


def test_writes_ledger_locks_are_stable_per_invocation() -> None:
    ledger = WritesLedger()
    assert ledger.lock_for("s", "i") is ledger.lock_for("s", "i")
    assert ledger.get("s", "i") is None
    ledger.put("s", "i", {})
    assert ledger.get("s", "i") == {}
    ledger.forget_session("s")
    assert ledger.get("s", "i") is None


def test_fan_out_keeps_order_runs_nested_calls_inline_and_restarts_after_close() -> None:
    fan_out = FanOut(max_workers=2)
    assert fan_out.run([lambda n=n: n * n for n in range(5)]) == [0, 1, 4, 9, 16]

    def nested(n: int) -> list[int]:
        # a pool thread waiting on the pool would deadlock once every worker waits
        return fan_out.run([lambda: n, lambda: n + 1, lambda: n + 2])

    assert fan_out.run([lambda n=n: nested(n) for n in range(4)]) == [
        [n, n + 1, n + 2] for n in range(4)
    ]
    fan_out.close()
    assert fan_out.run([lambda: "a", lambda: "b"]) == ["a", "b"]
    fan_out.close()


def test_api_call_counter_counts_by_operation(client: Any) -> None:
    counter = ApiCallCounter.attach(client)
    session_id = client.create_session()["sessionId"]
    client.get_session(sessionIdentifier=session_id)
    client.get_session(sessionIdentifier=session_id)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_session(sessionIdentifier="00000000-0000-0000-0000-000000000000")
    assert counter.snapshot() == {"CreateSession": 1, "GetSession": 3}
    assert counter.total == 4
    assert counter.reset() == {"CreateSession": 1, "GetSession": 3}
    assert counter.total == 0
    counter.detach()
    client.get_session(sessionIdentifier=session_id)
    assert counter.total == 0
