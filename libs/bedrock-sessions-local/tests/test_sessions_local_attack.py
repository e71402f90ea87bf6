"""An attack of a few seconds on the service process: oversize headers, targets and bodies,
methods and framing HTTP/1.1 refuses, Content-Lengths that lie and 60 slow clients, all at once,
to 127.0.0.1 only. Every answer is a well-formed AWS error of the expected status, never a 5xx;
``/health`` keeps answering fast and the service's memory stays flat.

The longer run with bigger payloads, and the numbers before the limits, are in
``benchmarks/attack_session_service.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sessions_local_attack import EXPECTED, AttackSizes, run_attack, service_process

#: a 2 s request timeout, so that the slow clients meet it several times during the attack
FLAGS = (
    *("--request-timeout-seconds", "2", "--idle-timeout-seconds", "2"),
    *("--max-body-bytes", "1048576", "--max-body-bytes-in-flight", "8388608"),
)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_an_attack_gets_only_aws_errors_while_health_stays_fast_and_memory_flat() -> None:
    sizes = AttackSizes(header=16 * 1024 * 1024, target=1024 * 1024, chunked_body=4 * 1024 * 1024)
    with service_process(*FLAGS) as (port, pid):
        report = run_attack(
            port,
            5.0,
            sizes=sizes,
            attackers=6,
            slow_clients=60,
            max_attacks=2_000,
            health_interval=0.01,
            answer_timeout=5.0,
            server_pid=pid,
        )
    print("\n".join(report.lines()))
    assert report.problems == []  # no 5xx, nothing outside the AWS shape, nothing unexpected
    assert sum(report.unanswered.values()) == 0, report.unanswered
    seen = {kind for kind, _ in report.answers}
    assert seen == set(EXPECTED), seen
    assert report.answers["slow client", 408] >= 60  # each slow client met the timeout
    assert report.health_failures == []
    assert len(report.health_ms) >= 100
    assert report.health_percentile(0.99) < 100
    assert report.rss_peak_mb is not None and report.rss_start_mb is not None
    assert report.rss_peak_mb - report.rss_start_mb < 40
