"""`session-service` and `up`: start the local session service, and the whole app.

The assistant never imports the local service package: it starts it as a separate process
(`python -m bedrock_sessions_local`) and talks to it over HTTP, exactly as it talks to AWS.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from assistant.cli.errors import CliError
from assistant.settings import PROJECT_ROOT, get_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `session-service` and `up` subcommands."""
    settings = get_settings()
    service = subparsers.add_parser(
        "session-service",
        help="serve the Bedrock Session Management API locally",
        description="Serve the 14 Bedrock session operations over HTTP on this machine.",
    )
    service.add_argument("--host", default=settings.local_session_host)
    service.add_argument("--port", type=int, default=settings.local_session_port)
    service.add_argument("--db", default=settings.local_session_db, help="SQLite path or URL")
    service.set_defaults(run=_run_session_service)

    up = subparsers.add_parser(
        "up",
        help="start the web app (and the local session service unless AWS is configured)",
    )
    up.add_argument("--port", type=int, default=8501, help="port of the web app")
    up.add_argument("--host", default="127.0.0.1", help="address of the web app")
    up.set_defaults(run=_run_up)


def service_command(host: str, port: int, db: str) -> list[str]:
    """The command line that starts the local session service."""
    Path(db).parent.mkdir(parents=True, exist_ok=True) if "://" not in db else None
    return [
        sys.executable,
        "-m",
        "bedrock_sessions_local",
        "--host",
        host,
        "--port",
        str(port),
        "--db",
        db,
    ]


def _run_session_service(args: argparse.Namespace) -> int:
    os.execv(sys.executable, service_command(args.host, args.port, args.db))
    return 0  # not reached


def is_healthy(url: str, timeout: float = 0.5) -> bool:
    """True when a local session service answers its health check at `url`."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_until_healthy(url: str, process: subprocess.Popen | None, seconds: float = 20) -> None:
    """Block until the service answers, or raise if it died or never came up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if is_healthy(url):
            return
        if process is not None and process.poll() is not None:
            raise CliError(f"the local session service exited with status {process.returncode}")
        time.sleep(0.1)
    raise CliError(f"the local session service did not answer at {url} within {seconds:.0f}s")


def _stop_on_sigterm(signum: int, frame: object) -> None:
    # `kill`, `timeout` and service managers send SIGTERM: stop the children as Ctrl-C does.
    raise KeyboardInterrupt


def _run_up(args: argparse.Namespace) -> int:
    settings = get_settings()
    children: list[subprocess.Popen] = []
    env = dict(os.environ)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        if settings.uses_local_sessions and not settings.session_endpoint_url:
            url = settings.local_session_url
            if is_healthy(url):
                print(f"Using the local session service already running at {url}")
            else:
                print(f"Starting the local session service at {url} ...")
                service = subprocess.Popen(
                    service_command(
                        settings.local_session_host,
                        settings.local_session_port,
                        settings.local_session_db,
                    ),
                    start_new_session=True,  # Ctrl-C reaches `up` only; it stops children once
                )
                children.append(service)
                wait_until_healthy(url, service)
        store = "AWS" if settings.resolved_session_endpoint is None else "local"
        print(f"Session store: {store} ({settings.resolved_session_endpoint or 'AWS default'})")
        print(f"Web app: http://{args.host}:{args.port}  (Ctrl-C stops everything)")
        app = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(PROJECT_ROOT / "ui" / "app.py"),
                "--server.port",
                str(args.port),
                "--server.address",
                args.host,
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
            ],
            env=env,
            cwd=PROJECT_ROOT,  # so Streamlit reads the project's .streamlit/config.toml
            start_new_session=True,
        )
        children.append(app)
        return app.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in reversed(children):
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
