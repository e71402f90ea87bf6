"""Attack on the local Bedrock session service: no single client may stall it, crash it or make
it hold much memory.

Starts ``python -m bedrock_sessions_local`` in its own process and, for ``--seconds``, sends to
it at once from this process (127.0.0.1 only, at most ``--max-attacks`` oversize or malformed
requests): oversize headers (200 MB by default), many small headers, oversize targets (64 MB),
bodies declaring 1 GB, chunked bodies (64 MB), methods and framing HTTP/1.1 refuses,
Content-Lengths larger than the body, and ``--slow-clients`` slow-loris clients dripping one
byte every half second, while ``GET /health`` is timed every 20 ms on a new connection. The
attack itself is ``libs/bedrock-sessions-local/tests/sessions_local_attack.py``, which the test
suite runs for five seconds with smaller payloads.

It prints the answers by kind and status, ``/health`` p50/p99/max, the service's resident
memory at the start and its peak, and the answers that are a 5xx, not in the AWS error shape or
not of the expected status. The exit status is 1 when one of these misses its goal: health p99
under 100 ms, no such answer, every attack answered, memory grown by less than 100 MB.

Run::

    .venv/bin/python benchmarks/attack_session_service.py            # a minute
    .venv/bin/python benchmarks/attack_session_service.py --quick    # ten seconds

Numbers before the limits (the service of another checkout of the library)::

    git worktree add /tmp/before <commit>
    .venv/bin/python benchmarks/attack_session_service.py \\
        --pythonpath /tmp/before/libs/bedrock-sessions-local
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "libs" / "bedrock-sessions-local" / "tests"))

from sessions_local_attack import AttackSizes, run_attack, service_process  # noqa: E402

MB = 1024 * 1024


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the attack run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the attack")
    parser.add_argument("--attackers", type=int, default=4, help="threads sending oversize")
    parser.add_argument("--slow-clients", type=int, default=200, help="slow-loris connections")
    parser.add_argument("--max-attacks", type=int, default=20_000)
    parser.add_argument("--header-mb", type=int, default=200, help="size of an oversize header")
    parser.add_argument("--target-mb", type=int, default=64, help="size of an oversize target")
    parser.add_argument("--chunked-mb", type=int, default=64, help="size of a chunked body")
    parser.add_argument(
        "--service-flags",
        default="",
        help="flags of the service process (default: none, the default limits)",
    )
    parser.add_argument(
        "--pythonpath",
        help="run the service from this folder's bedrock_sessions_local (another checkout)",
    )
    parser.add_argument("--quick", action="store_true", help="ten seconds, smaller payloads")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the attack, print the report; return 1 when a goal is missed."""
    args = build_parser().parse_args(argv)
    if args.quick:  # and a 3 s request timeout, so that slow clients meet it in the run
        args.seconds, args.slow_clients, args.header_mb = 10.0, 60, 16
        args.service_flags = args.service_flags or "--request-timeout-seconds 3"
    sizes = AttackSizes(
        header=args.header_mb * MB,
        target=args.target_mb * MB,
        body=1024 * MB,
        chunked_body=args.chunked_mb * MB,
    )
    flags = shlex.split(args.service_flags)
    timeout = 40.0  # longer than the request timeout (30 s by default)
    env = None if args.pythonpath is None else {"PYTHONPATH": args.pythonpath}
    print(
        f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}; service flags {flags}"
        + (f" from {args.pythonpath}" if args.pythonpath else "")
    )
    with service_process(*flags, env=env) as (port, pid):
        report = run_attack(
            port,
            args.seconds,
            sizes=sizes,
            attackers=args.attackers,
            slow_clients=args.slow_clients,
            slow_interval=0.5,
            answer_timeout=timeout,
            max_attacks=args.max_attacks,
            server_pid=pid,
        )
    print("\n".join(report.lines()))
    print(f"load at the end {os.getloadavg()[0]:.1f}")
    grown = (report.rss_peak_mb or 0.0) - (report.rss_start_mb or 0.0)
    missed = [
        name
        for name, ok in [
            ("health p99 < 100 ms", report.health_percentile(0.99) < 100),
            ("no failed health call", not report.health_failures),
            ("no 5xx, nothing outside the AWS shape", not report.problems),
            ("every attack answered", not report.unanswered),
            ("memory grown < 100 MB", grown < 100),
        ]
        if not ok
    ]
    print("goals missed: " + (", ".join(missed) if missed else "none"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
