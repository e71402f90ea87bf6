"""Many writers at once, through boto3 and straight on the backend: nothing is lost, ids stay
unique, the step counter and the quota hold, each session keeps its newest-first order."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bedrock_sessions_local.config import Quotas, ServiceKnobs
from bedrock_sessions_local.exceptions import ServiceQuotaExceededException
from bedrock_sessions_local.models import SessionBackend
from bedrock_sessions_local.testing import running_service
from sessions_local_backend_support import new_session, payload, put_step, session_row
from sessions_local_support import make_client

THREADS = 8
SESSIONS = 4
STEPS_PER_THREAD = 25


def test_threads_writing_steps_to_many_sessions_lose_nothing_and_keep_order(
    session_service_url: str,
) -> None:
    setup = make_client(session_service_url)
    sessions = []
    for _ in range(SESSIONS):
        sid = setup.create_session()["sessionId"]
        sessions.append((sid, setup.create_invocation(sessionIdentifier=sid)["invocationId"]))

    def writer(worker: int) -> list[tuple[str, str, str]]:
        client = make_client(session_service_url)
        written = []
        for n in range(STEPS_PER_THREAD):
            sid, invocation = sessions[(worker * 7 + n) % SESSIONS]
            text = f"{worker}:{n}"
            step = client.put_invocation_step(
                sessionIdentifier=sid,
                invocationIdentifier=invocation,
                invocationStepTime=datetime.now(UTC),
                payload={"contentBlocks": [{"text": text}]},
            )["invocationStepId"]
            written.append((sid, step, text))
        return written

    with ThreadPoolExecutor(THREADS) as pool:
        written = [w for batch in pool.map(writer, range(THREADS)) for w in batch]

    assert len({step for _, step, _ in written}) == THREADS * STEPS_PER_THREAD
    for sid, invocation in sessions:
        listed = setup.list_invocation_steps(sessionIdentifier=sid, maxResults=1000)
        steps = [s["invocationStepId"] for s in listed["invocationStepSummaries"]]
        expected = {step for s, step, _ in written if s == sid}
        assert set(steps) == expected and len(steps) == len(expected)
        # each writer's own steps appear newest first, in the reverse of its write order
        for worker in range(THREADS):
            mine = [step for s, step, text in written if s == sid and text.startswith(f"{worker}:")]
            positions = [steps.index(step) for step in mine]
            assert positions == sorted(positions, reverse=True)
        # payloads are intact
        texts = {step: text for s, step, text in written if s == sid}
        for step in steps[:5]:
            got = setup.get_invocation_step(
                sessionIdentifier=sid, invocationIdentifier=invocation, invocationStepId=step
            )
            assert got["invocationStep"]["payload"]["contentBlocks"][0]["text"] == texts[step]


def test_racing_creates_of_one_invocation_id_give_one_success_and_conflicts(
    session_service_url: str,
) -> None:
    sid = make_client(session_service_url).create_session()["sessionId"]
    invocation = str(uuid.uuid4())
    barrier = threading.Barrier(THREADS)

    def create(_: int) -> str:
        client = make_client(session_service_url, retries={"max_attempts": 1})
        barrier.wait()
        try:
            client.create_invocation(sessionIdentifier=sid, invocationId=invocation)
        except ClientError as error:
            return error.response["Error"]["Code"]
        return "created"

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes: list[Any] = list(pool.map(create, range(THREADS)))
    assert outcomes.count("created") == 1
    assert outcomes.count("ConflictException") == THREADS - 1


# ------------------------------------------------- one session, through the backend and boto3


def assert_newest_first(listed: list[str], timings: dict[str, tuple[int, int]]) -> None:
    """Assert the order is newest first for every pair of puts whose order is known.

    When one put returned before another started, the later put is the newer step and must be
    listed first (puts that overlapped in time may be listed either way).
    """
    position = {step: index for index, step in enumerate(listed)}
    for earlier, (_, earlier_end) in timings.items():
        for later, (later_start, _) in timings.items():
            if earlier_end < later_start:
                assert position[later] < position[earlier], (earlier, later)


def test_threads_putting_into_one_session_through_the_backend_lose_nothing(
    tmp_path: Path,
) -> None:
    threads, per_thread = 6, 40
    backend = SessionBackend(
        str(tmp_path / "sessions.db"),
        knobs=ServiceKnobs(),
        quotas=Quotas(max_steps_per_session=threads * per_thread),
    )
    try:
        sid, invocation = new_session(backend)
        timings: dict[str, tuple[int, int]] = {}
        written: dict[int, list[str]] = {}
        go = threading.Barrier(threads)

        def writer(worker: int) -> None:
            go.wait()
            mine = []
            for n in range(per_thread):
                # half the steps name their id, half let the service pick one
                step_id = str(uuid.uuid4()) if n % 2 else None
                start = time.perf_counter_ns()
                step = put_step(backend, sid, invocation, step_id, f"{worker}:{n}")
                timings[step] = (start, time.perf_counter_ns())
                mine.append(step)
            written[worker] = mine

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(writer, range(threads)))

        listed = [
            s["invocationStepId"]
            for s in backend.list_invocation_steps(sid, max_results=1000)["invocationStepSummaries"]
        ]
        assert len(listed) == len(set(listed)) == threads * per_thread
        assert set(listed) == set(timings)
        assert_newest_first(listed, timings)
        for worker, mine in written.items():
            positions = [listed.index(step) for step in mine]
            assert positions == sorted(positions, reverse=True), worker
        # the step counter saw every put: the quota is exactly full
        assert session_row(backend, sid)[0] == threads * per_thread
        with pytest.raises(ServiceQuotaExceededException):
            put_step(backend, sid, invocation)
    finally:
        backend.close()


def test_threads_racing_for_the_last_steps_of_the_quota_get_exactly_the_quota(
    tmp_path: Path,
) -> None:
    quota, threads, attempts = 50, 5, 20
    backend = SessionBackend(
        str(tmp_path / "sessions.db"),
        knobs=ServiceKnobs(),
        quotas=Quotas(max_steps_per_session=quota),
    )
    try:
        sid, invocation = new_session(backend)
        go = threading.Barrier(threads)

        def writer(_: int) -> tuple[int, int]:
            go.wait()
            stored = refused = 0
            for _ in range(attempts):
                try:
                    put_step(backend, sid, invocation)
                    stored += 1
                except ServiceQuotaExceededException:
                    refused += 1
            return stored, refused

        with ThreadPoolExecutor(threads) as pool:
            results = list(pool.map(writer, range(threads)))
        assert sum(stored for stored, _ in results) == quota
        assert sum(refused for _, refused in results) == threads * attempts - quota
        listed = backend.list_invocation_steps(sid, max_results=1000)["invocationStepSummaries"]
        assert len(listed) == quota
        assert session_row(backend, sid)[0] == quota
    finally:
        backend.close()


def test_threads_putting_into_one_session_through_boto3_lose_nothing(
    tmp_path: Path,
) -> None:
    threads, per_thread = 4, 15
    with running_service(db=tmp_path / "sessions.db") as url:
        setup = make_client(url)
        sid = setup.create_session()["sessionId"]
        invocation = setup.create_invocation(sessionIdentifier=sid)["invocationId"]
        # boto3 client creation is not thread-safe: build them all here
        clients = [make_client(url) for _ in range(threads)]
        timings: dict[str, tuple[int, int]] = {}
        go = threading.Barrier(threads)

        def writer(worker: int) -> None:
            go.wait()
            for _ in range(per_thread):
                start = time.perf_counter_ns()
                step = clients[worker].put_invocation_step(
                    sessionIdentifier=sid,
                    invocationIdentifier=invocation,
                    invocationStepTime=datetime.now(UTC),
                    payload=payload("over the wire"),
                )["invocationStepId"]
                timings[step] = (start, time.perf_counter_ns())

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(writer, range(threads)))

        listed: list[str] = []
        for page in setup.get_paginator("list_invocation_steps").paginate(
            sessionIdentifier=sid, PaginationConfig={"PageSize": 7}
        ):
            listed += [s["invocationStepId"] for s in page["invocationStepSummaries"]]
        assert len(listed) == len(set(listed)) == threads * per_thread
        assert set(listed) == set(timings)
        assert_newest_first(listed, timings)
