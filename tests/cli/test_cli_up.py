"""`shoe-assistant up`, the README's run command: the session service and the web app together.

Run as a real process on free 127.0.0.1 ports with its own databases; the test waits until both
servers answer, then stops `up` the two ways people do (Ctrl-C, and SIGTERM from a process
manager or `timeout`) and checks that neither server is left behind.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from bedrock_sessions_local.credentials import Principal, load_credentials, write_credentials
from bedrock_sessions_local.testing import make_client

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def ignore_ctrl_c() -> None:
    """Start with SIGINT ignored, as a child of a shell script or CI runner may (POSIX: a
    program started in the background of a non-interactive shell inherits it ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize(
    ("stop_signal", "started_ignoring_sigint"),
    [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["ctrl-c", "sigterm", "ctrl-c-though-started-with-sigint-ignored"],
)
def test_up_starts_service_and_app_and_stops_both(
    tmp_path: Path, stop_signal: int, started_ignoring_sigint: bool
) -> None:
    service_port, app_port = free_port(), free_port()
    env = up_env(tmp_path, service_port)
    up = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "up", "--port", str(app_port)],
        cwd=tmp_path,  # not the project root: `up` must find the app and its config itself
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=ignore_ctrl_c if started_ignoring_sigint else None,
    )
    service_url = f"http://127.0.0.1:{service_port}/health"
    app_url = f"http://127.0.0.1:{app_port}/_stcore/health"
    try:
        assert wait_for(lambda: answers(service_url), 60), "session service never answered"
        assert wait_for(lambda: answers(app_url), 90), "web app never answered"
        assert up.poll() is None
    finally:
        up.send_signal(stop_signal)
        # A cold first run (no .pyc yet on a fresh clone) stops slower than a warm one.
        output, _ = up.communicate(timeout=90)
    assert up.returncode in (0, 130, -stop_signal)
    assert "Web app: http://127.0.0.1:" in output
    assert wait_for(lambda: not answers(service_url) and not answers(app_url), 20), (
        "a server outlived `up`"
    )
    assert "Traceback" not in output


def up_env(tmp_path: Path, service_port: int) -> dict[str, str]:
    """`up` on its own databases and credentials file in `tmp_path`, none of the developer's."""
    return {
        **{key: value for key, value in os.environ.items() if not key.startswith("AWS_")},
        "SESSION_STORE": "local",
        "LOCAL_SESSION_PORT": str(service_port),
        "LOCAL_SESSION_DB": str(tmp_path / "sessions.db"),
        "SESSION_CREDENTIALS_FILE": str(tmp_path / "session-credentials.json"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}",
        "MODEL": "offline",
    }


def unsigned_list_sessions(service_url: str) -> tuple[int, str | None]:
    """POST /sessions/ (ListSessions) with no signature: the status and x-amzn-ErrorType."""
    request = urllib.request.Request(f"{service_url}/sessions/", data=b"{}", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers.get("x-amzn-ErrorType")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("x-amzn-ErrorType")


def stop(process: subprocess.Popen) -> str:
    """Ctrl-C, as a person stops it; return everything it printed."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=90)  # a cold first run stops slower
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


class Commands:
    """`shoe-assistant` commands a test starts; each is stopped with Ctrl-C, even on failure."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen] = []

    def start_service(
        self, args: list[str], tmp_path: Path, port: int, app_port: int | None = None
    ) -> str:
        """Run `shoe-assistant *args`; return the URL of its session service once it answers.

        With `app_port` (`up`), also wait for the web app: Ctrl-C while Streamlit is still
        importing is not what this file tests.
        """
        process = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", *args],
            cwd=tmp_path,
            env=up_env(tmp_path, port),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.running.append(process)
        url = f"http://127.0.0.1:{port}"
        assert wait_for(lambda: answers(f"{url}/health"), 60), (
            f"session service never answered: {stop(process)}"
        )
        app_health = f"http://127.0.0.1:{app_port}/_stcore/health"
        assert app_port is None or wait_for(lambda: answers(app_health), 90), (
            f"web app never answered: {stop(process)}"
        )
        return url

    def stop(self) -> str:
        """Stop the last command started; return its output."""
        return stop(self.running.pop())


@pytest.fixture
def commands() -> Iterator[Commands]:
    started = Commands()
    yield started
    while started.running:
        started.stop()


def test_up_starts_the_session_store_checking_signatures_and_policy(
    tmp_path: Path, commands: Commands
) -> None:
    app_port = free_port()
    url = commands.start_service(["up", "--port", str(app_port)], tmp_path, free_port(), app_port)
    assert unsigned_list_sessions(url) == (403, "MissingAuthenticationTokenException")

    credentials = tmp_path / "session-credentials.json"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    principals = load_credentials(credentials).values()
    tenant_a = next(p for p in principals if p.tags.get("tenant") == "tenant-a")
    assert {p.tags.get("tenant") for p in principals} >= {"tenant-a", "tenant-b"}
    assert any(p.admin for p in principals)
    # the key up wrote for tenant-a is the one the service accepts, for tenant-a's sessions only
    client = make_client(url, credentials=tenant_a)
    tagged = {"tenant": "tenant-a", "user": "alice", "app": "shoe-assistant"}
    assert client.create_session(tags=tagged)["sessionId"]
    with pytest.raises(ClientError) as refused:
        client.create_session(tags={**tagged, "tenant": "tenant-b"})
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"

    output = commands.stop()
    assert "Session store checks signatures and policy" in output
    assert "Traceback" not in output


def test_up_plain_checks_nothing(tmp_path: Path, commands: Commands) -> None:
    app_port = free_port()
    url = commands.start_service(
        ["up", "--plain", "--port", str(app_port)], tmp_path, free_port(), app_port
    )
    assert unsigned_list_sessions(url) == (200, None)
    assert not (tmp_path / "session-credentials.json").exists()
    output = commands.stop()
    assert "checks no signature or policy (plain mode)" in output
    assert "Traceback" not in output


def test_session_service_keeps_the_keys_it_finds_and_adds_missing_tenants(
    tmp_path: Path, commands: Commands
) -> None:
    credentials = tmp_path / "session-credentials.json"
    mine = Principal("AKIAEARLIERRUN000001", "an-earlier-secret", "earlier", {"tenant": "tenant-a"})
    write_credentials(credentials, [mine])
    port = free_port()
    url = commands.start_service(["session-service", "--port", str(port)], tmp_path, port)
    assert make_client(url, credentials=mine).list_sessions()["sessionSummaries"] == []
    kept = load_credentials(credentials)
    assert kept[mine.access_key_id] == mine
    assert {p.tags.get("tenant") for p in kept.values()} >= {"tenant-a", "tenant-b"}
    assert sum(p.tags.get("tenant") == "tenant-a" for p in kept.values()) == 1
    output = commands.stop()
    assert "Wrote session-store keys for tenant-b, admin" in output
