"""Fixtures shared by every test folder: PostgreSQL, the shop on the local session service, the CLI.

Everything is real: the local Bedrock session service over HTTP on 127.0.0.1 (in a thread of
the test process), boto3, the checkpointer, the compiled LangGraph graph, a SQLite catalog seeded
from data/*.json, and `shoe-assistant` run as a separate process for the CLI tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.application.shop import Shop
from assistant.settings import Settings

# A CLI command starts a fresh Python (LangChain, LangGraph, boto3: seconds of imports on a busy
# machine); a minute means it hung, not that the machine is slow.
CLI_TIMEOUT_SECONDS = 90


def settings_for(endpoint: str, database: Path, **overrides) -> Settings:
    """Settings for the embedded setup at `endpoint`, ignoring any `.env` and shell MODEL.

    The service at `endpoint` is in plain mode (one client for every tenant) unless the test
    turns `local_session_iam` on with its own credentials file; the signing key of sign-in
    tokens is kept beside the database, not in the checkout.
    """
    values = {
        "AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME": endpoint,
        "database_url": f"sqlite:///{database}",
        "session_store": "local",
        "model": "offline",
        "local_session_iam": False,
        "secret_key_file": str(Path(database).parent / "secret-key"),
        **overrides,
    }
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings_at() -> Callable[..., Settings]:
    """`settings_for`, for tests that run their own session service or none at all."""
    return settings_for


@pytest.fixture
def shop_settings(session_service_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the module's session service and this test's own catalog."""
    return settings_for(session_service_url, tmp_path / "shop.db")


@pytest.fixture
def shop(shop_settings: Settings) -> Iterator[Shop]:
    """A `Shop` on the offline model, the local session service and a fresh catalog."""
    built = Shop(settings=shop_settings)
    yield built
    built.engine.dispose()


class RunningCommand:
    """A `shoe-assistant` process started by `ShoeAssistantCli.start`."""

    def __init__(self, process: subprocess.Popen[str], args: tuple[str, ...], stdin: str) -> None:
        self.process = process
        self.args = args
        self.stdin = stdin

    def finish(self) -> subprocess.CompletedProcess[str]:
        """Wait for the command (killing it after CLI_TIMEOUT_SECONDS) and return its outcome."""
        try:
            stdout, stderr = self.process.communicate(self.stdin, timeout=CLI_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            raise AssertionError(f"shoe-assistant {' '.join(self.args)} hung") from None
        return subprocess.CompletedProcess(self.args, self.process.returncode, stdout, stderr)


class ShoeAssistantCli:
    """Runs `shoe-assistant` in new processes, with the same service and catalog as `shop`."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        script = Path(sys.executable).parent / "shoe-assistant"
        # The console script is what workshops type; fall back to the same entry point.
        entry_point = "import sys; from assistant.cli import main; sys.exit(main())"
        self.command = [str(script)] if script.exists() else [sys.executable, "-c", entry_point]
        self.started: list[subprocess.Popen[str]] = []

    def start(self, *args: str, stdin: str = "") -> RunningCommand:
        """Start a command (like typing it in another terminal) and return without waiting."""
        process = subprocess.Popen(
            [*self.command, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
            cwd=self.cwd,
        )
        self.started.append(process)
        return RunningCommand(process, args, stdin)

    def stop_leftovers(self) -> None:
        """Kill commands a failed test started but never waited for."""
        for process in self.started:
            if process.poll() is None:
                process.kill()
                process.communicate()

    def run(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """Run one command to completion; return its exit status, stdout and stderr."""
        return self.start(*args, stdin=stdin).finish()

    @staticmethod
    def error_line(process: subprocess.CompletedProcess[str]) -> str:
        """The single stderr line of a failed command (asserting it failed with exactly one)."""
        assert process.returncode != 0, f"expected a failure, got: {process.stdout}"
        lines = [line for line in process.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, f"expected one line on stderr, got:\n{process.stderr}"
        assert "Traceback" not in process.stderr
        return lines[0]


@pytest.fixture
def shop_cli(shop_settings: Settings, tmp_path: Path) -> Iterator[ShoeAssistantCli]:
    """`shoe-assistant` configured by environment variables, as a workshop learner runs it."""
    env = dict(os.environ)
    env.update(
        AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME=shop_settings.session_endpoint_url or "",
        DATABASE_URL=shop_settings.database_url,
        SESSION_STORE="local",
        MODEL="offline",
        PYTHONUNBUFFERED="1",
    )
    # cwd is the test's directory, so no developer `.env` is read by the child.
    cli = ShoeAssistantCli(env, tmp_path)
    yield cli
    cli.stop_leftovers()
