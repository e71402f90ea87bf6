"""Benchmark of the local Bedrock session service against LangGraph's SqliteSaver.

Starts ``python -m bedrock_sessions_local`` on a free port (its own process, so the clients do
not share its interpreter), then in one run measures:

- PutInvocationStep, GetInvocationStep and ListInvocationSteps (maxResults 20) from several
  concurrent clients (one thread and one boto3 client each): p50/p99 latency seen by the
  client, p50/p99 service-side time (the ``x-local-service-time-us`` header) and requests/s;
- the first page of ListInvocationSteps (maxResults 20) on a session of 10 steps against one of
  10,000 steps (seeded directly through the backend before the service starts);
- the floor: LangGraph's ``SqliteSaver`` writing checkpoints of the same size in-process, on
  SQLite with the same settings (WAL, synchronous=NORMAL).

Run::

    .venv/bin/python benchmarks/bench_session_service.py            # full run
    .venv/bin/python benchmarks/bench_session_service.py --quick    # smoke run, seconds
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from tqdm import tqdm

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bedrock_sessions_local.models import SessionBackend  # noqa: E402

REGION = "us-east-1"


@dataclass
class Samples:
    """Latencies of one measured operation."""

    name: str
    clients: int
    client_ms: list[float] = field(default_factory=list)
    service_ms: list[float] = field(default_factory=list)
    wall_seconds: float = 0.0

    def add(self, client_seconds: float, response: dict[str, Any] | None) -> None:
        self.client_ms.append(client_seconds * 1000)
        if response is not None:
            header = response["ResponseMetadata"]["HTTPHeaders"]["x-local-service-time-us"]
            self.service_ms.append(int(header) / 1000)

    def rate(self) -> float:
        """Calls per second of wall time."""
        return len(self.client_ms) / self.wall_seconds if self.wall_seconds else 0.0

    def row(self) -> list[str]:
        calls = len(self.client_ms)
        rate = self.rate()
        return [
            self.name,
            str(self.clients),
            str(calls),
            f"{percentile(self.client_ms, 50):.3f}",
            f"{percentile(self.client_ms, 99):.3f}",
            f"{percentile(self.service_ms, 50):.3f}" if self.service_ms else "-",
            f"{percentile(self.service_ms, 99):.3f}" if self.service_ms else "-",
            f"{rate:,.0f}",
        ]


def percentile(values: list[float], pct: float) -> float:
    """Return the pct-th percentile (nearest rank) of values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered)) - 1))
    return ordered[rank]


def make_client(url: str) -> Any:
    return boto3.client(
        "bedrock-agent-runtime",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}, max_pool_connections=4),
    )


def start_service(db: Path) -> tuple[subprocess.Popen[str], str]:
    """Start the service process on a free port; return it and its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bedrock_sessions_local", "--port", "0", "--db", str(db)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline().strip() if process.stdout else ""
    if not line.startswith("listening on "):
        process.kill()
        raise SystemExit(f"the service did not start: {line!r}")
    return process, line.removeprefix("listening on ")


def payload_of(size: int) -> dict[str, Any]:
    return {"contentBlocks": [{"text": "x" * size}]}


def seed_session(backend: SessionBackend, steps: int, size: int, bar: tqdm) -> tuple[str, str]:
    """Create a session with one invocation holding ``steps`` steps, through the backend."""
    sid = backend.create_session()["sessionId"]
    invocation = backend.create_invocation(sid)["invocationId"]
    for _ in range(steps):
        backend.put_invocation_step(
            sid,
            invocation_identifier=invocation,
            invocation_step_time=datetime.now(UTC),
            payload=payload_of(size),
        )
        bar.update()
    return sid, invocation


def run_concurrent(
    name: str,
    clients: list[Any],
    calls_per_client: int,
    call: Callable[[Any, int, int], dict[str, Any]],
    bar: tqdm,
) -> Samples:
    """Run ``call(client, worker, n)`` calls_per_client times on every client at once."""
    samples = Samples(name, len(clients))
    lock = threading.Lock()
    start = threading.Barrier(len(clients) + 1)

    def worker(index: int) -> None:
        client = clients[index]
        local: list[tuple[float, dict[str, Any]]] = []
        start.wait()
        for n in range(calls_per_client):
            began = time.perf_counter()
            response = call(client, index, n)
            local.append((time.perf_counter() - began, response))
            bar.update()
        with lock:
            for seconds, response in local:
                samples.add(seconds, response)

    with ThreadPoolExecutor(len(clients)) as pool:
        futures = [pool.submit(worker, i) for i in range(len(clients))]
        start.wait()
        began = time.perf_counter()
        for future in futures:
            future.result()
        samples.wall_seconds = time.perf_counter() - began
    return samples


def bench_sqlite_saver(path: Path, writes: int, size: int, bar: tqdm) -> Samples:
    """Time LangGraph's SqliteSaver.put of checkpoints of ``size`` bytes, in-process."""
    from langgraph.checkpoint.base import empty_checkpoint
    from langgraph.checkpoint.sqlite import SqliteSaver

    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    saver = SqliteSaver(conn)
    saver.setup()
    config: dict[str, Any] = {"configurable": {"thread_id": "bench", "checkpoint_ns": ""}}
    samples = Samples("SqliteSaver.put (in-process floor)", 1)
    began_all = time.perf_counter()
    for step in range(writes):
        checkpoint = empty_checkpoint()
        checkpoint["channel_values"] = {"messages": "x" * size}
        checkpoint["channel_versions"] = {"messages": step + 1}
        began = time.perf_counter()
        config = saver.put(
            config, checkpoint, {"step": step, "source": "loop"}, {"messages": step + 1}
        )
        samples.add(time.perf_counter() - began, None)
        bar.update()
    samples.wall_seconds = time.perf_counter() - began_all
    conn.close()
    return samples


def table(rows: list[list[str]]) -> str:
    header = [
        "operation",
        "clients",
        "calls",
        "client p50 ms",
        "client p99 ms",
        "service p50 ms",
        "service p99 ms",
        "req/s",
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """Return the benchmark's argument parser."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (threads)")
    parser.add_argument("--calls", type=int, default=500, help="calls per client per operation")
    parser.add_argument("--big-session-steps", type=int, default=10_000)
    parser.add_argument("--first-page-calls", type=int, default=300)
    parser.add_argument("--payload-bytes", type=int, default=1024, help="text size of a step")
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the results table; return the exit code."""
    args = build_parser().parse_args(argv)
    if args.quick:
        args.clients, args.calls = 2, 40
        args.big_session_steps, args.first_page_calls = 1_000, 40
    workdir = Path(tempfile.mkdtemp(prefix="bench-sessions-"))
    db = workdir / "sessions.db"

    total = (
        args.big_session_steps
        + 10
        + 3 * args.clients * args.calls
        + 2 * args.first_page_calls
        + args.clients * args.calls
    )
    bar = tqdm(total=total, desc="benchmark", unit="op")
    backend = SessionBackend(str(db))
    small = seed_session(backend, 10, args.payload_bytes, bar)
    big = seed_session(backend, args.big_session_steps, args.payload_bytes, bar)
    backend.close()

    process, url = start_service(db)
    try:
        clients = [make_client(url) for _ in range(args.clients)]
        sessions = []
        for client in clients:
            sid = client.create_session()["sessionId"]
            sessions.append((sid, client.create_invocation(sessionIdentifier=sid)["invocationId"]))
        written: list[list[str]] = [[] for _ in clients]
        payload = payload_of(args.payload_bytes)

        def put(client: Any, worker: int, _n: int) -> dict[str, Any]:
            sid, invocation = sessions[worker]
            response = client.put_invocation_step(
                sessionIdentifier=sid,
                invocationIdentifier=invocation,
                invocationStepTime=datetime.now(UTC),
                payload=payload,
            )
            written[worker].append(response["invocationStepId"])
            return response

        def get(client: Any, worker: int, _n: int) -> dict[str, Any]:
            sid, invocation = sessions[worker]
            return client.get_invocation_step(
                sessionIdentifier=sid,
                invocationIdentifier=invocation,
                invocationStepId=random.choice(written[worker]),
            )

        def list_page(client: Any, worker: int, _n: int) -> dict[str, Any]:
            return client.list_invocation_steps(
                sessionIdentifier=sessions[worker][0], maxResults=20
            )

        results = [
            run_concurrent("PutInvocationStep", clients, args.calls, put, bar),
            run_concurrent("GetInvocationStep", clients, args.calls, get, bar),
            run_concurrent("ListInvocationSteps (20)", clients, args.calls, list_page, bar),
        ]

        def first_page(session: tuple[str, str]) -> Callable[[Any, int, int], dict[str, Any]]:
            return lambda client, _w, _n: client.list_invocation_steps(
                sessionIdentifier=session[0], maxResults=20
            )

        small_page = run_concurrent(
            "first page, 10-step session",
            clients[:1],
            args.first_page_calls,
            first_page(small),
            bar,
        )
        big_page = run_concurrent(
            f"first page, {args.big_session_steps:,}-step session",
            clients[:1],
            args.first_page_calls,
            first_page(big),
            bar,
        )
        results += [small_page, big_page]
    finally:
        process.terminate()
        process.wait(timeout=30)

    floor = bench_sqlite_saver(
        workdir / "sqlite-saver.db", args.clients * args.calls, args.payload_bytes, bar
    )
    bar.close()
    results.append(floor)

    put_samples = results[0]
    print()
    print(
        f"date {datetime.now(UTC):%Y-%m-%d}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, payload {args.payload_bytes} B, {args.clients} clients"
        f"{' (quick)' if args.quick else ''}, load average {os.getloadavg()[0]:.1f}"
    )
    print(table([r.row() for r in results]))
    print()
    print("service capacity (1 / mean service time, one event loop):")
    for samples in results[:3]:
        mean_ms = statistics.fmean(samples.service_ms)
        print(f"  {samples.name}: {1000 / mean_ms:,.0f} req/s")
    floor_p50 = percentile(floor.client_ms, 50)
    print("ratios")
    print(
        "  PutInvocationStep client p50 / SqliteSaver.put p50: "
        f"{percentile(put_samples.client_ms, 50) / floor_p50:.1f}x"
    )
    print(
        "  PutInvocationStep service p50 / SqliteSaver.put p50: "
        f"{percentile(put_samples.service_ms, 50) / floor_p50:.1f}x"
    )
    print(
        "  SqliteSaver.put writes/s / PutInvocationStep req/s: "
        f"{floor.rate() / put_samples.rate():.1f}x"
    )
    print(
        f"  first page service p50, {args.big_session_steps:,} vs 10 steps: "
        f"{percentile(big_page.service_ms, 50) / percentile(small_page.service_ms, 50):.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
