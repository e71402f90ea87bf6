"""``langgraph-checkpoint-conformance`` against the local service: ours beside upstream.

Every base capability and ``copy_thread`` must pass for both of our savers. Upstream's known
defects (README, "Upstream defects it fixes") must show up as failures, so the table printed
here is a live record of what the subclass fixes; upstream failing is expected and never fails
this suite.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from checkpointer_support import conformance_view
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.report import CapabilityReport
from langgraph_checkpoint_aws.checkpoint.bedrock_sessions.async_saver import (
    AsyncBedrockSessionSaver,
)
from langgraph_checkpoint_aws.checkpoint.bedrock_sessions.saver import BedrockSessionSaver

from langgraph_checkpoint_bedrock_sessions import (
    AsyncBedrockSessionCheckpointer,
    BedrockSessionCheckpointer,
)

SAVERS = {
    "ours (sync)": BedrockSessionCheckpointer,
    "ours (async)": AsyncBedrockSessionCheckpointer,
    "upstream (sync)": BedrockSessionSaver,
    "upstream (async)": AsyncBedrockSessionSaver,
}
BASE = ["put", "put_writes", "get_tuple", "list", "delete_thread"]
EXTENDED = ["copy_thread", "delete_for_runs", "prune"]


def _run(name: str, saver_type: type, client: Any) -> CapabilityReport:
    async def factory():
        yield conformance_view(saver_type(client=client), client)

    registered = checkpointer_test(name=name)(factory)
    return asyncio.run(validate(registered))


@pytest.fixture(scope="module")
def reports(client: Any) -> dict[str, CapabilityReport]:
    """One conformance run per saver, all against the module's service."""
    return {name: _run(name, saver_type, client) for name, saver_type in SAVERS.items()}


def _cell(report: CapabilityReport, capability: str) -> str:
    result = report.results.get(capability)
    if result is None or not result.detected:
        return "not implemented"
    total = result.tests_passed + result.tests_failed
    return f"{'PASS' if result.passed else 'FAIL'} {result.tests_passed}/{total}"


def test_conformance_table(reports: dict[str, CapabilityReport]) -> None:
    """Print ours beside upstream, capability by capability, with upstream's failures."""
    names = list(reports)
    lines = ["", f"{'capability':16}" + "".join(f"{n:>20}" for n in names)]
    for capability in BASE + EXTENDED:
        lines.append(
            f"{capability:16}" + "".join(f"{_cell(reports[n], capability):>20}" for n in names)
        )
    for name in names:
        for result in reports[name].results.values():
            for failure in result.failures:
                lines.append(f"  {name}: {failure.splitlines()[0][:150]}")
    print("\n".join(lines))


@pytest.mark.parametrize("name", ["ours (sync)", "ours (async)"])
def test_ours_pass_every_base_capability_and_copy_thread(
    reports: dict[str, CapabilityReport], name: str
) -> None:
    """Every base capability and every extended one we implement passes, with no failure."""
    report = reports[name]
    failures = [f for r in report.results.values() for f in r.failures]
    assert report.passed_all_base(), failures
    assert report.passed_all(), failures
    assert report.results["copy_thread"].passed is True
    # no step delete in the API: these cannot be implemented faithfully (README)
    assert not report.results["prune"].detected
    assert not report.results["delete_for_runs"].detected


@pytest.mark.parametrize("upstream", ["upstream (sync)", "upstream (async)"])
def test_ours_pass_what_upstream_fails(reports: dict[str, CapabilityReport], upstream: str) -> None:
    """Upstream's documented defects are visible, and fixed by ours."""
    report = reports[upstream]
    failed_tests = {f.split(":")[0] for r in report.results.values() for f in r.failures}
    # upstream defects: sibling writes lost, parent never stored, no delete_thread
    assert "test_put_writes_multiple_tasks" in failed_tests
    assert "test_get_tuple_parent_config" in failed_tests
    assert not report.results["delete_thread"].detected
    assert not report.passed_all_base()
    for ours in ("ours (sync)", "ours (async)"):
        assert reports[ours].passed_all_base()
