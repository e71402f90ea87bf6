"""IAM mode as a user turns it on: the README's snippet, the command line flags, the AWS CLI."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bedrock_sessions_local.__main__ import main
from bedrock_sessions_local.credentials import DEMO_PRINCIPALS, load_credentials
from sessions_local_iam_support import TEMPLATE
from sessions_local_support import REGION

LIBRARY = Path(__file__).resolve().parents[1]
REPO_ROOT = LIBRARY.parents[1]
AWS_CLI = Path(sys.executable).parent / "aws"


def python_block_under(markdown: str, heading: str) -> str:
    """The first ```python block after the Markdown heading ``heading``."""
    section = markdown[markdown.index(f"\n{heading}\n") :]
    found = re.search(r"^```python\n(.*?)^```", section, re.DOTALL | re.MULTILINE)
    assert found, f"no python block under {heading!r}"
    return found.group(1)


def test_the_readme_iam_snippet_runs_from_the_repository_root(tmp_path: Path) -> None:
    readme = (LIBRARY / "README.md").read_text()
    snippet = tmp_path / "iam_mode.py"
    snippet.write_text(python_block_under(readme, "## IAM mode: signatures and the tenant policy"))
    done = subprocess.run(
        [sys.executable, str(snippet)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "bob, same tenant: ACTIVE",
        "carol, other tenant: AccessDeniedException",
    ]


def test_write_demo_credentials_writes_a_0600_file_and_exits(tmp_path: Path) -> None:
    path = tmp_path / "var" / "credentials.json"
    assert main(["--write-demo-credentials", str(path)]) == 0
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert set(load_credentials(path)) == {p.access_key_id for p in DEMO_PRINCIPALS.values()}


@pytest.mark.parametrize(
    "flags",
    [
        ["--iam-credentials", "c.json"],
        ["--iam-policy-template", str(TEMPLATE)],
        ["--iam-parameter", "AppName=x"],
    ],
)
def test_iam_flags_come_together(flags: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", ":memory:", "--port", "0", *flags]) == 2
    assert "IAM mode needs both" in capsys.readouterr().err


def test_a_bad_template_parameter_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    credentials = tmp_path / "c.json"
    main(["--write-demo-credentials", str(credentials)])
    code = main(
        [
            "--db",
            ":memory:",
            "--port",
            "0",
            "--iam-credentials",
            str(credentials),
            "--iam-policy-template",
            str(TEMPLATE),
            "--iam-parameter",
            "NoSuchParameter=1",
        ]
    )
    assert code == 1
    assert "unknown template parameter" in capsys.readouterr().err


@pytest.fixture(scope="module")
def iam_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m bedrock_sessions_local`` in IAM mode, as a separate process; yields its URL."""
    folder = tmp_path_factory.mktemp("iam-process")
    credentials = folder / "credentials.json"
    assert main(["--write-demo-credentials", str(credentials)]) == 0
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bedrock_sessions_local",
            "--port",
            "0",
            "--db",
            str(folder / "sessions.db"),
            "--iam-credentials",
            str(credentials),
            "--iam-policy-template",
            str(TEMPLATE),
            "--iam-parameter",
            "AppName=shoe-assistant",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line.startswith("listening on "), process.stderr.read() if process.stderr else ""
        yield line.removeprefix("listening on ").strip()
    finally:
        process.terminate()
        process.wait(timeout=20)


def aws(url: str, principal: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the AWS CLI against ``url`` as a demo principal (None: ``--no-sign-request``)."""
    env = os.environ | {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_PAGER": "",
    }
    sign = ["--no-sign-request"]
    if principal is not None:
        env["AWS_ACCESS_KEY_ID"] = DEMO_PRINCIPALS[principal].access_key_id
        env["AWS_SECRET_ACCESS_KEY"] = DEMO_PRINCIPALS[principal].secret_access_key
        sign = []
    command = [str(AWS_CLI), "bedrock-agent-runtime", *args, "--endpoint-url", url, *sign]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


def test_the_aws_cli_signs_as_a_demo_principal_and_the_policy_decides(iam_process: str) -> None:
    # The AWS CLI is a dev dependency: missing, it is a failure, not a skip.
    assert AWS_CLI.exists(), f"the AWS CLI is not installed at {AWS_CLI}"
    tags = "tenant=tenant-a,user=alice,app=shoe-assistant"
    created = aws(iam_process, "alice", "create-session", "--tags", tags)
    assert created.returncode == 0, created.stderr
    session_id = json.loads(created.stdout)["sessionId"]
    assert (
        aws(iam_process, "bob", "get-session", "--session-identifier", session_id).returncode == 0
    )
    denied = aws(iam_process, "carol", "get-session", "--session-identifier", session_id)
    assert "AccessDeniedException" in denied.stderr
    unsigned = aws(iam_process, None, "list-sessions")
    assert "MissingAuthenticationTokenException" in unsigned.stderr
