"""`bench`: run a benchmark script from benchmarks/ (each prints its table and ratios)."""

from __future__ import annotations

import argparse
import subprocess
import sys

from assistant.cli.errors import CliError
from assistant.settings import PROJECT_ROOT

BENCHMARKS = {
    "service": "bench_session_service.py",
    "checkpointer": "bench_checkpointer.py",
    "chaos": "chaos.py",
    "pages": "bench_pages.py",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `bench` subcommand."""
    bench = subparsers.add_parser(
        "bench",
        help="run a benchmark (service, checkpointer, pages) or the chaos run",
        description="Run a script of benchmarks/; extra arguments (e.g. --quick) go to it.",
    )
    bench.add_argument("name", choices=sorted(BENCHMARKS))
    bench.add_argument("args", nargs=argparse.REMAINDER, help="passed to the script")
    bench.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    script = PROJECT_ROOT / "benchmarks" / BENCHMARKS[args.name]
    if not script.exists():
        raise CliError(f"{script} is missing; benchmarks run from a checkout of the project")
    return subprocess.call([sys.executable, str(script), *args.args])
