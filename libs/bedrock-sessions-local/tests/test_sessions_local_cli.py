"""The real AWS CLI against the service, and the service's own command line process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bedrock_sessions_local.__main__ import build_parser
from sessions_local_support import REGION, make_client

REPO_ROOT = Path(__file__).resolve().parents[2]
AWS_CLI = Path(sys.executable).parent / "aws"


def aws(session_service_url: str, *args: str) -> Any:
    """Run ``aws bedrock-agent-runtime <args>`` with dummy credentials; return parsed JSON."""
    env = os.environ | {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_PAGER": "",
    }
    done = subprocess.run(
        [
            str(AWS_CLI),
            "bedrock-agent-runtime",
            *args,
            "--endpoint-url",
            session_service_url,
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_aws_cli_creates_a_session_invocation_and_steps_and_lists_them(
    session_service_url: str,
) -> None:
    session = aws(
        session_service_url,
        "create-session",
        "--session-metadata",
        "user=ana",
        "--tags",
        "tenant=shoes",
    )
    assert session["sessionStatus"] == "ACTIVE"
    sid = session["sessionId"]
    invocation = aws(
        session_service_url,
        "create-invocation",
        "--session-identifier",
        sid,
        "--description",
        "turn 1",
    )["invocationId"]
    step_ids = []
    for text in ("first", "second"):
        put = aws(
            session_service_url,
            "put-invocation-step",
            "--session-identifier",
            session["sessionArn"],
            "--invocation-identifier",
            invocation,
            "--invocation-step-time",
            "2025-01-02T03:04:05.123456Z",
            "--payload",
            json.dumps({"contentBlocks": [{"text": text}]}),
        )
        step_ids.append(put["invocationStepId"])
    # the CLI follows nextToken by itself; a page size of 1 makes it page
    listed = aws(
        session_service_url,
        "list-invocation-steps",
        "--session-identifier",
        sid,
        "--invocation-identifier",
        invocation,
        "--page-size",
        "1",
    )
    assert [s["invocationStepId"] for s in listed["invocationStepSummaries"]] == step_ids[::-1]
    assert listed["invocationStepSummaries"][0]["invocationStepTime"].startswith("2025-01-02T03:04")


def start_service_process(*args: str) -> tuple[subprocess.Popen[str], str]:
    """Start ``python -m bedrock_sessions_local`` on a free port; return it and its URL."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bedrock_sessions_local",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            *args,
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline().strip() if process.stdout else ""
    if not line.startswith("listening on http://"):
        process.kill()
        raise AssertionError(f"no 'listening on' line: {line!r} {process.stderr.read()!r}")
    return process, line.removeprefix("listening on ")


def test_service_process_serves_stops_gracefully_on_signals_and_keeps_data(
    tmp_path: Path,
) -> None:
    db = tmp_path / "sessions.db"
    process, url = start_service_process("--db", str(db), "--region", "eu-west-1")
    try:
        created = make_client(url).create_session(sessionMetadata={"k": "v"})
        assert ":eu-west-1:" in created["sessionArn"]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    process, url = start_service_process("--db", str(db), "--region", "eu-west-1")
    try:
        got = make_client(url).get_session(sessionIdentifier=created["sessionArn"])
        assert got["sessionMetadata"] == {"k": "v"}
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0


def test_service_process_applies_knob_flags(tmp_path: Path) -> None:
    process, url = start_service_process(
        *("--db", str(tmp_path / "s.db"), "--latency-ms", "7", "--session-ttl-seconds", "30"),
        *("--commit-error-rate", "0.25", "--commit-drop-rate", "0.5"),
        *("--slow-response-rate", "0.75", "--slow-response-ms", "1500", "--fault-seed", "7"),
    )
    try:
        from bedrock_sessions_local.testing import service_config

        assert service_config(url) == {
            "latency_ms": 7.0,
            "throttle_rate": 0.0,
            "internal_error_rate": 0.0,
            "commit_error_rate": 0.25,
            "commit_drop_rate": 0.5,
            "slow_response_rate": 0.75,
            "slow_response_ms": 1500.0,
            "session_ttl_seconds": 30.0,
            "fault_seed": 7,
        }
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def test_service_process_reports_a_bad_database_without_a_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bedrock_sessions_local",
            "--port",
            "0",
            "--db",
            "nosuchdialect://x",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "cannot start the local session service" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["--throttle-rate", "2"],
        ["--latency-ms", "-1"],
        ["--port", "http"],
        ["--commit-error-rate", "1.5"],
        ["--commit-drop-rate", "-0.1"],
        ["--slow-response-rate", "often"],
        ["--slow-response-ms", "-1"],
        ["--fault-seed", "-3"],
        ["--fault-seed", "0.5"],
    ],
)
def test_parser_rejects_bad_flags(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(argv)


def test_parser_defaults() -> None:
    args = build_parser().parse_args([])
    assert (args.host, args.port, args.region, args.account) == (
        "127.0.0.1",
        8766,
        "us-east-1",
        "123456789012",
    )
    assert args.session_ttl_seconds is None
