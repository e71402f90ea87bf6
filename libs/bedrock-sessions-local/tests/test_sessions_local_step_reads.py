"""GetInvocationStep and ListInvocationSteps on the backend: their fast paths (one joined
lookup, then the page) find steps only in the named session and invocation, and ENDED and
EXPIRED sessions stay readable."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from bedrock_sessions_local.config import ServiceKnobs
from bedrock_sessions_local.exceptions import ConflictException, ResourceNotFoundException
from bedrock_sessions_local.models import SessionBackend
from sessions_local_backend_support import TTL_US, FrozenClock, new_session, payload, put_step

# ------------------------------------------------------------------------ GetInvocationStep


def test_get_step_of_another_invocation_of_the_session_is_not_found(
    backend: SessionBackend,
) -> None:
    sid, first = new_session(backend)
    second = backend.create_invocation(sid)["invocationId"]
    step = put_step(backend, sid, first, text_value="in the first invocation")

    found = backend.get_invocation_step(sid, invocation_identifier=first, invocation_step_id=step)[
        "invocationStep"
    ]
    assert found["payload"] == payload("in the first invocation")
    assert (found["invocationId"], found["sessionId"]) == (first, sid)

    with pytest.raises(ResourceNotFoundException, match=f"step {step} not found in invocation"):
        backend.get_invocation_step(sid, invocation_identifier=second, invocation_step_id=step)
    with pytest.raises(ResourceNotFoundException, match=r"Invocation .* not found in session"):
        backend.get_invocation_step(
            sid, invocation_identifier=str(uuid.uuid4()), invocation_step_id=step
        )


def test_get_step_of_another_session_is_not_found(backend: SessionBackend) -> None:
    mine, my_invocation = new_session(backend)
    theirs, their_invocation = new_session(backend)
    their_step = put_step(backend, theirs, their_invocation, text_value="theirs")

    # their step, asked in my session, through my invocation and through theirs
    with pytest.raises(ResourceNotFoundException, match="not found in invocation"):
        backend.get_invocation_step(
            mine, invocation_identifier=my_invocation, invocation_step_id=their_step
        )
    with pytest.raises(ResourceNotFoundException, match="not found in session"):
        backend.get_invocation_step(
            mine, invocation_identifier=their_invocation, invocation_step_id=their_step
        )
    # and their session still answers it
    assert backend.get_invocation_step(
        theirs, invocation_identifier=their_invocation, invocation_step_id=their_step
    )["invocationStep"]["payload"] == payload("theirs")


def test_get_step_id_used_in_two_sessions_returns_each_sessions_own_step(
    backend: SessionBackend,
) -> None:
    # step ids are unique per session only: the join must pick the step of the named session
    shared = str(uuid.uuid4())
    first, first_invocation = new_session(backend)
    second, second_invocation = new_session(backend)
    put_step(backend, first, first_invocation, step_id=shared, text_value="first")
    put_step(backend, second, second_invocation, step_id=shared, text_value="second")
    for sid, invocation, expected in (
        (first, first_invocation, "first"),
        (second, second_invocation, "second"),
    ):
        step = backend.get_invocation_step(
            backend.session_arn(sid), invocation_identifier=invocation, invocation_step_id=shared
        )["invocationStep"]
        assert (step["payload"], step["sessionId"]) == (payload(expected), sid)


def test_get_step_of_ended_and_expired_sessions_is_readable(
    backend: SessionBackend, clock: FrozenClock
) -> None:
    ended, ended_invocation = new_session(backend)
    expired, expired_invocation = new_session(backend)
    ended_step = put_step(backend, ended, ended_invocation, text_value="ended")
    expired_step = put_step(backend, expired, expired_invocation, text_value="expired")
    backend.end_session(ended)
    clock.advance(TTL_US + 1)
    assert backend.get_session(expired)["sessionStatus"] == "EXPIRED"
    for sid, invocation, step, value in (
        (ended, ended_invocation, ended_step, "ended"),
        (expired, expired_invocation, expired_step, "expired"),
    ):
        got = backend.get_invocation_step(
            sid, invocation_identifier=invocation, invocation_step_id=step
        )
        assert got["invocationStep"]["payload"] == payload(value)


# ---------------------------------------------------------------------- ListInvocationSteps


def test_list_steps_of_an_unknown_invocation_or_session_is_not_found(
    backend: SessionBackend,
) -> None:
    sid, invocation = new_session(backend)
    _, elsewhere = new_session(backend)
    put_step(backend, sid, invocation)
    for unknown in (str(uuid.uuid4()), elsewhere):
        with pytest.raises(ResourceNotFoundException, match=f"Invocation {unknown} not found"):
            backend.list_invocation_steps(sid, invocation_identifier=unknown)
    with pytest.raises(ResourceNotFoundException, match=r"Session .* not found"):
        backend.list_invocation_steps(str(uuid.uuid4()))
    with pytest.raises(ResourceNotFoundException, match=r"Session .* not found"):
        backend.list_invocation_steps(str(uuid.uuid4()), invocation_identifier=invocation)


def test_list_steps_of_an_ended_session_stays_readable_page_by_page(
    tmp_path: Path,
) -> None:
    backend = SessionBackend(str(tmp_path / "ended.db"), knobs=ServiceKnobs())
    try:
        sid, first = new_session(backend)
        second = backend.create_invocation(sid)["invocationId"]
        written = [put_step(backend, sid, (first, second)[n % 2]) for n in range(7)]
        backend.end_session(sid)
        assert backend.get_session(sid)["sessionStatus"] == "ENDED"

        def all_pages(invocation: str | None) -> list[str]:
            steps: list[str] = []
            token = None
            while True:
                extra = {"next_token": token} if token else {}
                page = backend.list_invocation_steps(
                    sid, invocation_identifier=invocation, max_results=2, **extra
                )
                steps += [s["invocationStepId"] for s in page["invocationStepSummaries"]]
                assert all(s["sessionId"] == sid for s in page["invocationStepSummaries"])
                token = page.get("nextToken")
                if token is None:
                    return steps

        assert all_pages(None) == written[::-1]
        assert all_pages(first) == written[0::2][::-1]
        assert all_pages(second) == written[1::2][::-1]
        with pytest.raises(ConflictException, match="ENDED"):
            put_step(backend, sid, first)
    finally:
        backend.close()
