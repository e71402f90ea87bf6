"""Benchmark of the local Bedrock session service against LangGraph's SqliteSaver.

Starts ``python -m bedrock_sessions_local`` on a free port (its own process, so the clients do
not share its interpreter), then in one run measures:

- PutInvocationStep, GetInvocationStep and ListInvocationSteps (maxResults 20) from several
  concurrent client PROCESSES (``multiprocessing``, spawn), twice:

  * ``boto3``: each process has its own boto3 client, as an application would. This is the
    latency an app sees; on a 2-core machine the clients' own CPU (boto3 spends 1-2 ms per
    call building, signing and parsing) limits the rate, not the server.
  * ``lean``: each process sends the same wire requests botocore sends (method, path, headers
    including the SigV4 ``Authorization``, and body, captured once from botocore's
    ``before-send`` event) over one keep-alive ``http.client`` connection, and checks the
    status. Get varies the step id in the path, so the signature no longer matches; the
    service does not verify signatures. This measures what the server sustains;

  for each: p50/p99 latency seen by the client, p50/p99 service-side time (the
  ``x-local-service-time-us`` header) and requests/s over the wall time of the phase;
- the first page of ListInvocationSteps (maxResults 20) on a session of 10 steps against one of
  10,000 steps (seeded directly through the backend before the service starts), from one boto3
  client;
- the floor: LangGraph's ``SqliteSaver`` writing checkpoints of the same size in-process, on
  SQLite with the same settings (WAL, synchronous=NORMAL);
- the encrypted store (the default) beside the plain one (``--no-encryption``): Put, Get and the
  first page of ListInvocationSteps on both, call by call, with the ratio encrypted / plain
  (``bench_encryption.py``).

The service of the tables above runs as it does by default: encrypted.

Run::

    .venv/bin/python benchmarks/bench_session_service.py            # full run
    .venv/bin/python benchmarks/bench_session_service.py --quick    # smoke run, seconds
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import orjson
from botocore.config import Config
from tqdm import tqdm

from bedrock_sessions_local.models import SessionBackend

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the comparison beside this script
import bench_encryption

REPO_ROOT = Path(__file__).resolve().parents[1]

REGION = "us-east-1"


@dataclass
class Samples:
    """Latencies of one measured operation."""

    name: str
    clients: int
    client_ms: list[float] = field(default_factory=list)
    service_ms: list[float] = field(default_factory=list)
    wall_seconds: float = 0.0
    #: how the clients ran, e.g. "4 proc (lean)"; the client count when empty
    client_label: str = ""

    def add(self, client_seconds: float, response: dict[str, Any] | None) -> None:
        self.client_ms.append(client_seconds * 1000)
        if response is not None:
            header = response["ResponseMetadata"]["HTTPHeaders"]["x-local-service-time-us"]
            self.service_ms.append(int(header) / 1000)

    def add_raw(self, client_seconds: float, service_us: int | None) -> None:
        """Record one call measured by a lean client (service time read from the header)."""
        self.client_ms.append(client_seconds * 1000)
        if service_us is not None:
            self.service_ms.append(service_us / 1000)

    def rate(self) -> float:
        """Calls per second of wall time."""
        return len(self.client_ms) / self.wall_seconds if self.wall_seconds else 0.0

    def row(self) -> list[str]:
        calls = len(self.client_ms)
        rate = self.rate()
        return [
            self.name,
            self.client_label or str(self.clients),
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


PHASES = ("PutInvocationStep", "GetInvocationStep", "ListInvocationSteps (20)")


@dataclass
class WireRequest:
    """One HTTP request exactly as botocore put it on the wire."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class _Captured(Exception):
    """Raised from botocore's before-send hook to stop after capturing the request."""


def capture_wire_request(client: Any, operation: str, **params: Any) -> WireRequest:
    """Return the request botocore would send for ``client.<operation>(**params)``.

    The ``before-send`` event receives the prepared (serialised and signed) request; raising
    there stops botocore before any byte is sent.
    """
    captured: list[WireRequest] = []

    def grab(request: Any, **_kwargs: Any) -> None:
        url = urlsplit(request.url)
        path = url.path + (f"?{url.query}" if url.query else "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        captured.append(WireRequest(request.method, path, dict(request.headers), bytes(body)))
        raise _Captured

    client.meta.events.register("before-send", grab)
    try:
        getattr(client, operation)(**params)
    except _Captured:
        pass
    finally:
        client.meta.events.unregister("before-send", grab)
    return captured[0]


def client_process(
    url: str,
    mode: str,
    session: tuple[str, str],
    calls: int,
    payload_bytes: int,
    barrier: Any,
    results: Any,
    index: int,
) -> None:
    """One client process: run every phase ``calls`` times after the shared barrier.

    Puts the list ``[(phase, started, ended, [(client_seconds, service_us), ...]), ...]`` on
    ``results`` (monotonic clock, comparable between processes on one machine).
    """
    random.seed(index)
    sid, invocation = session
    client = make_client(url)
    payload = payload_of(payload_bytes)
    written: list[str] = []
    report: list[tuple[str, float, float, list[tuple[float, int]]]] = []
    connection: http.client.HTTPConnection | None = None
    if mode == "lean":
        split = urlsplit(url)
        connection = http.client.HTTPConnection(split.hostname, split.port)
        put_wire = capture_wire_request(
            client,
            "put_invocation_step",
            sessionIdentifier=sid,
            invocationIdentifier=invocation,
            invocationStepTime=datetime.now(UTC),
            payload=payload,
        )
        get_wire = capture_wire_request(
            client,
            "get_invocation_step",
            sessionIdentifier=sid,
            invocationIdentifier=invocation,
            invocationStepId="00000000-0000-0000-0000-000000000000",
        )
        list_wire = capture_wire_request(
            client, "list_invocation_steps", sessionIdentifier=sid, maxResults=20
        )

    def send(wire: WireRequest, path: str | None = None) -> tuple[int, bytes, int]:
        assert connection is not None
        connection.request(wire.method, path or wire.path, body=wire.body, headers=wire.headers)
        response = connection.getresponse()
        body = response.read()
        if response.status not in (200, 201):
            raise RuntimeError(f"{wire.method} {path or wire.path}: {response.status} {body!r}")
        return response.status, body, int(response.getheader("x-local-service-time-us"))

    def service_us(response: dict[str, Any]) -> int:
        return int(response["ResponseMetadata"]["HTTPHeaders"]["x-local-service-time-us"])

    for phase in PHASES:
        samples: list[tuple[float, int]] = []
        barrier.wait()
        started = time.monotonic()
        for _ in range(calls):
            began = time.perf_counter()
            if mode == "lean":
                if phase == "PutInvocationStep":
                    _status, body, spent = send(put_wire)
                    written.append(orjson.loads(body)["invocationStepId"])
                elif phase == "GetInvocationStep":
                    path = get_wire.path.rsplit("/", 1)[0] + "/" + random.choice(written)
                    _status, _body, spent = send(get_wire, path)
                else:
                    _status, _body, spent = send(list_wire)
            elif phase == "PutInvocationStep":
                response = client.put_invocation_step(
                    sessionIdentifier=sid,
                    invocationIdentifier=invocation,
                    invocationStepTime=datetime.now(UTC),
                    payload=payload,
                )
                written.append(response["invocationStepId"])
                spent = service_us(response)
            elif phase == "GetInvocationStep":
                spent = service_us(
                    client.get_invocation_step(
                        sessionIdentifier=sid,
                        invocationIdentifier=invocation,
                        invocationStepId=random.choice(written),
                    )
                )
            else:
                spent = service_us(
                    client.list_invocation_steps(sessionIdentifier=sid, maxResults=20)
                )
            samples.append((time.perf_counter() - began, spent))
        report.append((phase, started, time.monotonic(), samples))
    if connection is not None:
        connection.close()
    results.put((index, report))


def run_client_processes(
    url: str,
    mode: str,
    sessions: list[tuple[str, str]],
    calls: int,
    payload_bytes: int,
    bar: tqdm,
) -> list[Samples]:
    """Run the three phases from one client process per session; return a Samples per phase.

    A barrier starts every phase in all processes at once; requests/s is all calls of the
    phase over the time from the first start to the last finish.
    """
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(sessions))
    results = context.Queue()
    processes = [
        context.Process(
            target=client_process,
            args=(url, mode, session, calls, payload_bytes, barrier, results, index),
            daemon=True,
        )
        for index, session in enumerate(sessions)
    ]
    for process in processes:
        process.start()
    reports = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    label = f"{len(sessions)} proc ({mode})"
    merged: list[Samples] = []
    for position, phase in enumerate(PHASES):
        samples = Samples(phase, len(sessions))
        samples.client_label = label
        starts, ends = [], []
        for _index, report in reports:
            name, started, ended, calls_made = report[position]
            assert name == phase
            starts.append(started)
            ends.append(ended)
            for seconds, spent in calls_made:
                samples.add_raw(seconds, spent)
        samples.wall_seconds = max(ends) - min(starts)
        bar.update(len(samples.client_ms))
        merged.append(samples)
    return merged


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
    parser.add_argument(
        "--clients", type=int, default=4, help="concurrent client processes per mode"
    )
    parser.add_argument("--calls", type=int, default=500, help="calls per client per operation")
    parser.add_argument("--big-session-steps", type=int, default=10_000)
    parser.add_argument("--first-page-calls", type=int, default=300)
    parser.add_argument("--payload-bytes", type=int, default=1024, help="text size of a step")
    parser.add_argument(
        "--encryption-calls",
        type=int,
        default=2000,
        help="calls per operation and store of the encrypted vs plain comparison",
    )
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the results table; return the exit code."""
    args = build_parser().parse_args(argv)
    if args.quick:
        args.clients, args.calls = 2, 40
        args.big_session_steps, args.first_page_calls = 1_000, 40
        args.encryption_calls = 200
    workdir = Path(tempfile.mkdtemp(prefix="bench-sessions-"))
    db = workdir / "sessions.db"

    total = (
        args.big_session_steps
        + 10
        + 2 * 3 * args.clients * args.calls
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
        client = make_client(url)
        results: list[Samples] = []
        for mode in ("boto3", "lean"):
            sessions = []
            for _ in range(args.clients):
                sid = client.create_session()["sessionId"]
                invocation = client.create_invocation(sessionIdentifier=sid)["invocationId"]
                sessions.append((sid, invocation))
            results += run_client_processes(
                url, mode, sessions, args.calls, args.payload_bytes, bar
            )

        # Alternate the two sessions call by call, so load from other processes on a shared
        # machine falls on both alike and the ratio compares the sessions, not the moments.
        small_page = Samples("first page, 10-step session", 1)
        big_page = Samples(f"first page, {args.big_session_steps:,}-step session", 1)
        for _ in range(args.first_page_calls):
            for samples, session in ((small_page, small), (big_page, big)):
                began = time.perf_counter()
                response = client.list_invocation_steps(sessionIdentifier=session[0], maxResults=20)
                seconds = time.perf_counter() - began
                samples.add(seconds, response)
                samples.wall_seconds += seconds
                bar.update()
        results += [small_page, big_page]
    finally:
        process.terminate()
        process.wait(timeout=30)

    floor = bench_sqlite_saver(
        workdir / "sqlite-saver.db", args.clients * args.calls, args.payload_bytes, bar
    )
    bar.close()
    shutil.rmtree(workdir, ignore_errors=True)
    results.append(floor)

    boto3_put, lean_put = results[0], results[3]
    print()
    print(
        f"date {datetime.now(UTC):%Y-%m-%d}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, payload {args.payload_bytes} B, {args.clients} client "
        f"processes{' (quick)' if args.quick else ''}, "
        f"load average {' '.join(f'{load:.1f}' for load in os.getloadavg())} (at the end)"
    )
    print(table([r.row() for r in results]))
    print()
    print("service capacity (1 / mean service time, one event loop), lean clients:")
    for samples in results[3:6]:
        mean_ms = statistics.fmean(samples.service_ms)
        print(f"  {samples.name}: {1000 / mean_ms:,.0f} req/s")
    floor_p50 = percentile(floor.client_ms, 50)
    print("ratios")
    print(
        "  PutInvocationStep client p50 (boto3) / SqliteSaver.put p50: "
        f"{percentile(boto3_put.client_ms, 50) / floor_p50:.1f}x"
    )
    print(
        "  PutInvocationStep service p50 / SqliteSaver.put p50: "
        f"{percentile(lean_put.service_ms, 50) / floor_p50:.1f}x"
    )
    print(
        "  SqliteSaver.put writes/s / PutInvocationStep req/s (boto3, lean): "
        f"{floor.rate() / boto3_put.rate():.1f}x, {floor.rate() / lean_put.rate():.1f}x"
    )
    print(
        f"  first page service p50, {args.big_session_steps:,} vs 10 steps: "
        f"{percentile(big_page.service_ms, 50) / percentile(small_page.service_ms, 50):.2f}x"
    )
    print()
    print(
        bench_encryption.report(
            calls=args.encryption_calls,
            steps=args.big_session_steps,
            payload_bytes=args.payload_bytes,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
