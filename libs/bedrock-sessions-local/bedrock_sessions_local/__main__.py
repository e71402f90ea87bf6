"""Command line: ``python -m bedrock_sessions_local --host 127.0.0.1 --port 8766 [...]``.

Prints ``listening on http://HOST:PORT`` once the server accepts requests, and stops
gracefully (finishing requests in flight) on SIGINT or SIGTERM, exiting 0.

IAM mode: ``--iam-credentials FILE --iam-policy-template infra/session-store.yaml
[--iam-parameter K=V ...]``. ``--write-demo-credentials FILE`` writes the demo credentials
file (0600) and exits.

Session data is encrypted with a keyring next to the database (``--keyring``, created 0600
on first start), or with AWS KMS (``--kms-endpoint-url``); ``--no-encryption`` keeps new data
in plaintext. ``python -m bedrock_sessions_local keys ...`` manages the keyring
(``keys_command.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from bedrock_sessions_local.access import AccessControl, IamMode
from bedrock_sessions_local.config import (
    DEFAULT_ACCOUNT,
    DEFAULT_PAGE_SIZE,
    DEFAULT_REGION,
    MAX_REQUEST_BODY_BYTES,
    ServiceKnobs,
)
from bedrock_sessions_local.credentials import write_demo_credentials
from bedrock_sessions_local.encryption import KMS_DEFAULT_ALIAS, Encryption
from bedrock_sessions_local.limits import RequestLimits
from bedrock_sessions_local.models import SessionBackend
from bedrock_sessions_local.responses import SessionServiceApp
from bedrock_sessions_local.server import bind_socket, build_server


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a probability between 0 and 1")
    return value


def _seed(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must be an integer >= 0")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0 or value != value:
        raise argparse.ArgumentTypeError(f"{text} must be >= 0")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be an integer > 0")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a finite number > 0")
    return value


def _parameter(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    return name, value


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the local session service."""
    parser = argparse.ArgumentParser(
        prog="python -m bedrock_sessions_local",
        description="Local Amazon Bedrock Session Management service (the 14 session "
        "operations of bedrock-agent-runtime over REST-JSON). Point boto3, "
        "BedrockSessionSaver or the AWS CLI at it with --endpoint-url or "
        "AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME.",
        epilog="Keys of the local keyring: python -m bedrock_sessions_local keys --help",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=8766, help="port (0 picks a free one)")
    parser.add_argument(
        "--db",
        default="var/bedrock-sessions.db",
        help="SQLite file, ':memory:', or any SQLAlchemy URL (default: %(default)s)",
    )
    parser.add_argument("--region", default=DEFAULT_REGION, help="region in session ARNs")
    parser.add_argument("--account", default=DEFAULT_ACCOUNT, help="account id in session ARNs")
    parser.add_argument(
        "--latency-ms", type=_non_negative, default=0.0, help="latency added to every API call"
    )
    parser.add_argument(
        "--throttle-rate",
        type=_rate,
        default=0.0,
        help="probability of an injected ThrottlingException (429)",
    )
    parser.add_argument(
        "--internal-error-rate",
        type=_rate,
        default=0.0,
        help="probability of an injected InternalServerException (500), nothing done",
    )
    parser.add_argument(
        "--commit-error-rate",
        type=_rate,
        default=0.0,
        help="probability that a call which succeeded (and committed) answers "
        "InternalServerException (500)",
    )
    parser.add_argument(
        "--commit-drop-rate",
        type=_rate,
        default=0.0,
        help="probability that a call which succeeded (and committed) has its connection "
        "reset halfway through the answer",
    )
    parser.add_argument(
        "--slow-response-rate",
        type=_rate,
        default=0.0,
        help="probability that a call which succeeded (and committed) answers only after "
        "--slow-response-ms",
    )
    parser.add_argument(
        "--slow-response-ms",
        type=_non_negative,
        default=0.0,
        help="delay of a slow answer (awaited: it never blocks other requests)",
    )
    parser.add_argument(
        "--fault-seed",
        type=_seed,
        default=None,
        help="seed of the fault dice, for a repeatable sequence (default: from the OS)",
    )
    parser.add_argument(
        "--session-ttl-seconds",
        type=_non_negative,
        default=None,
        help="idle time after which ACTIVE sessions read as EXPIRED (default: never)",
    )
    parser.add_argument(
        "--default-page-size",
        type=int,
        default=DEFAULT_PAGE_SIZE,
        help="page size of List calls without maxResults (default: %(default)s)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=MAX_REQUEST_BODY_BYTES,
        help="largest request body accepted (default: %(default)s)",
    )
    _add_limits(parser)
    parser.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"]
    )
    encryption = parser.add_argument_group(
        "encryption",
        "Session data (step payloads, metadata) is encrypted with a data key per session, "
        "wrapped by a key of the keyring (or of AWS KMS).",
    )
    encryption.add_argument(
        "--keyring",
        metavar="FILE",
        help="the keyring file (0600; created with the default key when absent; default: "
        "next to a SQLite --db, e.g. var/bedrock-sessions.keyring)",
    )
    encryption.add_argument(
        "--no-encryption",
        action="store_true",
        help="store new sessions in plaintext (sessions encrypted before stay readable while "
        "their keyring is there)",
    )
    encryption.add_argument(
        "--kms-endpoint-url",
        metavar="URL",
        help="use AWS KMS at this endpoint instead of the keyring (credentials from the "
        "environment, region from --region)",
    )
    encryption.add_argument(
        "--kms-default-key",
        metavar="KEY",
        help=f"KMS key of sessions that name none (default: {KMS_DEFAULT_ALIAS}, created "
        "when absent)",
    )
    encryption.add_argument(
        "--kms-cache-seconds",
        type=_non_negative,
        default=300.0,
        help="how long an unwrapped data key is reused before KMS is asked again "
        "(default: %(default)s)",
    )
    iam = parser.add_argument_group(
        "IAM mode",
        "Verify SigV4 signatures against a credentials file and authorize every call with the "
        "IAM policies of a CloudFormation template (off unless both files are given).",
    )
    iam.add_argument(
        "--iam-credentials",
        metavar="FILE",
        help="JSON file of access keys, principals, principal tags and admin flags",
    )
    iam.add_argument(
        "--iam-policy-template",
        metavar="FILE",
        help="CloudFormation template whose IAM policies are enforced (infra/session-store.yaml)",
    )
    iam.add_argument(
        "--iam-parameter",
        metavar="KEY=VALUE",
        type=_parameter,
        action="append",
        default=[],
        help="a template parameter (repeatable; others take their default)",
    )
    iam.add_argument(
        "--write-demo-credentials",
        metavar="FILE",
        help="write the demo credentials file (0600) and exit",
    )
    return parser


#: the HTTP limits as flags: RequestLimits field, type, what it bounds (the flag is the field's
#: name with dashes; its default is RequestLimits's)
LIMIT_FLAGS = (
    (
        "max_header_bytes",
        _positive_int,
        "header fields of one request, names and values; more is 431",
    ),
    ("max_url_bytes", _positive_int, "request target, path and query string; longer is 414"),
    ("request_timeout_seconds", _positive, "from a request's first byte to its last; later is 408"),
    ("idle_timeout_seconds", _positive, "a connection with no request in progress closes after it"),
    (
        "max_connections",
        _positive_int,
        "open connections; one more closes the one waiting longest for its client",
    ),
    ("max_body_bytes_in_flight", _positive_int, "request body bytes held at once; more is 429"),
)


def _add_limits(parser: argparse.ArgumentParser) -> None:
    defaults = RequestLimits()
    limits = parser.add_argument_group(
        "HTTP limits",
        "Enforced while a request arrives, before it is read whole; each refusal is answered in "
        "the AWS error shape (see the README's choices table).",
    )
    for field, kind, bounds in LIMIT_FLAGS:
        limits.add_argument(
            f"--{field.replace('_', '-')}",
            type=kind,
            default=getattr(defaults, field),
            help=f"{bounds} (default: %(default)s)",
        )


def main(argv: list[str] | None = None) -> int:
    """Run the service until SIGINT or SIGTERM; return the process exit code.

    ``keys ...`` runs the keyring command instead (``keys_command.py``).
    """
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["keys"]:
        from bedrock_sessions_local import keys_command

        return keys_command.main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.write_demo_credentials:
        print(f"wrote {write_demo_credentials(args.write_demo_credentials)}")
        return 0
    if not 1 <= args.default_page_size <= 1000:
        print("--default-page-size must be between 1 and 1000", file=sys.stderr)
        return 2
    limits = RequestLimits(**{field: getattr(args, field) for field, _, _ in LIMIT_FLAGS})
    try:
        limits.check_body_limit(args.max_body_bytes)
    except ValueError as error:
        print(f"--max-body-bytes: {error}", file=sys.stderr)
        return 2
    if bool(args.iam_credentials) != bool(args.iam_policy_template) or (
        args.iam_parameter and not args.iam_credentials
    ):
        print(
            "IAM mode needs both --iam-credentials and --iam-policy-template "
            "(--iam-parameter only with them)",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    knobs = ServiceKnobs(
        latency_ms=args.latency_ms,
        throttle_rate=args.throttle_rate,
        internal_error_rate=args.internal_error_rate,
        commit_error_rate=args.commit_error_rate,
        commit_drop_rate=args.commit_drop_rate,
        slow_response_rate=args.slow_response_rate,
        slow_response_ms=args.slow_response_ms,
        session_ttl_seconds=args.session_ttl_seconds,
        fault_seed=args.fault_seed,
    )
    try:
        access = None
        if args.iam_credentials:
            mode = IamMode(args.iam_credentials, args.iam_policy_template, dict(args.iam_parameter))
            access = AccessControl.from_mode(mode, region=args.region, account=args.account)
        encryption = Encryption(
            enabled=not args.no_encryption,
            keyring=args.keyring,
            kms_endpoint_url=args.kms_endpoint_url,
            kms_default_key_id=args.kms_default_key,
            kms_cache_seconds=args.kms_cache_seconds,
        )
        backend = SessionBackend(
            args.db,
            region=args.region,
            account=args.account,
            knobs=knobs,
            default_page_size=args.default_page_size,
            encryption=encryption,
        )
        sock = bind_socket(args.host, args.port)
    except Exception as error:  # a bad --db, IAM file, keyring or port in use: one line
        print(f"cannot start the local session service: {error}", file=sys.stderr)
        return 1
    app = SessionServiceApp(backend, max_body_bytes=args.max_body_bytes, access=access)
    server = build_server(app, limits=limits, log_level=args.log_level)
    host, port = sock.getsockname()[:2]

    async def announce() -> None:
        while not server.started and not server.should_exit:
            await asyncio.sleep(0.005)
        if server.started:
            shown = f"[{host}]" if ":" in host else host
            print(f"listening on http://{shown}:{port}", flush=True)

    async def serve() -> None:
        announcer = asyncio.create_task(announce())
        await server.serve(sockets=[sock])
        announcer.cancel()

    # uvicorn re-raises the signal that stopped it once it has shut down; with these handlers
    # installed that re-raise is a no-op and the process exits 0 instead of dying by signal.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda *_: None)
    loop_factory = server.config.get_loop_factory()
    if loop_factory is None:
        asyncio.run(serve())
    else:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
