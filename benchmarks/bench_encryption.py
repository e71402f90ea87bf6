"""The local session service, encrypted (the default) beside plain (``--no-encryption``).

Two service processes run side by side, one per store, each on a SQLite file seeded through
the backend with a session of ``--steps`` steps (1 KiB text payloads). One client sends the same
request to both, alternately, call by call, over one keep-alive connection per service, so load
from the rest of a shared machine falls on both alike; it measures the service-side time of
each call (the ``x-local-service-time-us`` header) for:

- PutInvocationStep (the payload sealed under the session's data key),
- GetInvocationStep of a random step (opened),
- the first page of ListInvocationSteps (maxResults 20; an index read, nothing decrypted),

and prints the p50, p90 and mean of each store and the ratio encrypted / plain (goal: at most
1.3x). ``bench_session_service.py`` runs it after its own tables; alone::

    .venv/bin/python benchmarks/bench_encryption.py [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bedrock_sessions_local.encryption import Encryption
from bedrock_sessions_local.models import SessionBackend

REPO_ROOT = Path(__file__).resolve().parents[1]
OPERATIONS = ("PutInvocationStep", "GetInvocationStep", "ListInvocationSteps first page (20)")
STORES = ("plain", "encrypted")


class Store:
    """One service process on its own SQLite file, and a keep-alive connection to it."""

    def __init__(self, folder: Path, *, encrypted: bool, steps: int, payload: dict) -> None:
        db = folder / "sessions.db"
        backend = SessionBackend(str(db), encryption=Encryption(enabled=encrypted))
        self.session = backend.create_session()["sessionId"]
        self.invocation = backend.create_invocation(self.session)["invocationId"]
        self.steps = [
            backend.put_invocation_step(
                self.session,
                invocation_identifier=self.invocation,
                invocation_step_time=datetime.now(UTC),
                payload=payload,
            )["invocationStepId"]
            for _ in range(steps)
        ]
        backend.close()
        flags = [] if encrypted else ["--no-encryption"]
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bedrock_sessions_local",
                "--port",
                "0",
                "--db",
                str(db),
                *flags,
            ],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline().strip() if self.process.stdout else ""
        if not line.startswith("listening on http://"):
            self.process.kill()
            raise SystemExit(f"the service did not start: {line!r}")
        host, port = line.removeprefix("listening on http://").rsplit(":", 1)
        self.connection = http.client.HTTPConnection(host, int(port))

    def call(self, method: str, path: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Send one request; return the answer's JSON and the service time in microseconds."""
        self.connection.request(
            method, path, body=orjson.dumps(body), headers={"Content-Type": "application/json"}
        )
        response = self.connection.getresponse()
        answer = response.read()
        if response.status not in (200, 201):
            raise RuntimeError(f"{method} {path}: {response.status} {answer!r}")
        return orjson.loads(answer or b"{}"), int(response.getheader("x-local-service-time-us"))

    def operation(self, name: str, payload: dict) -> int:
        """Run one call of the named operation; return its service time (us)."""
        steps = f"/sessions/{self.session}/invocationSteps/"
        if name == "PutInvocationStep":
            body = {
                "invocationIdentifier": self.invocation,
                "invocationStepTime": datetime.now(UTC).isoformat(),
                "payload": payload,
            }
            answer, spent = self.call("PUT", steps, body)
            self.steps.append(answer["invocationStepId"])
        elif name == "GetInvocationStep":
            body = {"invocationIdentifier": self.invocation}
            _answer, spent = self.call("POST", steps + random.choice(self.steps), body)
        else:
            _answer, spent = self.call("POST", steps + "?maxResults=20", {})
        return spent

    def stop(self) -> None:
        self.connection.close()
        self.process.terminate()
        self.process.wait(timeout=30)


def percentile(values: list[float], pct: float) -> float:
    """The pct-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered)) - 1))]


def compare(*, calls: int, steps: int, payload_bytes: int) -> list[list[str]]:
    """Measure both stores; return the table rows (operation, store figures, ratios)."""
    payload = {"contentBlocks": [{"text": "x" * payload_bytes}]}
    folder = Path(tempfile.mkdtemp(prefix="bench-encryption-"))
    stores: dict[str, Store] = {}
    try:
        for name in STORES:
            (folder / name).mkdir()
            stores[name] = Store(
                folder / name, encrypted=name == "encrypted", steps=steps, payload=payload
            )
        samples = {(op, name): [] for op in OPERATIONS for name in STORES}
        for op in OPERATIONS:
            for _ in range(20):  # warm both: connections, caches, the data key
                for store in stores.values():
                    store.operation(op, payload)
            for _ in range(calls):
                for name, store in stores.items():
                    samples[op, name].append(store.operation(op, payload) / 1000)
    finally:
        for store in stores.values():
            store.stop()
        shutil.rmtree(folder, ignore_errors=True)
    rows = []
    for op in OPERATIONS:
        plain, encrypted = samples[op, "plain"], samples[op, "encrypted"]
        figures = [
            (percentile(s, 50), percentile(s, 90), statistics.fmean(s)) for s in (plain, encrypted)
        ]
        rows.append(
            [
                op,
                *(f"{p50:.3f} / {p90:.3f} / {mean:.3f}" for p50, p90, mean in figures),
                f"{figures[1][0] / figures[0][0]:.2f}x",
                f"{figures[1][2] / figures[0][2]:.2f}x",
            ]
        )
    return rows


def table(rows: list[list[str]]) -> str:
    """The rows as a Markdown table."""
    header = [
        "operation (service ms)",
        "plain p50 / p90 / mean",
        "encrypted p50 / p90 / mean",
        "ratio p50",
        "ratio mean",
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines += [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    return "\n".join(lines)


def report(*, calls: int, steps: int, payload_bytes: int) -> str:
    """Run the comparison and return its printed report."""
    rows = compare(calls=calls, steps=steps, payload_bytes=payload_bytes)
    return (
        f"encrypted (default keyring, AES-256-GCM) vs plain (--no-encryption): {calls} calls "
        f"per operation and store, alternating, a {steps:,}-step session, {payload_bytes} B "
        "payloads (goal: ratio at most 1.3x)\n" + table(rows)
    )


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print its table; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per operation and store")
    parser.add_argument("--steps", type=int, default=10_000, help="steps of each seeded session")
    parser.add_argument("--payload-bytes", type=int, default=1024)
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.steps = 200, 1_000
    print(report(calls=args.calls, steps=args.steps, payload_bytes=args.payload_bytes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
