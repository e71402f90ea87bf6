"""Wire compatibility: what upstream writes, ours reads, and the other way round."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph_checkpoint_aws.checkpoint.bedrock_sessions.saver import BedrockSessionSaver
from langgraph_checkpoint_aws.checkpoint.bedrock_sessions.utils import (
    generate_checkpoint_id,
    generate_write_id,
)

from langgraph_checkpoint_bedrock_sessions import BedrockSessionCheckpointer


class FanState(TypedDict):
    results: Annotated[list[str], operator.add]


def two_step_fan_graph(saver: Any) -> Any:
    """start -> (a, b) -> join: two tasks write to one checkpoint."""
    graph = StateGraph(FanState)
    graph.add_node("a", lambda s: {"results": ["a"]})
    graph.add_node("b", lambda s: {"results": ["b"]})
    graph.add_node("join", lambda s: {"results": ["join"]})
    for name in ("a", "b"):
        graph.add_edge(START, name)
        graph.add_edge(name, "join")
    graph.add_edge("join", END)
    return graph.compile(checkpointer=saver)


def thread(session_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": session_id}}


def _summary(tuples: list[Any]) -> list[tuple[str, Any, list[tuple[str, str]]]]:
    return [
        (
            t.config["configurable"]["checkpoint_id"],
            t.checkpoint["channel_values"],
            sorted((w[0], w[1]) for w in t.pending_writes),
        )
        for t in tuples
    ]


def test_ours_reads_upstream_data(client: Any, new_thread: Callable[[], str]) -> None:
    """A thread written by upstream reads the same through ours (plus sibling writes)."""
    session_id = new_thread()
    upstream = BedrockSessionSaver(client=client)
    two_step_fan_graph(upstream).invoke({"results": []}, thread(session_id))

    ours = BedrockSessionCheckpointer(client=client)
    ours_history = list(ours.list(thread(session_id)))
    upstream_history = list(upstream.list(thread(session_id)))
    assert [t.config for t in ours_history] == [t.config for t in upstream_history]
    assert [t.checkpoint["channel_values"] for t in ours_history] == [
        t.checkpoint["channel_values"] for t in upstream_history
    ]
    assert [t.metadata for t in ours_history] == [t.metadata for t in upstream_history]
    # upstream wrote a and b as two one-task steps: ours merges both, upstream sees the last
    fan_checkpoint = next(t for t in ours_history if t.metadata["step"] == 0)
    fan_upstream = next(t for t in upstream_history if t.metadata["step"] == 0)
    assert {w[1] for w in fan_checkpoint.pending_writes} >= {"results"}
    assert len(fan_checkpoint.pending_writes) > len(fan_upstream.pending_writes)
    # and ours can continue a thread upstream started
    latest = ours.get_tuple(thread(session_id))
    assert latest.checkpoint["channel_values"]["results"] == ["a", "b", "join"]


def test_upstream_reads_our_data(client: Any, new_thread: Callable[[], str]) -> None:
    """A thread written by ours (slim envelopes, cumulative writes) reads fully in upstream."""
    session_id = new_thread()
    ours = BedrockSessionCheckpointer(client=client)
    two_step_fan_graph(ours).invoke({"results": []}, thread(session_id))

    upstream = BedrockSessionSaver(client=client)
    reader = BedrockSessionCheckpointer(client=client)  # fresh: nothing cached
    ours_history = list(reader.list(thread(session_id)))
    upstream_history = list(upstream.list(thread(session_id)))
    assert _summary(upstream_history) == _summary(ours_history)
    # upstream reads the parent we now store
    assert [t.parent_config for t in upstream_history] == [t.parent_config for t in ours_history]
    assert upstream_history[0].parent_config is not None
    # cumulative step: upstream's newest-only reader sees both sibling tasks
    fan = next(t for t in upstream_history if t.metadata["step"] == 0)
    assert len({w[0] for w in fan.pending_writes}) == 2
    # upstream can continue a thread ours started
    out = two_step_fan_graph(upstream).invoke({"results": []}, thread(session_id))
    assert out["results"].count("join") == 2


def test_envelopes_on_the_wire_keep_the_upstream_shape(
    client: Any, new_thread: Callable[[], str]
) -> None:
    """Same invocation ids, same JSON fields; the only additions are values upstream allows."""
    session_id = new_thread()
    ours = BedrockSessionCheckpointer(client=client)
    two_step_fan_graph(ours).invoke({"results": []}, thread(session_id))
    checkpoint_invocation = generate_checkpoint_id("")
    steps = client.list_invocation_steps(
        sessionIdentifier=session_id, invocationIdentifier=checkpoint_invocation
    )["invocationStepSummaries"]
    latest = steps[0]["invocationStepId"]
    body = client.get_invocation_step(
        sessionIdentifier=session_id,
        invocationIdentifier=checkpoint_invocation,
        invocationStepId=latest,
    )["invocationStep"]["payload"]["contentBlocks"]
    envelope = json.loads(body[0]["text"])
    assert set(envelope) == {
        "step_type",
        "thread_id",
        "checkpoint_ns",
        "checkpoint_id",
        "checkpoint",
        "metadata",
        "parent_checkpoint_id",
        "channel_values",
        "version",
    }
    assert envelope["step_type"] == "CHECKPOINTS"
    assert envelope["checkpoint_id"] == latest
    assert envelope["parent_checkpoint_id"] == steps[1]["invocationStepId"]
    invocations = {
        i["invocationId"]
        for i in client.list_invocations(sessionIdentifier=session_id)["invocationSummaries"]
    }
    writes_invocations = {generate_write_id("", s["invocationStepId"]) for s in steps}
    assert invocations <= {checkpoint_invocation} | writes_invocations
