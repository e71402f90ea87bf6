"""Many clients at once: nothing is lost, ids stay unique, each session keeps its order."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from sessions_local_support import make_client

THREADS = 8
SESSIONS = 4
STEPS_PER_THREAD = 25


def test_threads_writing_steps_to_many_sessions_lose_nothing_and_keep_order(
    service_url: str,
) -> None:
    setup = make_client(service_url)
    sessions = []
    for _ in range(SESSIONS):
        sid = setup.create_session()["sessionId"]
        sessions.append((sid, setup.create_invocation(sessionIdentifier=sid)["invocationId"]))

    def writer(worker: int) -> list[tuple[str, str, str]]:
        client = make_client(service_url)
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
    service_url: str,
) -> None:
    sid = make_client(service_url).create_session()["sessionId"]
    invocation = str(uuid.uuid4())
    barrier = threading.Barrier(THREADS)

    def create(_: int) -> str:
        client = make_client(service_url, retries={"max_attempts": 1})
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
