"""Tags of sessions, as plain functions over a connection (TagResource and its siblings).

As moto keeps tags in a ``TaggingService`` next to each backend, tagging here is apart from the
session behaviour: :class:`~bedrock_sessions_local.models.SessionBackend` resolves the ARN to a
session row and, inside its transaction, hands the tags to these functions. Tags are
governance metadata (retention, ownership), so they change on ENDED and EXPIRED sessions too.

Example::

    with database.transaction() as conn:
        merge_tags(conn, session.seq, {"user": "ana"}, max_tags=200)
        tags_of(conn, session.seq)  # {"user": "ana"}
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, bindparam, delete, insert, select

from bedrock_sessions_local.exceptions import ServiceQuotaExceededException
from bedrock_sessions_local.tables import SessionTag

_tags = SessionTag.__table__

SELECT_TAGS = select(_tags.c.key, _tags.c.value).where(_tags.c.session_seq == bindparam("s"))


def tags_of(conn: Connection, session_seq: int) -> dict[str, str]:
    """Return the session's tags (an empty dict when it has none)."""
    return {key: value for key, value in conn.execute(SELECT_TAGS, {"s": session_seq})}


def add_tags(conn: Connection, session_seq: int, tags: dict[str, str]) -> None:
    """Store tags whose keys the session does not have yet (a new session's tags)."""
    if tags:
        conn.execute(
            insert(_tags),
            [{"session_seq": session_seq, "key": k, "value": v} for k, v in tags.items()],
        )


def merge_tags(conn: Connection, session_seq: int, tags: dict[str, str], *, max_tags: int) -> None:
    """Merge ``tags`` into the session's tags, overwriting the values of keys it has.

    Raises:
        ServiceQuotaExceededException: the session would have more than ``max_tags`` tags.
    """
    existing = tags_of(conn, session_seq).keys()
    if len(existing | tags.keys()) > max_tags:
        raise ServiceQuotaExceededException(
            f"A session can have at most {max_tags} tags; it has {len(existing)} and the "
            f"request adds {len(tags.keys() - existing)}."
        )
    remove_tags(conn, session_seq, existing & tags.keys())
    add_tags(conn, session_seq, tags)


def remove_tags(conn: Connection, session_seq: int, keys: Iterable[str]) -> None:
    """Remove the given keys from the session's tags; absent keys are ignored."""
    keys = list(keys)
    if keys:
        conn.execute(delete(_tags).where(_tags.c.session_seq == session_seq, _tags.c.key.in_(keys)))
