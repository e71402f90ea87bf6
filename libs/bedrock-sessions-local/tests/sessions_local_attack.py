"""Raw-socket attacks on a running local session service, bounded in count and time and sent to
127.0.0.1 only: oversize headers, targets and bodies, methods and framing HTTP/1.1 refuses, and
slow clients (slow-loris), all at once while ``/health`` is timed.

``test_sessions_local_attack.py`` runs :func:`run_attack` for a few seconds;
``benchmarks/attack_session_service.py`` runs it for longer with bigger payloads and prints the
numbers. The clients here are what an attacker writes, not what botocore sends: they stop
sending as soon as the service answers (a refusal comes before the request is read whole) and
read every answer until the service closes the connection.
"""

from __future__ import annotations

import os
import random
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import orjson

HOST = "127.0.0.1"
CHUNK = 256 * 1024

#: requests HTTP/1.1 refuses, each answered 400 SerializationException
MALFORMED = [
    b"GET /health HTTP/3.0\r\n\r\n",
    b"GET /he\x00alth HTTP/1.1\r\n\r\n",
    b"GET /health HTTP/1.1\r\nX: a\x00b\r\n\r\n",
    b"GET /health HTTP/1.1\r\nNo colon here\r\n\r\n",
    b"GET /health HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
    b"PUT /sessions/ HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    b"PUT /sessions/ HTTP/1.1\r\nContent-Length: two\r\n\r\n{}",
    b"PUT /sessions/ HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"PUT /sessions/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    b"GET /health HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    b"CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n",
]
#: request lines whose method HTTP/1.1 does not know, each answered 405
BAD_METHODS = [b"get /health HTTP/1.1\r\n\r\n", b"FOO /sessions/ HTTP/1.1\r\n\r\n", b"\x16\x03\x01"]


@contextmanager
def service_process(*flags: str, env: dict[str, str] | None = None) -> Iterator[tuple[int, int]]:
    """``python -m bedrock_sessions_local`` in memory on 127.0.0.1 and a free port, with
    ``flags``; yield its port and process id, and stop it with SIGTERM at the end."""
    command = [sys.executable, "-m", "bedrock_sessions_local", "--host", HOST, "--port", "0"]
    process = subprocess.Popen(
        [*command, "--db", ":memory:", *flags],
        stdout=subprocess.PIPE,
        text=True,
        env=None if env is None else os.environ | env,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line.startswith("listening on http://"):
            raise RuntimeError(f"the service did not start: {line!r}")
        yield int(line.strip().rsplit(":", 1)[1]), process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Answer:
    """One HTTP answer: status, lower-cased headers, body."""

    status: int
    headers: dict[str, str]
    body: bytes


def parse_answers(data: bytes) -> list[Answer]:
    """The whole answers in ``data`` (the service frames them by Content-Length); interim
    ``100 Continue`` answers are left out."""
    answers = []
    while True:
        head, blank, rest = data.partition(b"\r\n\r\n")
        if not blank:
            return answers
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", 0))
        if status >= 200:
            answers.append(Answer(status, headers, rest[:length]))
        data = rest[length:]


def aws_shape_problem(answer: Answer) -> str | None:
    """What makes ``answer`` neither a success nor a well-formed AWS error; None when nothing."""
    if answer.status >= 500:
        return f"a {answer.status}: {answer.body[:200]!r}"
    if answer.status < 400:
        return None
    code = answer.headers.get("x-amzn-errortype")
    if not code or answer.headers.get("content-type") != "application/json":
        return f"{answer.status} without the AWS headers: {answer.headers}"
    try:
        document = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        return f"{answer.status} with a body that is not JSON: {answer.body[:200]!r}"
    message = document.get("message") if isinstance(document, dict) else None
    if document.get("__type") != code or not isinstance(message, str) or not message:
        return f"{answer.status} with a body not in the AWS shape: {answer.body[:200]!r}"
    if not answer.headers.get("x-amzn-requestid"):
        return f"{answer.status} without x-amzn-RequestId"
    return None


def exchange(
    port: int,
    pieces: Iterable[bytes],
    *,
    timeout: float = 10.0,
    stop: threading.Event | None = None,
) -> list[Answer]:
    """Send ``pieces`` on a new connection to 127.0.0.1, stopping as soon as the service
    answers (or closes, or ``stop`` is set), then read answers until it closes the connection
    or ``timeout`` seconds pass (one more second once ``stop`` is set)."""
    deadline = time.monotonic() + timeout
    received = bytearray()
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        for piece in pieces:
            if (stop is not None and stop.is_set()) or time.monotonic() > deadline:
                break
            if select.select([sock], [], [], 0)[0]:
                break  # an answer (or the close) before the request was sent whole
            try:
                sock.sendall(piece)
            except OSError:
                break
        while (left := deadline - time.monotonic()) > 0:
            if stop is not None and stop.is_set():
                deadline = min(deadline, time.monotonic() + 1.0)
            sock.settimeout(min(left, 0.25))
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
    return parse_answers(bytes(received))


# ------------------------------------------------------------------------------ the attacks


def oversize_header(size: int) -> Iterator[bytes]:
    """A request with one header field of ``size`` bytes, sent in 256 KiB pieces."""
    yield b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: "
    for _ in range(0, size, CHUNK):
        yield b"a" * CHUNK
    yield b"\r\n\r\n"


def many_headers(count: int) -> Iterator[bytes]:
    """A request with ``count`` small header fields."""
    lines = b"".join(b"X-%d: v\r\n" % number for number in range(count))
    yield b"GET /health HTTP/1.1\r\nHost: x\r\n"
    for start in range(0, len(lines), CHUNK):
        yield lines[start : start + CHUNK]
    yield b"\r\n"


def oversize_target(size: int) -> Iterator[bytes]:
    """A request whose target (here a query string) is ``size`` bytes long."""
    yield b"GET /health?q="
    for _ in range(0, size, CHUNK):
        yield b"a" * CHUNK
    yield b" HTTP/1.1\r\nHost: x\r\n\r\n"


def oversize_body(size: int) -> Iterator[bytes]:
    """A CreateSession declaring and sending a body of ``size`` bytes."""
    yield b"PUT /sessions/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    yield b"Content-Length: %d\r\n\r\n" % size
    for _ in range(0, size, CHUNK):
        yield b" " * CHUNK


def oversize_chunked_body(size: int) -> Iterator[bytes]:
    """A CreateSession sending ``size`` bytes of chunked body (no size declared)."""
    yield b"PUT /sessions/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    for _ in range(0, size, CHUNK):
        yield b"%x\r\n%s\r\n" % (CHUNK, b" " * CHUNK)
    yield b"0\r\n\r\n"


def slow_request(interval: float, stop: threading.Event) -> Iterator[bytes]:
    """A request head sent one byte every ``interval`` seconds (slow-loris), never finished."""
    yield b"PUT /sessions/ HTTP/1.1\r\n"
    while not stop.is_set():
        if stop.wait(interval):
            return
        yield b"X"


def short_body() -> Iterator[bytes]:
    """A Content-Length larger than the body that follows: the rest never comes."""
    yield b"PUT /sessions/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}"


HEALTH = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


# ------------------------------------------------------------------------------ the run


@dataclass
class AttackSizes:
    """How big the oversize pieces are (bytes)."""

    header: int = 4 * 1024 * 1024
    headers_count: int = 5_000
    target: int = 1024 * 1024
    body: int = 64 * 1024 * 1024
    chunked_body: int = 4 * 1024 * 1024


#: what each kind of attack must be answered with
EXPECTED = {
    "oversize header": {431},
    "many headers": {431},
    "oversize target": {414},
    "oversize body": {413},
    "oversize chunked body": {413, 429},
    "bad method": {405},
    "malformed": {400},
    "short body": {408},
    "slow client": {408},
}


@dataclass
class AttackReport:
    """What a run saw: answers by kind and status, problems, /health latencies, memory."""

    seconds: float = 0.0
    answers: Counter[tuple[str, int]] = field(default_factory=Counter)
    unanswered: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    health_ms: list[float] = field(default_factory=list)
    health_failures: list[str] = field(default_factory=list)
    rss_start_mb: float | None = None
    rss_peak_mb: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, kind: str, answers: list[Answer], *, stopping: bool = False) -> None:
        """Count the answers to one attack of ``kind`` (none while ``stopping`` is no news)."""
        with self.lock:
            if not answers and not stopping:
                self.unanswered[kind] += 1
            for answer in answers:
                self.answers[kind, answer.status] += 1
                problem = aws_shape_problem(answer)
                if problem is not None:
                    self.problems.append(f"{kind}: {problem}")
                elif answer.status not in EXPECTED[kind]:
                    self.problems.append(f"{kind}: {answer.status}, expected {EXPECTED[kind]}")

    def health_percentile(self, fraction: float) -> float:
        ordered = sorted(self.health_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0

    def lines(self) -> list[str]:
        """The report as lines of text."""
        attacks = sum(self.answers.values()) + sum(self.unanswered.values())
        lines = [f"attack of {self.seconds:.1f} s, {attacks} requests"]
        for (kind, status), count in sorted(self.answers.items()):
            lines.append(f"  {kind:<22} {status}  x {count}")
        for kind, count in sorted(self.unanswered.items()):
            lines.append(f"  {kind:<22} closed without an answer x {count}")
        lines.append(
            f"/health: {len(self.health_ms)} calls, p50 {self.health_percentile(0.5):.1f} ms, "
            f"p99 {self.health_percentile(0.99):.1f} ms, max {max(self.health_ms, default=0):.1f}"
            f" ms, {len(self.health_failures)} failed"
        )
        if self.rss_peak_mb is not None:
            lines.append(
                f"server RSS: {self.rss_start_mb:.0f} MB at start, peak {self.rss_peak_mb:.0f} MB"
            )
        lines.append(f"5xx or not AWS-shaped or unexpected: {len(self.problems)}")
        lines += [f"  {problem}" for problem in self.problems[:10]]
        return lines


def yield_the_cpu() -> None:
    """Lower the calling thread's priority (Linux: a thread id is a process id to
    ``setpriority``), so that on a machine of few cores the service and the /health prober run
    first: an attacker elsewhere would not take the service's CPU; these clients share it."""
    with suppress(AttributeError, OSError):  # elsewhere the clients keep their priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 15)


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (Linux /proc)."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else 0.0


def run_attack(
    port: int,
    seconds: float,
    *,
    sizes: AttackSizes | None = None,
    attackers: int = 4,
    attack_pause: float = 0.02,
    slow_clients: int = 60,
    slow_interval: float = 0.2,
    health_interval: float = 0.02,
    answer_timeout: float = 10.0,
    max_attacks: int = 10_000,
    server_pid: int | None = None,
    seed: int = 7,
) -> AttackReport:
    """Attack the service on 127.0.0.1:``port`` for ``seconds`` (at most ``max_attacks``
    oversize or malformed requests, each of the ``attackers`` pausing ``attack_pause`` seconds
    between two) while timing ``/health``; return what happened.

    ``answer_timeout`` is how long a client waits for an answer: longer than the service's
    request timeout, so that slow clients and short bodies get their 408.
    """
    sizes = sizes or AttackSizes()
    kinds: dict[str, Callable[[random.Random], Iterable[bytes]]] = {
        "oversize header": lambda _: oversize_header(sizes.header),
        "many headers": lambda _: many_headers(sizes.headers_count),
        "oversize target": lambda _: oversize_target(sizes.target),
        "oversize body": lambda _: oversize_body(sizes.body),
        "oversize chunked body": lambda _: oversize_chunked_body(sizes.chunked_body),
        "bad method": lambda dice: [dice.choice(BAD_METHODS)],
        "malformed": lambda dice: [dice.choice(MALFORMED)],
    }
    report = AttackReport()
    stop = threading.Event()
    budget = threading.Semaphore(max_attacks)
    if server_pid is not None:
        report.rss_start_mb = report.rss_peak_mb = rss_mb(server_pid)

    def attacker(number: int) -> None:
        yield_the_cpu()
        dice = random.Random(seed + number)
        names = sorted(kinds)
        while not stop.wait(attack_pause) and budget.acquire(blocking=False):
            kind = dice.choice(names)
            answers = exchange(port, kinds[kind](dice), timeout=answer_timeout, stop=stop)
            report.record(kind, answers, stopping=stop.is_set())

    def slow_client(number: int) -> None:
        yield_the_cpu()
        # every fourth one sends a whole head and less body than it declared
        kind = "short body" if number % 4 == 3 else "slow client"
        while not stop.is_set():
            pieces = short_body() if kind == "short body" else slow_request(slow_interval, stop)
            answers = exchange(port, pieces, timeout=answer_timeout, stop=stop)
            report.record(kind, answers, stopping=stop.is_set())

    def memory() -> None:
        while not stop.wait(0.05) and server_pid is not None:
            report.rss_peak_mb = max(report.rss_peak_mb or 0.0, rss_mb(server_pid))

    threads = [
        threading.Thread(target=slow_client, args=(n,), daemon=True) for n in range(slow_clients)
    ]
    threads += [threading.Thread(target=attacker, args=(n,), daemon=True) for n in range(attackers)]
    threads.append(threading.Thread(target=memory))
    # /health is timed from a process of its own: in this one it would wait for the attackers'
    # threads (the GIL), and the time measured would be theirs, not the service's
    prober = subprocess.Popen(
        [sys.executable, __file__, str(port), str(seconds), str(health_interval)],
        stdout=subprocess.PIPE,
        text=True,
    )
    started = time.monotonic()
    for thread in threads:
        thread.start()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=15)
    report.seconds = time.monotonic() - started
    timed, _ = prober.communicate(timeout=30)
    report.health_ms, report.health_failures = orjson.loads(timed)
    return report


def time_health(port: int, seconds: float, interval: float) -> tuple[list[float], list[str]]:
    """Time ``GET /health`` on a new connection every ``interval`` for ``seconds``; return the
    latencies (ms) and what went wrong."""
    latencies: list[float] = []
    failures: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(interval)
        started = time.perf_counter()
        try:
            answers = exchange(port, [HEALTH], timeout=5.0)
        except OSError as error:
            failures.append(repr(error))
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        if [answer.status for answer in answers] != [200]:
            failures.append(f"answers {[answer.status for answer in answers]}")
    return latencies, failures


if __name__ == "__main__":  # the /health prober of run_attack: PORT SECONDS INTERVAL
    port_argument, seconds_argument, interval_argument = sys.argv[1:4]
    timed = time_health(int(port_argument), float(seconds_argument), float(interval_argument))
    sys.stdout.write(orjson.dumps(timed).decode())
