"""The backend of the local Bedrock Session Management service: behaviour and state, no HTTP.

:class:`SessionBackend` implements the 14 operations as plain methods that take Python values
(already validated against the service model by the wire layer) and return dicts shaped like the
operation's output, with ``datetime`` values, as boto3 would return them. It reads top to bottom:
sessions, invocations, steps (Put and Get in ``steps.py``), tags, then the checks the
operations share.

Where the rest lives: the tables and timestamps in ``tables.py``, the SQL of the step-by-step
path in ``statements.py``, PutInvocationStep and GetInvocationStep in ``steps.py``, the hot
path of those and ListInvocationSteps in ``fast_paths.py``, the data keys that encrypt session
data in ``data_keys.py``, the connection and the WAL checkpointer in ``engine.py``, tags in
``tagging.py`` and ARNs in ``arns.py``.

Example::

    backend = SessionBackend("sqlite:///sessions.db")
    session = backend.create_session(session_metadata={"user": "ana"})
    backend.create_invocation(session["sessionId"], invocation_id=None, description="turn 1")
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import ClauseElement
from sqlmodel import SQLModel

from bedrock_sessions_local import statements as sql
from bedrock_sessions_local.arns import SessionArns
from bedrock_sessions_local.config import (
    DEFAULT_ACCOUNT,
    DEFAULT_PAGE_SIZE,
    DEFAULT_REGION,
    Quotas,
    ServiceKnobs,
)
from bedrock_sessions_local.data_keys import data_keys_for
from bedrock_sessions_local.encryption import (
    METADATA,
    Encryption,
    WrappedKey,
    description_purpose,
)
from bedrock_sessions_local.engine import Database, engine_for
from bedrock_sessions_local.exceptions import (
    ConflictException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
)
from bedrock_sessions_local.fast_paths import FastPaths, step_list_scope
from bedrock_sessions_local.pagination import keyset_page, seq_before
from bedrock_sessions_local.steps import StepPayloads
from bedrock_sessions_local.tables import (
    ACTIVE,
    ENDED,
    EXPIRED,
    TABLES,
    add_missing_columns,
    datetime_from_us,
    now_us,  # the backend's only clock: tests freeze it by patching models.now_us
)
from bedrock_sessions_local.tagging import add_tags, merge_tags, remove_tags, tags_of


class SessionBackend(StepPayloads):
    """The 14 session operations over a SQL database (PutInvocationStep and GetInvocationStep
    in ``steps.py``).

    Methods take snake_case arguments named after the operation's input members and return a
    dict of the output members (``datetime`` for timestamps), or raise one of the exceptions in
    :mod:`bedrock_sessions_local.exceptions`. Each call is one transaction on one long-lived
    connection, serialised by a lock, so a backend may be shared between threads (the server
    calls it from its event loop thread only).
    """

    def __init__(
        self,
        db: str = "sessions.db",
        *,
        region: str = DEFAULT_REGION,
        account: str = DEFAULT_ACCOUNT,
        knobs: ServiceKnobs | None = None,
        quotas: Quotas | None = None,
        default_page_size: int = DEFAULT_PAGE_SIZE,
        encryption: Encryption | None = None,
    ) -> None:
        self.engine = engine_for(db)
        self.region = region
        self.account = account
        self.knobs = knobs or ServiceKnobs()
        self.quotas = quotas or Quotas()
        self.default_page_size = default_page_size
        self._arns = SessionArns(region, account)
        SQLModel.metadata.create_all(self.engine, tables=TABLES)
        add_missing_columns(self.engine)  # a database of an older version, upgraded in place
        self._database = Database(self.engine)
        self._fast = FastPaths(self.engine.dialect)
        # Envelope encryption (on unless Encryption(enabled=False)): see data_keys.py.
        self._keys = data_keys_for(encryption or Encryption(), db, self._arns)
        self._keys.rewrap_stale(self._database)  # keys rotated while the service was down

    def close(self) -> None:
        """Release the database connections (the last one checkpoints the WAL on close)."""
        self._database.close()

    # ----------------------------------------------------------------------------- sessions

    def create_session(
        self,
        *,
        session_metadata: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
        encryption_key_arn: str | None = None,
    ) -> dict[str, Any]:
        """Create an ACTIVE session; return createdAt, sessionArn, sessionId, sessionStatus.

        Raises:
            ServiceQuotaExceededException: more than ``max_sessions`` sessions, or too many tags.
            AccessDeniedException: the ``encryption_key_arn`` key is unknown.
            ValidationException: that key is disabled or pending deletion.
        """
        if tags is not None and len(tags) > self.quotas.max_tags_per_session:
            raise ServiceQuotaExceededException(
                f"A session can have at most {self.quotas.max_tags_per_session} tags."
            )
        session_id = str(uuid.uuid4())
        moment = now_us()
        self._keys.refresh(self._database)
        cipher, wrapped = self._keys.for_new_session(session_id, encryption_key_arn)
        with self._database.transaction() as conn:
            if conn.execute(sql.COUNT_SESSIONS).scalar_one() >= self.quotas.max_sessions:
                raise ServiceQuotaExceededException(
                    f"The service holds its quota of {self.quotas.max_sessions} sessions; "
                    "delete ended sessions first."
                )
            created = conn.execute(
                sql.INSERT_SESSION,
                {
                    "session_id": session_id,
                    "status": ACTIVE,
                    "created_at_us": moment,
                    "last_updated_at_us": moment,
                    "encryption_key_arn": encryption_key_arn,
                    "metadata_json": self._keys.seal(
                        cipher, METADATA, orjson.dumps(session_metadata or {})
                    ),
                    "invocation_count": 0,
                    "step_count": 0,
                    **_key_columns(wrapped),
                },
            )
            add_tags(conn, created.inserted_primary_key[0], tags or {})
        self._keys.remember(session_id, cipher)
        return {
            "createdAt": datetime_from_us(moment),
            "sessionArn": self.session_arn(session_id),
            "sessionId": session_id,
            "sessionStatus": ACTIVE,
        }

    def get_session(self, session_identifier: str) -> dict[str, Any]:
        """Return the session's details, metadata and encryption key ARN (if one was set).

        Raises:
            ResourceNotFoundException: no such session in this region and account.
            AccessDeniedException: the session's key is not usable, or its metadata does not
                decrypt.
        """
        self._keys.refresh(self._database)
        with self._database.transaction() as conn:
            row = self._session_row(conn, session_identifier)
            cipher = self._keys.for_row(conn, row, writing=False)
        metadata = self._keys.open(
            row.session_id,
            cipher,
            row.metadata_json,
            METADATA,
            plaintext_allowed=False,
            what="metadata",
        )
        result = {
            "createdAt": datetime_from_us(row.created_at_us),
            "lastUpdatedAt": datetime_from_us(row.last_updated_at_us),
            "sessionArn": self.session_arn(row.session_id),
            "sessionId": row.session_id,
            "sessionMetadata": orjson.loads(metadata),
            "sessionStatus": self._status(row.status, row.last_updated_at_us),
        }
        if row.encryption_key_arn is not None:
            result["encryptionKeyArn"] = row.encryption_key_arn
        return result

    def update_session(
        self, session_identifier: str, *, session_metadata: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Replace the session metadata (absent leaves it unchanged) and touch lastUpdatedAt.

        Raises:
            ResourceNotFoundException: no such session.
            ConflictException: the session is ENDED or EXPIRED.
            AccessDeniedException: the session's key is not usable.
        """
        moment = now_us()
        self._keys.refresh(self._database)
        with self._database.transaction() as conn:
            row = self._writable_session_row(conn, session_identifier, "update")
            cipher = self._keys.for_row(conn, row, writing=True)
            # absent metadata binds NULL, which keeps the stored one; {} replaces it with {}
            metadata = None
            if session_metadata is not None:
                metadata = self._keys.seal(cipher, METADATA, orjson.dumps(session_metadata))
            conn.execute(sql.UPDATE_SESSION, {"s": row.seq, "now": moment, "metadata": metadata})
        return {
            "createdAt": datetime_from_us(row.created_at_us),
            "lastUpdatedAt": datetime_from_us(moment),
            "sessionArn": self.session_arn(row.session_id),
            "sessionId": row.session_id,
            "sessionStatus": ACTIVE,
        }

    def end_session(self, session_identifier: str) -> dict[str, Any]:
        """End the session (ACTIVE or EXPIRED become ENDED; ENDED stays ENDED, idempotently).

        Raises:
            ResourceNotFoundException: no such session.
        """
        with self._database.transaction() as conn:
            row = self._session_row(conn, session_identifier)
            if row.status != ENDED:
                conn.execute(sql.END_SESSION, {"s": row.seq, "now": now_us()})
        return {
            "sessionArn": self.session_arn(row.session_id),
            "sessionId": row.session_id,
            "sessionStatus": ENDED,
        }

    def delete_session(self, session_identifier: str) -> dict[str, Any]:
        """Delete an ENDED or EXPIRED session with its invocations, steps and tags.

        Raises:
            ResourceNotFoundException: no such session.
            ConflictException: the session is ACTIVE (end it first, as AWS requires).
        """
        with self._database.transaction() as conn:
            row = self._session_row(conn, session_identifier)
            if self._status(row.status, row.last_updated_at_us) == ACTIVE:
                raise ConflictException(
                    f"Session {row.session_id} is ACTIVE. End it with EndSession before "
                    "deleting it."
                )
            for statement in sql.DELETE_SESSION:
                conn.execute(statement, {"s": row.seq})
        self._keys.forget(row.session_id)  # the row held the only wrapped copy of its data key
        return {}

    def list_sessions(
        self, *, max_results: int | None = None, next_token: str | None = None
    ) -> dict[str, Any]:
        """Return one page of every session's summary, newest first, and a nextToken if more.

        Raises:
            ValidationException: the nextToken was not issued by ListSessions.
        """
        limit = max_results or self.default_page_size
        before = seq_before(next_token, "ListSessions", "*")
        with self._database.transaction() as conn:
            rows = conn.execute(sql.LIST_SESSIONS, {"before": before, "limit": limit + 1}).all()
        return keyset_page(
            "ListSessions",
            "*",
            "sessionSummaries",
            rows,
            limit,
            lambda r: {
                "createdAt": datetime_from_us(r.created_at_us),
                "lastUpdatedAt": datetime_from_us(r.last_updated_at_us),
                "sessionArn": self.session_arn(r.session_id),
                "sessionId": r.session_id,
                "sessionStatus": self._status(r.status, r.last_updated_at_us),
            },
        )

    # -------------------------------------------------------------------------- invocations

    def create_invocation(
        self,
        session_identifier: str,
        *,
        invocation_id: str | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        """Create an invocation (id generated when absent); return createdAt, ids.

        Raises:
            ResourceNotFoundException: no such session.
            ConflictException: the session is ENDED or EXPIRED, or the id is already used in it.
            ServiceQuotaExceededException: the session holds its quota of invocations.
            AccessDeniedException: the session's key is not usable.
        """
        invocation_id = invocation_id or str(uuid.uuid4())
        moment = now_us()
        self._keys.refresh(self._database)
        with self._database.transaction() as conn:
            row = self._writable_session_row(conn, session_identifier, "add an invocation to")
            cipher = self._keys.for_row(conn, row, writing=True)
            if description is not None:
                purpose = description_purpose(invocation_id)
                description = self._keys.seal(cipher, purpose, description.encode())
            if row.invocation_count >= self.quotas.max_invocations_per_session:
                raise ServiceQuotaExceededException(
                    f"Session {row.session_id} holds its quota of "
                    f"{self.quotas.max_invocations_per_session} invocations."
                )
            self._insert_and_touch(
                conn,
                sql.INSERT_INVOCATION,
                {
                    "session_seq": row.seq,
                    "invocation_id": invocation_id,
                    "description": description,
                    "created_at_us": moment,
                },
                moment=moment,
                duplicate=f"Invocation {invocation_id} already exists in session "
                f"{session_identifier}.",
                new_invocations=1,
            )
        return {
            "createdAt": datetime_from_us(moment),
            "invocationId": invocation_id,
            "sessionId": row.session_id,
        }

    def list_invocations(
        self,
        session_identifier: str,
        *,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """Return one page of the session's invocation summaries, newest first.

        Raises:
            ResourceNotFoundException: no such session.
            ValidationException: the nextToken belongs to another list or session.
        """
        limit = max_results or self.default_page_size
        with self._database.transaction() as conn:
            session = self._session_row(conn, session_identifier)
            scope = session.session_id
            before = seq_before(next_token, "ListInvocations", scope)
            rows = conn.execute(
                sql.LIST_INVOCATIONS, {"s": session.seq, "before": before, "limit": limit + 1}
            ).all()
        return keyset_page(
            "ListInvocations",
            scope,
            "invocationSummaries",
            rows,
            limit,
            lambda r: {
                "createdAt": datetime_from_us(r.created_at_us),
                "invocationId": r.invocation_id,
                "sessionId": session.session_id,
            },
        )

    # -------------------------------------------------------------------------------- steps
    # PutInvocationStep and GetInvocationStep carry payloads: they are in steps.py.

    def list_invocation_steps(
        self,
        session_identifier: str,
        *,
        invocation_identifier: str | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """Return one page of step summaries, newest first, of one invocation or the session.

        Raises:
            ResourceNotFoundException: no such session, or no such invocation in it.
            ValidationException: the nextToken belongs to another list, session or invocation.
        """
        limit = max_results or self.default_page_size
        session_id = self._arns.session_id(session_identifier)
        with self._database.driver_transaction() as cursor:
            found = self._fast.step_page(
                cursor, session_id, invocation_identifier, limit, next_token
            )
        if found is None:
            # Unknown session or invocation: the step-by-step path raises the matching error.
            with self._database.transaction() as conn:
                session = self._session_row(conn, session_identifier)
                statement = sql.LIST_STEPS
                if invocation_identifier is not None:
                    self._require_invocation(conn, session, invocation_identifier)
                    statement = sql.LIST_INVOCATION_STEPS
                scope = step_list_scope(session.session_id, invocation_identifier)
                before = seq_before(next_token, "ListInvocationSteps", scope)
                rows = conn.execute(
                    statement,
                    {
                        "s": session.seq,
                        "inv": invocation_identifier,
                        "before": before,
                        "limit": limit + 1,
                    },
                )
                found = (scope, session.session_id, rows.all())
        scope, session_id, rows = found
        # Rows of either path: (seq, invocation_id, step_id, step_time_us).
        return keyset_page(
            "ListInvocationSteps",
            scope,
            "invocationStepSummaries",
            rows,
            limit,
            lambda r: {
                "invocationId": r[1],
                "invocationStepId": r[2],
                "invocationStepTime": datetime_from_us(r[3]),
                "sessionId": session_id,
            },
            seq_of=lambda r: r[0],
        )

    # --------------------------------------------------------------------------------- tags

    def tag_resource(self, resource_arn: str, *, tags: dict[str, str]) -> dict[str, Any]:
        """Merge ``tags`` into the session's tags (ENDED and EXPIRED sessions too).

        Raises:
            ResourceNotFoundException: no session has this ARN.
            ServiceQuotaExceededException: the session would have more than 200 tags.
        """
        with self._database.transaction() as conn:
            row = self._session_row(conn, resource_arn)
            merge_tags(conn, row.seq, tags, max_tags=self.quotas.max_tags_per_session)
        return {}

    def untag_resource(self, resource_arn: str, *, tag_keys: Iterable[str]) -> dict[str, Any]:
        """Remove the given tag keys from the session; absent keys are ignored.

        Raises:
            ResourceNotFoundException: no session has this ARN.
        """
        with self._database.transaction() as conn:
            remove_tags(conn, self._session_row(conn, resource_arn).seq, tag_keys)
        return {}

    def list_tags_for_resource(self, resource_arn: str) -> dict[str, Any]:
        """Return ``{"tags": {...}}`` (an empty map for an untagged session).

        Raises:
            ResourceNotFoundException: no session has this ARN.
        """
        with self._database.transaction() as conn:
            return {"tags": tags_of(conn, self._session_row(conn, resource_arn).seq)}

    # ------------------------------------------------------------------------------ queries

    def session_count(self) -> int:
        """Return how many sessions are stored (for the health endpoint)."""
        with self._database.transaction() as conn:
            return conn.execute(sql.COUNT_SESSIONS).scalar_one()

    def session_arn(self, session_id: str) -> str:
        """Return the ARN of a session id in this service's region and account."""
        return self._arns.arn(session_id)

    # ------------------------------------------------------------------------------ private

    def _insert_and_touch(
        self,
        conn: Connection,
        statement: ClauseElement,
        row: dict[str, Any],
        *,
        moment: int,
        duplicate: str,
        new_invocations: int = 0,
        new_steps: int = 0,
    ) -> None:
        """Insert ``row`` (an invocation or a step) and touch its session, counting the new row.

        The insert must be the first write of the transaction: when the unique index refuses a
        duplicate id, the transaction then rolls back having changed nothing.

        Raises:
            ConflictException: with the message ``duplicate``, when the row's id is taken.
        """
        try:
            conn.execute(statement, row)
        except IntegrityError:
            raise ConflictException(duplicate) from None
        touch = {"new_invocations": new_invocations, "new_steps": new_steps}
        conn.execute(sql.TOUCH_SESSION, {"s": row["session_seq"], "now": moment, **touch})

    def _session_row(self, conn: Any, identifier: str) -> Any:
        """The session's row (``statements.SELECT_SESSION``); raise 404 when there is none."""
        row = conn.execute(sql.SELECT_SESSION, {"sid": self._arns.session_id(identifier)}).first()
        if row is None:
            raise ResourceNotFoundException(f"Session {identifier} not found.")
        return row

    def _writable_session_row(self, conn: Any, identifier: str, action: str) -> Any:
        row = self._session_row(conn, identifier)
        status = self._status(row.status, row.last_updated_at_us)
        if status != ACTIVE:
            raise ConflictException(
                f"Cannot {action} session {row.session_id}: it is {status}. An ended or "
                "expired session can be read but not changed."
            )
        return row

    def _require_invocation(self, conn: Any, session: Any, invocation_id: str) -> None:
        found = conn.execute(
            sql.SELECT_INVOCATION, {"s": session.seq, "inv": invocation_id}
        ).first()
        if found is None:
            raise ResourceNotFoundException(
                f"Invocation {invocation_id} not found in session {session.session_id}."
            )

    @staticmethod
    def _clock() -> int:
        """Now, in microseconds: ``now_us`` looked up here, so a test's patch of
        ``models.now_us`` reaches every operation (the step operations too)."""
        return now_us()

    def _status(self, stored: str, last_updated_at_us: int) -> str:
        if stored != ACTIVE:
            return stored
        ttl_us = self._ttl_us()
        if ttl_us is not None and now_us() - last_updated_at_us > ttl_us:
            return EXPIRED
        return ACTIVE

    def _ttl_us(self) -> int | None:
        """The idle TTL in microseconds, rounded once for every check (None: never expires)."""
        ttl = self.knobs.session_ttl_seconds
        return None if ttl is None else round(ttl * 1_000_000)


def _key_columns(wrapped: WrappedKey | None) -> dict[str, Any]:
    """The key columns of a new session row: its wrapped data key, or none (plaintext)."""
    if wrapped is None:
        return {}
    return {
        "data_key": wrapped.ciphertext,
        "data_key_kek": wrapped.key_arn,
        "data_key_kek_version": wrapped.version,
        "first_sealed_step_seq": 0,  # every step of the session is sealed
    }
