"""The operations that carry a step's payload: PutInvocationStep and GetInvocationStep.

A LangGraph saver calls them on every turn. Each runs its fast path first (``fast_paths.py``:
one or two statements straight on the DB-API cursor) and, when that finds nothing, the
step-by-step path, which finds the reason and raises the matching error. The payload is sealed
under the session's data key before either path of Put runs (``data_keys.py``), so both store
the same row, and opened after either path of Get found it. (ListInvocationSteps reads no
payload: it stays in ``models.py``, an index read.)

:class:`StepPayloads` is a part of :class:`~bedrock_sessions_local.models.SessionBackend` (its
base class), kept in a file of its own; it uses the backend's connection, data keys, quotas and
shared checks (``_session_row``, ``_writable_session_row``, ``_require_invocation``,
``_insert_and_touch``, ``_ttl_us`` and the clock ``_clock``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson

from bedrock_sessions_local import statements as sql
from bedrock_sessions_local.arns import SessionArns
from bedrock_sessions_local.config import Quotas
from bedrock_sessions_local.data_keys import MISSING, DataKeys
from bedrock_sessions_local.encryption import step_purpose
from bedrock_sessions_local.engine import Database
from bedrock_sessions_local.exceptions import (
    ResourceNotFoundException,
    ServiceQuotaExceededException,
)
from bedrock_sessions_local.fast_paths import FastPaths
from bedrock_sessions_local.tables import datetime_from_us, us_from_datetime


class StepPayloads:
    """PutInvocationStep and GetInvocationStep of a SessionBackend."""

    _arns: SessionArns
    _database: Database
    _fast: FastPaths
    _keys: DataKeys
    quotas: Quotas

    def put_invocation_step(
        self,
        session_identifier: str,
        *,
        invocation_identifier: str,
        invocation_step_time: datetime,
        payload: dict[str, Any],
        invocation_step_id: str | None = None,
    ) -> dict[str, Any]:
        """Store a step in an existing invocation of the session; return its invocationStepId.

        Raises:
            ResourceNotFoundException: no such session, or no such invocation in it.
            ConflictException: the session is ENDED or EXPIRED, or the step id is already used
                in the session.
            ServiceQuotaExceededException: the session holds its quota of steps.
            AccessDeniedException: the session's key is not usable.
        """
        session_id = self._arns.session_id(session_identifier)
        step_id = invocation_step_id or str(uuid.uuid4())
        self._keys.refresh(self._database)
        cipher = self._keys.cached(session_id)
        if cipher is MISSING:  # the session's first step in this process, or an unknown one
            with self._database.transaction() as conn:
                row = self._session_row(conn, session_identifier)
                cipher = self._keys.for_row(conn, row, writing=True)
        # The same row for both paths: the fast path binds it by the same column names.
        step = {
            "invocation_id": invocation_identifier,
            "step_id": step_id,
            "step_time_us": us_from_datetime(invocation_step_time),
            "payload_json": self._keys.seal(
                cipher, step_purpose(invocation_identifier, step_id), orjson.dumps(payload)
            ),
        }
        answer = {"invocationStepId": step_id}
        moment = self._clock()
        ttl_us = self._ttl_us()
        checks = {
            "sid": session_id,
            "now": moment,
            # expired when idle > TTL (see _status): a session is ACTIVE from this moment on
            "fresh_since": None if ttl_us is None else moment - ttl_us,
            "max_steps": self.quotas.max_steps_per_session,
        }
        try:
            with self._database.driver_transaction() as cursor:
                inserted = self._fast.put_step(cursor, {**step, **checks})
        except self._fast.integrity_error:
            inserted = False  # a duplicate step id: the step-by-step path words the conflict
        if inserted:
            return answer
        # Unknown session or invocation, not writable, at quota or a duplicate: find out which.
        with self._database.transaction() as conn:
            row = self._writable_session_row(conn, session_identifier, "add a step to")
            if row.step_count >= self.quotas.max_steps_per_session:
                raise ServiceQuotaExceededException(
                    f"Session {row.session_id} holds its quota of "
                    f"{self.quotas.max_steps_per_session} invocation steps."
                )
            self._require_invocation(conn, row, invocation_identifier)
            self._insert_and_touch(
                conn,
                sql.INSERT_STEP,
                {**step, "session_seq": row.seq},
                moment=moment,
                duplicate=f"Invocation step {step['step_id']} already exists in session "
                f"{session_identifier}.",
                new_steps=1,
            )
        return answer

    def get_invocation_step(
        self,
        session_identifier: str,
        *,
        invocation_identifier: str,
        invocation_step_id: str,
    ) -> dict[str, Any]:
        """Return the step with its payload.

        Raises:
            ResourceNotFoundException: no such session, invocation, or step in that invocation.
            AccessDeniedException: the session's key is not usable, or the payload does not
                decrypt (it was changed, or copied from another session or step).
        """
        session_id = self._arns.session_id(session_identifier)
        self._keys.refresh(self._database)
        with self._database.driver_transaction() as cursor:
            found = self._fast.get_step(
                cursor, session_id, invocation_identifier, invocation_step_id
            )
        if found is None:
            # Unknown session, invocation or step: the step-by-step path names the missing one.
            with self._database.transaction() as conn:
                session = self._session_row(conn, session_identifier)
                step = conn.execute(
                    sql.SELECT_STEP, {"s": session.seq, "step": invocation_step_id}
                ).first()
                if step is None or step.invocation_id != invocation_identifier:
                    self._require_invocation(conn, session, invocation_identifier)
                    raise ResourceNotFoundException(
                        f"Invocation step {invocation_step_id} not found in invocation "
                        f"{invocation_identifier} of session {session.session_id}."
                    )
            found = (
                session.session_id,
                *step,
                *(session.data_key, session.data_key_kek, session.data_key_kek_version),
                session.first_sealed_step_seq,
            )
        session_id, invocation_id, step_id, step_time_us, stored, seq, *key = found
        cipher = self._keys.for_columns(session_id, *key[:3])
        payload = self._keys.open(
            session_id,
            cipher,
            stored,
            step_purpose(invocation_id, step_id),
            plaintext_allowed=cipher is None or seq < key[3],
            what=f"payload of invocation step {step_id}",
        )
        return {
            "invocationStep": {
                "invocationId": invocation_id,
                "invocationStepId": step_id,
                "invocationStepTime": datetime_from_us(step_time_us),
                "payload": orjson.loads(payload),
                "sessionId": session_id,
            }
        }
