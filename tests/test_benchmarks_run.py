"""The benchmark scripts still run (through `shoe-assistant bench`) and print their comparisons.

Not a timed test: numbers are not asserted, only that each script completes on a small run and
reports its baseline and ratios, so the commands in the README keep working.
"""

from __future__ import annotations

import subprocess
import sys

import pytest


def bench(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "bench", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]
    return done.stdout


@pytest.mark.timeout(600)
def test_service_benchmark_reports_the_floor_and_the_ratios() -> None:
    out = bench("service", "--quick", "--calls", "20")
    assert "SqliteSaver.put (in-process floor)" in out
    assert "first page service p50" in out and "ratios" in out


@pytest.mark.timeout(600)
def test_checkpointer_benchmark_compares_upstream_and_ours() -> None:
    out = bench("checkpointer", "--quick", "--latencies", "0", "--turns", "1")
    for scenario in ("chat turn", "get_state latest", "history page 20", "history full"):
        assert f"| {scenario}" in out
    assert "| upstream |" in out and "| ours" in out


@pytest.mark.timeout(600)
def test_the_short_chaos_run_meets_every_goal() -> None:
    """Kill -9 of the approver, the session service and a chat, and every kind of fault, a few
    rounds each (the full run is `shoe-assistant bench chaos`): nothing stuck, nothing doubled."""
    out = bench("chaos", "--quick")
    assert "| kill -9 `approvals approve` |" in out and "| crowd:" in out
    assert "all goals met" in out
