"""Fixtures shared by every test folder: PostgreSQL, the shop on the local session service, the CLI.

Everything is real: the local Bedrock session service over HTTP on 127.0.0.1 (in a thread of
the test process), boto3, the checkpointer, the compiled LangGraph graph, a SQLite catalog seeded
from data/*.json, and `shoe-assistant` run as a separate process for the CLI tests. Tests act as
the demo accounts of data/users.json, signed in with their demo passwords (`signed_in`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.application import Principal
from assistant.application.shop import Shop
from assistant.cli.account_commands import TOKEN_ENV
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
        "shop_key_file": str(Path(database).parent / "shop-key"),
        **overrides,
    }
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="session")
def settings_at() -> Callable[..., Settings]:
    """`settings_for`, for tests that run their own session service or none at all."""
    return settings_for


def demo_password(username: str) -> str:
    """The published password of a demo account of data/users.json."""
    return f"demo-{username}"


# Argon2 is slow on purpose (~50 ms a check): each shop signs each demo user in once.
_principals: weakref.WeakKeyDictionary[Shop, dict[str, Principal]] = weakref.WeakKeyDictionary()


def _signed_in(shop: Shop, username: str) -> Principal:
    principals = _principals.setdefault(shop, {})
    if username not in principals:
        principals[username], _ = shop.sign_in(username, demo_password(username))
    return principals[username]


@pytest.fixture(scope="session")
def signed_in() -> Callable[[Shop, str], Principal]:
    """`signed_in(shop, "alice")`: the principal of a demo account, signed in on `shop` with
    its demo password (once per shop and user)."""
    return _signed_in


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
    """Runs `shoe-assistant` in new processes, with the same service and catalog as `shop`.

    A command runs signed in as nobody unless `as_user` names a demo account: then it gets a
    CLI sign-in token of `shop` in SHOE_ASSISTANT_TOKEN, as a script would.
    """

    def __init__(self, env: dict[str, str], cwd: Path, shop: Shop) -> None:
        self.env = env
        self.cwd = cwd
        self.shop = shop
        self.tokens: dict[str, str] = {}
        script = Path(sys.executable).parent / "shoe-assistant"
        # The console script is what workshops type; fall back to the same entry point.
        entry_point = "import sys; from assistant.cli import main; sys.exit(main())"
        self.command = [str(script)] if script.exists() else [sys.executable, "-c", entry_point]
        self.started: list[subprocess.Popen[str]] = []

    def token(self, username: str) -> str:
        """A CLI sign-in token of a demo account (one per user and test)."""
        if username not in self.tokens:
            password = demo_password(username)
            _, self.tokens[username] = self.shop.sign_in(username, password, channel="cli")
        return self.tokens[username]

    def start(self, *args: str, stdin: str = "", as_user: str | None = None) -> RunningCommand:
        """Start a command (like typing it in another terminal) and return without waiting."""
        env = self.env if as_user is None else {**self.env, TOKEN_ENV: self.token(as_user)}
        process = subprocess.Popen(
            [*self.command, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
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

    def run(
        self, *args: str, stdin: str = "", as_user: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run one command to completion; return its exit status, stdout and stderr."""
        return self.start(*args, stdin=stdin, as_user=as_user).finish()

    @staticmethod
    def error_line(process: subprocess.CompletedProcess[str]) -> str:
        """The single stderr line of a failed command (asserting it failed with exactly one)."""
        assert process.returncode != 0, f"expected a failure, got: {process.stdout}"
        lines = [line for line in process.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, f"expected one line on stderr, got:\n{process.stderr}"
        assert "Traceback" not in process.stderr
        return lines[0]


@pytest.fixture
def shop_cli(shop: Shop, shop_settings: Settings, tmp_path: Path) -> Iterator[ShoeAssistantCli]:
    """`shoe-assistant` configured by environment variables, as a workshop learner runs it."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in (TOKEN_ENV, "SECRET_KEY")  # a developer's own sign-in stays theirs
    }
    env.update(
        AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME=shop_settings.session_endpoint_url or "",
        DATABASE_URL=shop_settings.database_url,
        SESSION_STORE="local",
        MODEL="offline",
        LOCAL_SESSION_IAM="false",
        # `login` writes its token here, not in the real ~/.config.
        CLI_TOKEN_FILE=str(tmp_path / "cli-config" / "shoe-assistant" / "token"),
        XDG_CONFIG_HOME=str(tmp_path / "cli-config"),
        PYTHONUNBUFFERED="1",
    )
    # The same keys as `shop` (SECRET_KEY_FILE signs sign-in tokens; any other *_KEY_FILE too),
    # all kept beside the test's database, never in the checkout.
    env.update(
        (name.upper(), str(value))
        for name, value in shop_settings.model_dump().items()
        if name.endswith("_key_file") and value
    )
    # cwd is the test's directory, so no developer `.env` is read by the child.
    cli = ShoeAssistantCli(env, tmp_path, shop)
    yield cli
    cli.stop_leftovers()
