"""The upstream BedrockSessionSaver and AsyncBedrockSessionSaver run a real LangGraph graph
against the local service: several turns, history, an interrupt resumed with a Command, and a
second Python process that reads and continues the same session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from langchain_core.messages import HumanMessage
from langgraph.types import Command
from langgraph_checkpoint_aws import AsyncBedrockSessionSaver, BedrockSessionSaver
from pydantic import SecretStr

from sessions_local_graph import build_graph
from sessions_local_support import REGION

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTS_DIR = Path(__file__).resolve().parent


def saver_kwargs(url: str) -> dict[str, Any]:
    """Arguments that point an upstream saver at the local service, as an app would."""
    return {
        "region_name": REGION,
        "endpoint_url": url,
        "aws_access_key_id": SecretStr("x"),
        "aws_secret_access_key": SecretStr("x"),
    }


def contents(state: Any) -> list[str]:
    return [m.content for m in state.values["messages"]]


def test_saver_runs_turns_interrupt_resume_and_history(
    client: Any, session_service_url: str
) -> None:
    saver = BedrockSessionSaver(**saver_kwargs(session_service_url))
    graph = build_graph(saver)
    thread_id = client.create_session()["sessionId"]
    config = {"configurable": {"thread_id": thread_id}}

    graph.invoke({"messages": [HumanMessage("trail runners")]}, config)
    graph.invoke({"messages": [HumanMessage("size 42")]}, config)
    assert contents(graph.get_state(config)) == [
        "trail runners",
        "",
        "3 results for trail runners",
        "done: 3 results for trail runners",
        "size 42",
        "",
        "3 results for size 42",
        "done: 3 results for size 42",
    ]

    paused = graph.invoke({"messages": [HumanMessage("checkout please")]}, config)
    assert paused["__interrupt__"][0].value == {"question": "approve checkout?", "total": 99.5}
    state = graph.get_state(config)
    assert state.next == ("tools",)
    assert state.tasks[0].interrupts[0].value["total"] == 99.5

    graph.invoke(Command(resume="approved"), config)
    state = graph.get_state(config)
    assert state.next == ()
    assert contents(state)[-2:] == ["checkout approved", "done: checkout approved"]

    history = list(graph.get_state_history(config))
    steps = [snapshot.metadata["step"] for snapshot in history]
    assert steps == sorted(steps, reverse=True)  # newest first, as the saver requires
    assert len(history) >= 12
    assert history[0].values == state.values
    # an early checkpoint still holds the state of that moment
    first_turn = [s for s in history if len(s.values.get("messages", [])) == 4]
    assert first_turn and contents(first_turn[-1])[-1] == "done: 3 results for trail runners"

    # the raw data is there too: one checkpoint invocation plus writes invocations
    invocations = client.list_invocations(sessionIdentifier=thread_id, maxResults=1000)
    assert len(invocations["invocationSummaries"]) > 1


def test_second_process_reads_and_continues_the_session(
    client: Any, session_service_url: str
) -> None:
    saver = BedrockSessionSaver(**saver_kwargs(session_service_url))
    graph = build_graph(saver)
    thread_id = client.create_session()["sessionId"]
    config = {"configurable": {"thread_id": thread_id}}
    graph.invoke({"messages": [HumanMessage("red sneakers")]}, config)

    script = textwrap.dedent(
        f"""
        import json
        from langchain_core.messages import HumanMessage
        from langgraph_checkpoint_aws import BedrockSessionSaver
        from pydantic import SecretStr
        from sessions_local_graph import build_graph

        saver = BedrockSessionSaver(region_name={REGION!r}, endpoint_url={session_service_url!r},
                                    aws_access_key_id=SecretStr("x"),
                                    aws_secret_access_key=SecretStr("x"))
        graph = build_graph(saver)
        config = {{"configurable": {{"thread_id": {thread_id!r}}}}}
        seen = [m.content for m in graph.get_state(config).values["messages"]]
        graph.invoke({{"messages": [HumanMessage("blue ones")]}}, config)
        print(json.dumps(seen))
        """
    )
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(TESTS_DIR)])}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    seen_by_other_process = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen_by_other_process == contents(graph.get_state(config))[:4]
    assert contents(graph.get_state(config))[-1] == "done: 3 results for blue ones"
    assert len(contents(graph.get_state(config))) == 8


async def test_async_saver_runs_turns_interrupt_and_resume(
    client: Any, session_service_url: str
) -> None:
    saver = AsyncBedrockSessionSaver(**saver_kwargs(session_service_url))
    graph = build_graph(saver)
    thread_id = client.create_session()["sessionId"]
    config = {"configurable": {"thread_id": thread_id}}

    await graph.ainvoke({"messages": [HumanMessage("hiking boots")]}, config)
    paused = await graph.ainvoke({"messages": [HumanMessage("checkout")]}, config)
    assert paused["__interrupt__"][0].value["total"] == 99.5
    assert (await graph.aget_state(config)).next == ("tools",)
    await graph.ainvoke(Command(resume="rejected"), config)
    state = await graph.aget_state(config)
    assert contents(state) == [
        "hiking boots",
        "",
        "3 results for hiking boots",
        "done: 3 results for hiking boots",
        "checkout",
        "",
        "checkout rejected",
        "done: checkout rejected",
    ]
    history = [snapshot async for snapshot in graph.aget_state_history(config)]
    assert [s.metadata["step"] for s in history] == sorted(
        (s.metadata["step"] for s in history), reverse=True
    )
    # the sync saver reads what the async one wrote (same wire format, same service)
    sync_graph = build_graph(BedrockSessionSaver(**saver_kwargs(session_service_url)))
    assert contents(sync_graph.get_state(config)) == contents(state)


def test_saver_on_an_ended_session_reads_but_cannot_write(
    client: Any, session_service_url: str
) -> None:
    saver = BedrockSessionSaver(**saver_kwargs(session_service_url))
    graph = build_graph(saver)
    thread_id = client.create_session()["sessionId"]
    config = {"configurable": {"thread_id": thread_id}}
    graph.invoke({"messages": [HumanMessage("loafers")]}, config)
    client.end_session(sessionIdentifier=thread_id)
    assert contents(graph.get_state(config))[-1] == "done: 3 results for loafers"
    with pytest.raises(ClientError) as info:
        graph.invoke({"messages": [HumanMessage("more")]}, config)
    assert info.value.response["Error"]["Code"] == "ConflictException"
    assert len(contents(graph.get_state(config))) == 4
