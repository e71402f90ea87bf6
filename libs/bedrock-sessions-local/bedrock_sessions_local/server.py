"""Run the ASGI app under uvicorn: in the foreground (the CLI) or on a background thread (tests).

Both paths bind the listening socket first and hand it to uvicorn, so a caller that asked for
port 0 knows the real port before the first request and no other process can take it between
"find a free port" and "listen". Both speak HTTP/1.1 through :class:`LimitedHttpProtocol`
(``protocol.py``): uvicorn's httptools protocol held to :class:`RequestLimits`, answering what it
refuses in the AWS error shape.
"""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from bedrock_sessions_local.access import AccessControl
from bedrock_sessions_local.config import MAX_REQUEST_BODY_BYTES, ServiceKnobs
from bedrock_sessions_local.limits import RequestLimits
from bedrock_sessions_local.models import SessionBackend
from bedrock_sessions_local.protocol import limited_protocol
from bedrock_sessions_local.responses import SessionServiceApp

#: connections the kernel queues before uvicorn accepts them
LISTEN_BACKLOG = 2048


def bind_socket(host: str, port: int) -> socket.socket:
    """Return a listening TCP socket on ``host:port`` (port 0 picks a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(LISTEN_BACKLOG)
    sock.set_inheritable(True)
    return sock


def build_server(
    app: SessionServiceApp,
    *,
    limits: RequestLimits | None = None,
    log_level: str = "warning",
) -> uvicorn.Server:
    """Return a uvicorn server for ``app`` under ``limits`` (default: :class:`RequestLimits`);
    access logs are off because they cost more than a request does.

    Raises:
        ValueError: the app's ``max_body_bytes`` passes ``limits.max_body_bytes_in_flight``.
    """
    limits = limits or RequestLimits()
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        http=limited_protocol(limits, app.max_body_bytes),
        # No WebSocket: the app does not speak it, and uvicorn answers an upgrade the app
        # leaves unanswered with a plain-text 500. Upgrades are refused with a 400 instead.
        ws="none",
        # Also the wait for the first request of a new connection (protocol.py).
        timeout_keep_alive=limits.idle_timeout_seconds,  # type: ignore[arg-type]
        server_header=False,
        # On SIGINT/SIGTERM, connections still open after 5 s are closed, not waited for.
        timeout_graceful_shutdown=5,
    )
    return uvicorn.Server(config)


class BackgroundService:
    """The service running on a daemon thread of this process, until :meth:`stop`.

    Attributes:
        url: the endpoint, e.g. ``http://127.0.0.1:53817``.
        backend, knobs: the live backend and knobs (tests may change knobs directly).

    ``access`` turns on IAM mode (signatures and policy, ``access.py``); None checks nothing.
    ``limits`` are the HTTP layer's (default: :class:`RequestLimits`).

    Raises:
        ValueError: ``max_body_bytes`` passes ``limits.max_body_bytes_in_flight``.
    """

    def __init__(
        self,
        backend: SessionBackend,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_body_bytes: int = MAX_REQUEST_BODY_BYTES,
        access: AccessControl | None = None,
        limits: RequestLimits | None = None,
    ) -> None:
        self.backend = backend
        self.knobs: ServiceKnobs = backend.knobs
        self.app = SessionServiceApp(backend, max_body_bytes=max_body_bytes, access=access)
        self._server = build_server(self.app, limits=limits)
        self._socket = bind_socket(host, port)
        bound_host, bound_port = self._socket.getsockname()[:2]
        shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        self.url = f"http://{shown_host}:{bound_port}"
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            daemon=True,
            name=f"bedrock-sessions-local:{bound_port}",
        )

    def start(self, timeout: float = 15.0) -> BackgroundService:
        """Start serving and return once the server accepts requests.

        Raises:
            RuntimeError: the server did not start within ``timeout`` seconds.
        """
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the local session service did not start on {self.url}")
            time.sleep(0.005)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to finish its requests and stop, then release the socket."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._socket.close()
