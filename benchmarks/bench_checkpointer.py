"""Benchmark: upstream ``BedrockSessionSaver`` vs ``BedrockSessionCheckpointer``, same run.

Against the local Bedrock session service (started here as a subprocess on a free port, so it
does not share the GIL with the client), with 0 ms and 50 ms of injected latency per call:

- API calls and wall time of a typical agent -> tools -> agent chat turn (steady state);
- ``get_state`` of the latest checkpoint;
- the first history page (20 checkpoints) and the full history, for sessions of 10, 100 and
  500 checkpoints.

"cold" means a new checkpointer and client (nothing cached: another process, a restart);
"warm" means the checkpointer that wrote the session (what this process holds).

Usage::

    .venv/bin/python benchmarks/bench_checkpointer.py            # full run, a few minutes
    .venv/bin/python benchmarks/bench_checkpointer.py --quick    # smaller sizes, fewer turns
    .venv/bin/python benchmarks/bench_checkpointer.py --json results.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any, TypedDict

import boto3
from botocore.config import Config
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.tools import tool
from langgraph.graph import START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import ToolNode, tools_condition
from langgraph_checkpoint_aws.checkpoint.bedrock_sessions.saver import BedrockSessionSaver
from tqdm import tqdm

from bedrock_sessions_local.testing import configure_service
from langgraph_checkpoint_bedrock_sessions import ApiCallCounter, BedrockSessionCheckpointer

#: the repository root, where the service subprocess runs
PROJECT_ROOT = Path(__file__).resolve().parent.parent

CHECKPOINTS_PER_TURN = 5  # input, agent, tools, agent, plus the turn's first loop checkpoint


# ---------------------------------------------------------------- the service


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def local_service(db: str) -> Iterator[str]:
    """Run ``python -m bedrock_sessions_local`` on a free port; yield its URL."""
    port = _free_port()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "bedrock_sessions_local", "--host", "127.0.0.1"),
            *("--port", str(port), "--db", db, "--log-level", "warning"),
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError(f"local service did not start: {line}{process.stdout.read()}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def make_client(url: str) -> Any:
    """A boto3 client sized for concurrent reads."""
    return boto3.client(
        "bedrock-agent-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(max_pool_connections=32, retries={"mode": "standard"}),
    )


# ---------------------------------------------------------------- the graph


class ChatState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


@tool
def search_shoes(query: str) -> str:
    """Search the shoe catalog."""
    return f"3 shoes match {query!r}"


def agent(state: ChatState) -> dict[str, list[AIMessage]]:
    """A scripted agent: asks the tool for a shopper message, then answers."""
    last = state["messages"][-1]
    if isinstance(last, HumanMessage):
        call_id = f"call-{time.time_ns()}"
        call = {"name": "search_shoes", "args": {"query": last.content}, "id": call_id}
        return {"messages": [AIMessage("", tool_calls=[call])]}
    return {"messages": [AIMessage(f"Here is what I found: {last.content}")]}


def turn_graph(saver: Any) -> Any:
    """agent -> tools -> agent: 1 get_tuple, 5 puts and 4 put_writes per turn."""
    graph = StateGraph(ChatState)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode([search_shoes]))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    return graph.compile(checkpointer=saver)


# ---------------------------------------------------------------- measurements


@dataclass
class Row:
    """One measurement."""

    scenario: str
    latency_ms: int
    saver: str
    calls: float
    wall_ms: float
    note: str = ""


SAVERS: dict[str, Callable[[Any], Any]] = {
    "upstream": lambda client: BedrockSessionSaver(client=client),
    "ours": lambda client: BedrockSessionCheckpointer(client=client),
}


def thread(session_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": session_id}}


def measure(client: Any, action: Callable[[], Any]) -> tuple[int, float]:
    """Calls and wall milliseconds of one action."""
    counter = ApiCallCounter.attach(client)
    start = time.perf_counter()
    action()
    elapsed = (time.perf_counter() - start) * 1000
    counter.detach()
    return counter.total, elapsed


def bench_turns(url: str, latency: int, turns: int) -> list[Row]:
    """Steady-state chat turns (one warm-up turn first) per saver and durability mode."""
    rows = []
    variants = [
        ("upstream", "sync", {}),
        ("ours", "sync", {}),
        ("ours + eager writes invocation", "sync", {"eager_writes_invocation": True}),
        ("upstream", "async", {}),
        ("ours", "async", {}),
        ("upstream", "exit", {}),
        ("ours", "exit", {}),
    ]
    for name, durability, options in variants:
        client = make_client(url)
        if name == "upstream":
            saver = BedrockSessionSaver(client=client)
        else:
            saver = BedrockSessionCheckpointer(client=client, **options)
        graph = turn_graph(saver)
        config = thread(client.create_session()["sessionId"])
        graph.invoke({"messages": [HumanMessage("warm up")]}, config, durability=durability)
        calls, walls = [], []
        for n in range(turns):
            message = {"messages": [HumanMessage(f"red trail shoes size {40 + n}")]}
            c, w = measure(
                client,
                lambda g=graph, m=message, c=config, d=durability: g.invoke(m, c, durability=d),
            )
            calls.append(c)
            walls.append(w)
        rows.append(
            Row(
                f"chat turn (durability={durability})",
                latency,
                name,
                statistics.mean(calls),
                statistics.median(walls),
            )
        )
    return rows


def build_session(url: str, checkpoints: int) -> tuple[str, Any]:
    """A session of about ``checkpoints`` checkpoints written by ours; return it and its saver."""
    client = make_client(url)
    saver = BedrockSessionCheckpointer(client=client, step_cache_size=8192)
    graph = turn_graph(saver)
    session_id = client.create_session()["sessionId"]
    for n in range(max(1, checkpoints // CHECKPOINTS_PER_TURN)):
        graph.invoke({"messages": [HumanMessage(f"turn {n}")]}, thread(session_id))
    return session_id, saver


def bench_reads(
    url: str, latency: int, session_id: str, size: int, writer: Any, upstream_cap: int
) -> list[Row]:
    """get_state latest, first history page of 20 and full history, per reader."""
    rows = []
    config = thread(session_id)
    readers: dict[str, Callable[[], Any]] = {
        "upstream": lambda: BedrockSessionSaver(client=make_client(url)),
        # a new instance for every scenario: nothing cached, like another process
        "ours (cold)": lambda: BedrockSessionCheckpointer(client=make_client(url)),
        # the instance that wrote the session: what this process already holds
        "ours (warm)": lambda: writer,
    }
    scenarios: dict[str, Callable[[Any], Any]] = {
        "get_state latest": lambda g: g.get_state(config),
        "history page 20": lambda g: list(g.get_state_history(config, limit=20)),
        "history full": lambda g: list(g.get_state_history(config)),
    }
    for name, make_saver in readers.items():
        for scenario, action in scenarios.items():
            saver = make_saver()
            graph = turn_graph(saver)
            client = saver.session_client.client
            if name == "upstream" and scenario == "history full" and size > upstream_cap:
                # upstream's history costs the same per checkpoint however long it is, so a
                # capped read scales linearly; measuring all of it would take minutes
                calls, wall = measure(
                    client, lambda g=graph: list(g.get_state_history(config, limit=upstream_cap))
                )
                factor = size / upstream_cap
                rows.append(
                    Row(
                        f"{scenario} ({size})",
                        latency,
                        name,
                        calls * factor,
                        wall * factor,
                        f"extrapolated from {upstream_cap}",
                    )
                )
                continue
            calls, wall = measure(client, lambda g=graph, a=action: a(g))
            walls = [wall]
            # short reads are noisy: median of 3, each on a new instance when cold
            for _ in range(2 if scenario != "history full" else 0):
                saver = make_saver()
                graph = turn_graph(saver)
                client = saver.session_client.client
                walls.append(measure(client, lambda g=graph, a=action: a(g))[1])
            rows.append(Row(f"{scenario} ({size})", latency, name, calls, statistics.median(walls)))
    return rows


# ---------------------------------------------------------------- report


def table(rows: list[Row]) -> str:
    """Markdown table with ratios to upstream of the same scenario and latency."""
    baseline = {(r.scenario, r.latency_ms): r for r in rows if r.saver == "upstream"}
    lines = [
        "| scenario | latency | saver | API calls | wall ms | calls vs upstream "
        "| time vs upstream | note |",
        "|---|---:|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        base = baseline.get((r.scenario, r.latency_ms))
        call_ratio = f"{r.calls / base.calls:.2f}" if base and base.calls else "-"
        time_ratio = f"{r.wall_ms / base.wall_ms:.2f}" if base and base.wall_ms else "-"
        lines.append(
            f"| {r.scenario} | {r.latency_ms} ms | {r.saver} | {r.calls:.0f} | {r.wall_ms:.0f} "
            f"| {call_ratio} | {time_ratio} | {r.note} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="sizes 10 and 100, 2 turns")
    parser.add_argument("--turns", type=int, default=None, help="measured turns per variant")
    parser.add_argument("--latencies", type=int, nargs="+", default=[0, 50])
    parser.add_argument(
        "--upstream-cap",
        type=int,
        default=None,
        help="largest full history read by upstream; longer ones are extrapolated",
    )
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    sizes = [10, 100] if args.quick else [10, 100, 500]
    turns = args.turns or (2 if args.quick else 5)
    upstream_cap = args.upstream_cap or (100 if args.quick else 200)

    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp, local_service(os.path.join(tmp, "s.db")) as url:
        configure_service(url, latency_ms=0)
        sessions = {}
        for size in tqdm(sizes, desc="building sessions"):
            sessions[size] = build_session(url, size)
        steps = [(lat, None) for lat in args.latencies] + [
            (lat, size) for lat in args.latencies for size in sizes
        ]
        for latency, size in tqdm(steps, desc="measuring"):
            configure_service(url, latency_ms=latency)
            if size is None:
                rows.extend(bench_turns(url, latency, turns))
            else:
                session_id, writer = sessions[size]
                rows.extend(bench_reads(url, latency, session_id, size, writer, upstream_cap))
        configure_service(url, latency_ms=0)

    rows.sort(key=lambda r: (r.latency_ms, r.scenario))
    print(
        f"\n{time.strftime('%Y-%m-%d')} · Python {platform.python_version()} · "
        f"{os.cpu_count()} cores · {platform.machine()}\n"
    )
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
