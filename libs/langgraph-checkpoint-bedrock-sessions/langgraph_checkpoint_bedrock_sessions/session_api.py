"""`SessionApi`: every Bedrock session API call the checkpointer makes, and what it remembers.

The only module of the package that sends Bedrock session API calls. It knows nothing of
LangGraph: it creates invocations, puts, gets and lists steps of text blocks, and ends and
deletes sessions, remembering what one process can safely remember (immutable step bodies,
invocations known to exist; see ``cache``).

Every write is safe to retry, and this is the one place that makes it so. AWS may store a write
and then lose its answer (a 500, a dropped connection, a read timeout); botocore then sends the
same request again, which meets the stored write:

- PutInvocationStep always names its step (a fresh UUID when the caller has none, so botocore's
  retry repeats the same id). A 409 ``ConflictException`` is then read back: a step with that
  id in that invocation holding the same payload is our own write, a success; a different
  payload, or no such step, is a real conflict and raises.
- CreateInvocation uses the caller's id (the saver's are derived from the namespace and the
  checkpoint). A 409 is a success when that invocation exists in the session; otherwise (a
  session that takes no more writes) it raises.
- EndSession of an ended session and DeleteSession of a deleted one are fine already.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from langgraph_checkpoint_bedrock_sessions.cache import InvocationRegistry, StepCache

#: the service's largest page (MaxResults 1..1000)
MAX_PAGE = 1000


def error_code(error: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError (``ResourceNotFoundException``...); None for
    any other exception."""
    if not isinstance(error, ClientError):
        return None
    return error.response.get("Error", {}).get("Code")


class SessionApi:
    """Invocations and steps of Bedrock sessions, with a step body cache and known invocations.

    Thread-safe (the caches are); every method is one blocking boto3 call or none, plus one
    read-back when a write meets its own retried copy (see the module docstring). Every write
    is idempotent under retries.

    Args:
        client: a boto3 ``bedrock-agent-runtime`` client.
        step_cache_size: bodies kept in the LRU step cache.

    Example::

        import uuid

        import boto3

        client = boto3.client("bedrock-agent-runtime")
        api = SessionApi(client)
        session_id = client.create_session()["sessionId"]
        invocation_id = str(uuid.uuid4())
        api.ensure_invocation(session_id, invocation_id)  # True: created now, so empty
        step_id = api.put_step(session_id, invocation_id, None, ["hello"])
        api.step_texts(session_id, invocation_id, step_id)  # ("hello",), no call: cached
        api.end_and_delete_session(session_id)
    """

    def __init__(self, client: Any, *, step_cache_size: int = 4096) -> None:
        self.client = client
        self.cache = StepCache(step_cache_size)
        self.invocations = InvocationRegistry()

    def ensure_invocation(self, session_id: str, invocation_id: str) -> bool:
        """Make sure the invocation exists; True when this call created it (so it is empty).

        No call when the invocation is already known to exist. A ``ConflictException`` means
        the id is taken, or the session takes no more writes (ENDED, EXPIRED): one
        ListInvocationSteps on the invocation tells which. When it exists (another process
        made it, or botocore retried a create whose answer was lost) the answer is False: it
        may hold steps.

        Raises:
            botocore.exceptions.ClientError: any error but a ``ConflictException`` for an
                invocation that exists in the session.
        """
        if self.invocations.knows(session_id, invocation_id):
            return False
        try:
            self.client.create_invocation(sessionIdentifier=session_id, invocationId=invocation_id)
            created = True
        except ClientError as error:
            if error_code(error) != "ConflictException" or not self._invocation_exists(
                session_id, invocation_id
            ):
                raise
            created = False
        self.invocations.remember(session_id, invocation_id)
        return created

    def _invocation_exists(self, session_id: str, invocation_id: str) -> bool:
        """True when the session holds the invocation: listing its steps is a 404 if not.

        (Were a service ever to list nothing instead, the put that follows would still meet
        the session's own 409 and raise it.)
        """
        try:
            self.client.list_invocation_steps(
                sessionIdentifier=session_id, invocationIdentifier=invocation_id, maxResults=1
            )
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return False
            raise
        return True

    def put_step(
        self,
        session_id: str,
        invocation_id: str,
        step_id: str | None,
        texts: Sequence[str],
        *,
        step_time: datetime.datetime | None = None,
    ) -> str:
        """Store a step of text blocks; return its id (a new UUID when ``step_id`` is None).

        Idempotent: the request always names its step, so a retry of a put whose answer was
        lost meets the stored step (409), which is then read back; the same payload in the same
        invocation is this very write, and a success. The body goes to the cache.
        ``step_time`` defaults to now (UTC).

        Raises:
            botocore.exceptions.ClientError: the service refused the step; a
                ``ConflictException`` when the id holds another payload or is in another
                invocation, or the session takes no more writes.
        """
        step_id = step_id or str(uuid.uuid4())
        payload = {"contentBlocks": [{"text": text} for text in texts]}
        try:
            self.client.put_invocation_step(
                sessionIdentifier=session_id,
                invocationIdentifier=invocation_id,
                invocationStepId=step_id,
                invocationStepTime=step_time or datetime.datetime.now(datetime.UTC),
                payload=payload,
            )
        except ClientError as error:
            if error_code(error) != "ConflictException":
                raise
            stored = self._stored_payload(session_id, invocation_id, step_id)
            if stored != payload:
                if stored is not None:
                    error.add_note(f"step {step_id} already holds a different payload")
                raise
        self.cache.put((session_id, invocation_id, step_id), tuple(texts))
        return step_id

    def _stored_payload(
        self, session_id: str, invocation_id: str, step_id: str
    ) -> dict[str, Any] | None:
        """The payload of a step as stored (GetInvocationStep); None when there is no such step
        in the invocation."""
        try:
            step = self.client.get_invocation_step(
                sessionIdentifier=session_id,
                invocationIdentifier=invocation_id,
                invocationStepId=step_id,
            )["invocationStep"]
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return None
            raise
        return step["payload"]

    def step_texts(self, session_id: str, invocation_id: str, step_id: str) -> tuple[str, ...]:
        """Text blocks of a step, from the cache or GetInvocationStep; () when it is absent.

        Raises:
            botocore.exceptions.ClientError: any error but ``ResourceNotFoundException``.
        """
        key = (session_id, invocation_id, step_id)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        try:
            step = self.client.get_invocation_step(
                sessionIdentifier=session_id,
                invocationIdentifier=invocation_id,
                invocationStepId=step_id,
            )["invocationStep"]
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return ()
            raise
        texts = tuple(
            block["text"] for block in step["payload"].get("contentBlocks", []) if "text" in block
        )
        self.cache.put(key, texts)
        return texts

    def list_steps(
        self,
        session_id: str,
        invocation_id: str | None,
        *,
        max_results: int = MAX_PAGE,
        next_token: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of step summaries, newest first, and the next token.

        ``invocation_id=None`` lists the whole session. ([], None) for a missing session.

        Raises:
            botocore.exceptions.ClientError: any error but ``ResourceNotFoundException``.
        """
        request: dict[str, Any] = {"sessionIdentifier": session_id, "maxResults": max_results}
        if invocation_id is not None:
            request["invocationIdentifier"] = invocation_id
        if next_token:
            request["nextToken"] = next_token
        try:
            response = self.client.list_invocation_steps(**request)
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return [], None
            raise
        summaries = response.get("invocationStepSummaries", [])
        # a listed step proves its invocation exists: no CreateInvocation needed later
        for summary in summaries:
            self.invocations.remember(session_id, summary["invocationId"])
        return summaries, response.get("nextToken")

    def all_step_summaries(
        self, session_id: str, invocation_id: str | None
    ) -> list[dict[str, Any]]:
        """Every step summary of an invocation (or of the session), newest first, all pages."""
        summaries: list[dict[str, Any]] = []
        next_token: str | None = None
        while True:
            page, next_token = self.list_steps(session_id, invocation_id, next_token=next_token)
            summaries.extend(page)
            if not next_token:
                return summaries

    def end_and_delete_session(self, session_id: str) -> None:
        """EndSession then DeleteSession; a missing or already ended session is fine (so a
        retry of either call whose answer was lost is fine too).

        Forgets what was cached about the session.

        Raises:
            botocore.exceptions.ClientError: any other error of either call.
        """
        try:
            self.client.end_session(sessionIdentifier=session_id)
        except ClientError as error:
            code = error_code(error)
            if code == "ResourceNotFoundException":
                self.forget_session(session_id)
                return
            # ending an ENDED session: AWS does not document which code it answers
            if code not in ("ConflictException", "ValidationException"):
                raise
        try:
            self.client.delete_session(sessionIdentifier=session_id)
        except ClientError as error:
            if error_code(error) != "ResourceNotFoundException":
                raise
        self.forget_session(session_id)

    def forget_session(self, session_id: str) -> None:
        """Forget the cached bodies and known invocations of a deleted session."""
        self.cache.forget_session(session_id)
        self.invocations.forget_session(session_id)
