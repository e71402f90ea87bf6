"""Every write is safe to retry. AWS may store a write and lose its answer (a 500, a dropped
connection, a read timeout); botocore then sends the write again. The local service does the
same on demand (``commit_error_rate``, ``commit_drop_rate``, ``slow_response_rate``): turns run
to the end and the history reads back as after a run without faults, a real conflict still
raises, and upstream fails the turn."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from checkpointer_graphs import agent_turn_graph, thread
from checkpointer_support import make_client
from langchain_core.messages import BaseMessage, HumanMessage
from langgraph.checkpoint.base import empty_checkpoint
from langgraph_checkpoint_aws.checkpoint.bedrock_sessions.saver import BedrockSessionSaver

from bedrock_sessions_local.testing import configure_service
from langgraph_checkpoint_bedrock_sessions import (
    AsyncBedrockSessionCheckpointer,
    BedrockSessionCheckpointer,
)
from langgraph_checkpoint_bedrock_sessions.session_api import SessionApi

TURNS = ["red trail shoes", "size 42", "in blue"]

#: botocore's standard retries, with room for several lost answers in a row on one call
RETRIES = {"mode": "standard", "total_max_attempts": 10}

#: each fault at a rate that hits several writes of three turns; the seed fixes the sequence
FAULTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # name: (service knobs, client config)
    "commit_error": ({"commit_error_rate": 0.25}, {}),
    "commit_drop": ({"commit_drop_rate": 0.25}, {}),
    "slow_response": (
        {"slow_response_rate": 0.15, "slow_response_ms": 1500},
        {"read_timeout": 0.5},
    ),
}


class WriteConflicts:
    """Counts the ``ConflictException`` answers a client met, by operation: each one is a write
    botocore sent again after its first attempt had been stored."""

    def __init__(self, client: Any) -> None:
        self.by_operation: Counter[str] = Counter()
        client.meta.events.register("after-call.bedrock-agent-runtime", self._count)

    def _count(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if parsed.get("Error", {}).get("Code") == "ConflictException":
            self.by_operation[model.name] += 1


@pytest.fixture
def faults(session_service_url: str) -> Callable[..., None]:
    """``faults(**knobs)`` changes the service's knobs with the fault seed fixed (the plugin
    turns every knob back to its default after the test)."""
    return lambda **knobs: configure_service(session_service_url, fault_seed=7, **knobs)


def run_turns(graph: Any, session_id: str) -> None:
    for text in TURNS:
        graph.invoke({"messages": [HumanMessage(text)]}, thread(session_id), durability="sync")


def _message(message: BaseMessage) -> tuple[str, Any, list[str]]:
    # message ids are random per run; type, content and tool calls are what the turn produced
    calls = [call["name"] for call in getattr(message, "tool_calls", [])]
    return type(message).__name__, message.content, calls


def history_of(client: Any, session_id: str) -> list[tuple[Any, ...]]:
    """The thread's history read by a fresh checkpointer (nothing cached), in a form two runs
    can be compared by: checkpoint by checkpoint, its step, messages, channels and writes."""
    reader = BedrockSessionCheckpointer(client=client)
    return [
        (
            t.metadata["step"],
            t.metadata["source"],
            [_message(m) for m in t.checkpoint["channel_values"].get("messages", [])],
            sorted(t.checkpoint["channel_values"]),
            sorted(channel for _task, channel, _value in t.pending_writes),
            t.parent_config is not None,
        )
        for t in reader.list(thread(session_id))
    ]


def stored_counts(client: Any, session_id: str) -> tuple[int, int]:
    """(invocations, steps) stored in the session: a duplicated write would show here."""
    invocations = sum(
        len(page["invocationSummaries"])
        for page in client.get_paginator("list_invocations").paginate(sessionIdentifier=session_id)
    )
    steps = sum(
        len(page["invocationStepSummaries"])
        for page in client.get_paginator("list_invocation_steps").paginate(
            sessionIdentifier=session_id
        )
    )
    return invocations, steps


@pytest.fixture(scope="module")
def fault_free_run(session_client: Any) -> tuple[list[tuple[Any, ...]], tuple[int, int]]:
    """The history and stored counts of the same turns without faults."""
    session_id = session_client.create_session()["sessionId"]
    run_turns(agent_turn_graph(BedrockSessionCheckpointer(client=session_client)), session_id)
    return history_of(session_client, session_id), stored_counts(session_client, session_id)


# ------------------------------------------------------------------ turns under lost answers


@pytest.mark.parametrize("fault", list(FAULTS))
def test_turns_finish_under_lost_answers_and_match_a_fault_free_run(
    session_service_url: str,
    client: Any,
    new_thread: Callable[[], str],
    faults: Callable[..., None],
    fault_free_run: tuple[list[tuple[Any, ...]], tuple[int, int]],
    fault: str,
) -> None:
    knobs, client_config = FAULTS[fault]
    session_id = new_thread()
    faulty_client = make_client(session_service_url, retries=RETRIES, **client_config)
    conflicts = WriteConflicts(faulty_client)
    graph = agent_turn_graph(BedrockSessionCheckpointer(client=faulty_client))
    faults(**knobs)
    run_turns(graph, session_id)  # a failed turn raises here
    faults(**dict.fromkeys(knobs, 0))

    # writes did meet their own stored copy, and each was taken as the success it was
    assert conflicts.by_operation["PutInvocationStep"] >= 1, conflicts.by_operation
    expected_history, expected_counts = fault_free_run
    assert history_of(client, session_id) == expected_history
    assert stored_counts(client, session_id) == expected_counts  # nothing stored twice


async def test_async_turns_finish_under_commit_errors(
    session_service_url: str,
    client: Any,
    new_thread: Callable[[], str],
    faults: Callable[..., None],
    fault_free_run: tuple[list[tuple[Any, ...]], tuple[int, int]],
) -> None:
    session_id = new_thread()
    faulty_client = make_client(session_service_url, retries=RETRIES)
    graph = agent_turn_graph(AsyncBedrockSessionCheckpointer(client=faulty_client))
    faults(commit_error_rate=0.25)
    for text in TURNS:
        await graph.ainvoke(
            {"messages": [HumanMessage(text)]}, thread(session_id), durability="sync"
        )
    faults(commit_error_rate=0.0)
    assert history_of(client, session_id) == fault_free_run[0]


@pytest.mark.parametrize(
    ("saver_type", "fails"), [(BedrockSessionCheckpointer, False), (BedrockSessionSaver, True)]
)
def test_upstream_fails_the_turn_when_a_write_meets_its_own_retry(
    session_service_url: str,
    new_thread: Callable[[], str],
    faults: Callable[..., None],
    saver_type: type,
    fails: bool,
) -> None:
    """Upstream treats the 409 of its own retried checkpoint put as an error; ours does not."""
    session_id = new_thread()
    graph = agent_turn_graph(saver_type(client=make_client(session_service_url, retries=RETRIES)))
    faults(commit_error_rate=0.25)
    try:
        run_turns(graph, session_id)
    except ClientError as error:
        assert fails, error
        assert error.operation_name == "PutInvocationStep"
        assert error.response["Error"]["Code"] == "ConflictException"
        assert "already exists" in error.response["Error"]["Message"]
        assert error.response["ResponseMetadata"]["RetryAttempts"] >= 1  # its own retry
    else:
        assert not fails, "upstream ran three turns without meeting a retried put"


# --------------------------------------------------------------------- idempotent, not blind


def test_the_same_put_again_is_a_success_and_a_different_one_a_conflict(
    client: Any, new_thread: Callable[[], str]
) -> None:
    session_id, invocation_id = new_thread(), str(uuid.uuid4())
    api = SessionApi(client)
    assert api.ensure_invocation(session_id, invocation_id) is True
    step_id = api.put_step(session_id, invocation_id, None, ["size 42"])
    uuid.UUID(step_id)  # named by the client, so a retry carries the same id

    cold = SessionApi(client)  # nothing cached: what a retry in another process meets
    assert cold.ensure_invocation(session_id, invocation_id) is False  # exists: fine
    assert cold.put_step(session_id, invocation_id, step_id, ["size 42"]) == step_id
    with pytest.raises(ClientError) as info:
        cold.put_step(session_id, invocation_id, step_id, ["size 43"])
    assert info.value.response["Error"]["Code"] == "ConflictException"
    assert any("different payload" in note for note in info.value.__notes__)

    # the same id and payload in another invocation is not our write either
    other = str(uuid.uuid4())
    api.ensure_invocation(session_id, other)
    with pytest.raises(ClientError) as info:
        api.put_step(session_id, other, step_id, ["size 42"])
    assert info.value.response["Error"]["Code"] == "ConflictException"
    steps = client.list_invocation_steps(sessionIdentifier=session_id)["invocationStepSummaries"]
    assert [s["invocationStepId"] for s in steps] == [step_id]


def test_a_checkpoint_put_again_with_other_content_raises(
    client: Any, new_thread: Callable[[], str]
) -> None:
    saver = BedrockSessionCheckpointer(client=client)
    config = thread(new_thread())
    checkpoint = empty_checkpoint()
    stored = saver.put(config, checkpoint, {"step": 0, "source": "input"}, {})
    assert saver.put(config, checkpoint, {"step": 0, "source": "input"}, {}) == stored
    with pytest.raises(ClientError) as info:
        saver.put(config, checkpoint, {"step": 1, "source": "loop"}, {})
    assert info.value.response["Error"]["Code"] == "ConflictException"


def test_writes_to_an_ended_session_still_raise(client: Any, new_thread: Callable[[], str]) -> None:
    """A 409 for a session that takes no more writes is not mistaken for our own write."""
    session_id = new_thread()
    api = SessionApi(client)
    existing = str(uuid.uuid4())
    api.ensure_invocation(session_id, existing)
    client.end_session(sessionIdentifier=session_id)
    with pytest.raises(ClientError) as info:
        api.ensure_invocation(session_id, str(uuid.uuid4()))
    assert info.value.response["Error"]["Code"] == "ConflictException"
    with pytest.raises(ClientError) as info:
        api.put_step(session_id, existing, None, ["late"])
    assert info.value.response["Error"]["Code"] == "ConflictException"
