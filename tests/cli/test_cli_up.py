"""`shoe-assistant up`, the README's run command: the session service and the web app together.

Run as a real process on free 127.0.0.1 ports with its own databases; the test waits until both
servers answer, then stops `up` the two ways people do (Ctrl-C, and SIGTERM from a process
manager or `timeout`) and checks that neither server is left behind.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

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


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_up_starts_service_and_app_and_stops_both(tmp_path: Path, stop_signal: int) -> None:
    service_port, app_port = free_port(), free_port()
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("AWS_")},
        "SESSION_STORE": "local",
        "LOCAL_SESSION_PORT": str(service_port),
        "LOCAL_SESSION_DB": str(tmp_path / "sessions.db"),
        "SESSION_CREDENTIALS_FILE": str(tmp_path / "session-credentials.json"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}",
        "MODEL": "offline",
    }
    up = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "up", "--port", str(app_port)],
        cwd=tmp_path,  # not the project root: `up` must find the app and its config itself
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    service_url = f"http://127.0.0.1:{service_port}/health"
    app_url = f"http://127.0.0.1:{app_port}/_stcore/health"
    try:
        assert wait_for(lambda: answers(service_url), 60), "session service never answered"
        assert wait_for(lambda: answers(app_url), 90), "web app never answered"
        assert up.poll() is None
    finally:
        up.send_signal(stop_signal)
        output, _ = up.communicate(timeout=30)
    assert up.returncode in (0, 130, -stop_signal)
    assert "Web app: http://127.0.0.1:" in output
    assert wait_for(lambda: not answers(service_url) and not answers(app_url), 20), (
        "a server outlived `up`"
    )
    assert "Traceback" not in output
