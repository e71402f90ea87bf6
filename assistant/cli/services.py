"""`session-service` and `up`: start the local session service, and the whole app.

The assistant never imports the local service package: it starts it as a separate process
(`python -m bedrock_sessions_local`) and talks to it over HTTP, exactly as it talks to AWS.

Both start the service in IAM mode unless `--plain` (or `LOCAL_SESSION_IAM=false`): it checks
the SigV4 signature of every call against the credentials file `SESSION_CREDENTIALS_FILE`
(written on first run, one key per tenant, see `session_credentials.py`) and authorizes it with
the policy of `infra/session-store.yaml`, the one deployed to AWS.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from assistant.cli.errors import CliError
from assistant.cli.session_credentials import ensure_credentials, tenants_of
from assistant.settings import PROJECT_ROOT, Settings, get_settings

#: the template whose IAM policies the local service enforces (and CloudFormation deploys)
POLICY_TEMPLATE = PROJECT_ROOT / "infra" / "session-store.yaml"
USERS_FILE = PROJECT_ROOT / "data" / "users.json"
PLAIN_HELP = "check no signature or policy (also: LOCAL_SESSION_IAM=false)"


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
    service.add_argument("--plain", action="store_true", help=PLAIN_HELP)
    service.set_defaults(run=_run_session_service)

    up = subparsers.add_parser(
        "up",
        help="start the web app (and the local session service unless AWS is configured)",
    )
    up.add_argument("--port", type=int, default=8501, help="port of the web app")
    up.add_argument("--host", default="127.0.0.1", help="address of the web app")
    up.add_argument("--plain", action="store_true", help=f"local session service: {PLAIN_HELP}")
    up.set_defaults(run=_run_up)


def service_command(host: str, port: int, db: str, iam_flags: Sequence[str] = ()) -> list[str]:
    """The command line that starts the local session service (`iam_flags`: see `iam_flags`)."""
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
        *iam_flags,
    ]


def prepare_credentials(settings: Settings) -> tuple[Path, list[str]]:
    """Write the credentials file, or add the tenants it lacks; return its path and those."""
    credentials = Path(settings.session_credentials_file).resolve()
    try:
        added = ensure_credentials(
            credentials,
            tenants_of(USERS_FILE),
            tag_key=settings.session_role_tenant_tag_key,
            app_name=settings.app_name,
        )
    except (OSError, ValueError) as error:
        raise CliError(f"cannot prepare the credentials file {credentials}: {error}") from error
    if added:
        print(f"Wrote session-store keys for {', '.join(added)} to {credentials} (0600)")
    return credentials, added


def iam_flags(settings: Settings) -> list[str]:
    """The service's IAM-mode flags, after preparing the credentials file.

    Signatures are scoped to the app's region and the policy is resolved for the app's name
    and tenant tag key, so the service is told the same values.
    """
    return [
        "--iam-credentials",
        str(prepare_credentials(settings)[0]),
        "--iam-policy-template",
        str(POLICY_TEMPLATE),
        "--iam-parameter",
        f"AppName={settings.app_name}",
        "--iam-parameter",
        f"TenantTagKey={settings.session_role_tenant_tag_key}",
        "--region",
        settings.aws_region,
    ]


def checks_signatures(url: str, timeout: float = 2) -> bool:
    """True when the local service at `url` runs in IAM mode (it refuses an unsigned call)."""
    try:
        with urllib.request.urlopen(f"{url}/_local/config", timeout=timeout):
            return False
    except urllib.error.HTTPError as error:
        return error.code == 403
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _run_session_service(args: argparse.Namespace) -> int:
    settings = get_settings()
    iam = settings.local_session_iam and not args.plain
    flags = iam_flags(settings) if iam else []
    print(_mode_line(iam, settings), flush=True)  # before exec replaces this process
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # not an inherited SIG_IGN: Ctrl-C stops it
    os.execv(sys.executable, service_command(args.host, args.port, args.db, flags))
    return 0  # not reached


def demo_accounts_text() -> str:
    """The demo accounts and their passwords, for workshops (published values, not secrets)."""
    from argon2 import PasswordHasher
    from argon2.exceptions import VerificationError

    def is_demo(user: dict) -> bool:  # print only what is true of the seed file in use
        try:
            return PasswordHasher().verify(
                user.get("password_hash") or "", f"demo-{user['username']}"
            )
        except (VerificationError, ValueError):
            return False

    users = [u for u in json.loads(USERS_FILE.read_text(encoding="utf-8"))["users"] if is_demo(u)]
    if not users:
        return "No demo accounts: sign in with the accounts of your users file."
    lines = ["Demo accounts (DEMO passwords, published in the README; never reuse them):"]
    lines += [
        f"  {user['username']:<6} {user['role']:<8} {user['tenant']:<9} password: "
        f"demo-{user['username']}"
        for user in users
    ]
    return "\n".join(lines)


def _mode_line(iam: bool, settings: Settings) -> str:
    if iam:
        return (
            "Session store checks signatures and policy: each tenant signs with its own key "
            f"from {Path(settings.session_credentials_file).resolve()}, allowed only its own "
            "tenant's sessions by infra/session-store.yaml (--plain turns this off)"
        )
    return "Session store checks no signature or policy (plain mode): tenants are not kept apart"


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
    # Ctrl-C must stop `up` even when it was started with SIGINT ignored (a parent's setting is
    # inherited); a handler, unlike SIG_IGN, is not inherited by the children either.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    settings = get_settings()
    children: list[subprocess.Popen] = []
    env = dict(os.environ)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        if settings.uses_local_sessions and not settings.session_endpoint_url:
            url = settings.local_session_url
            iam = settings.local_session_iam and not args.plain
            if is_healthy(url):
                print(f"Using the local session service already running at {url}")
                # the app follows the service it finds, whoever started it and how
                iam = checks_signatures(url)
                if iam and prepare_credentials(settings)[1]:
                    print("Restart that service so that it knows the new keys")
            else:
                print(f"Starting the local session service at {url} ...")
                service = subprocess.Popen(
                    service_command(
                        settings.local_session_host,
                        settings.local_session_port,
                        settings.local_session_db,
                        iam_flags(settings) if iam else [],
                    ),
                    start_new_session=True,  # Ctrl-C reaches `up` only; it stops children once
                )
                children.append(service)
                wait_until_healthy(url, service)
            print(_mode_line(iam, settings))
            # the web app signs as each tenant with the keys of this file, or with no tenant key
            env["LOCAL_SESSION_IAM"] = "true" if iam else "false"
            env["SESSION_CREDENTIALS_FILE"] = str(Path(settings.session_credentials_file).resolve())
        store = "AWS" if settings.resolved_session_endpoint is None else "local"
        print(f"Session store: {store} ({settings.resolved_session_endpoint or 'AWS default'})")
        print(f"Web app: http://{args.host}:{args.port}  (Ctrl-C stops everything)")
        print(demo_accounts_text(), flush=True)
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
