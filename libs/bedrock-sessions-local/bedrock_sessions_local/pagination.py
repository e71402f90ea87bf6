"""Opaque ``nextToken`` values: keyset cursors bound to one list and one scope.

A token is base64url of ``v1|<operation>|<scope>|<last seq>``. Lists return newest first
(``seq`` descending), so the next page is "rows of this scope with seq < last seq": an index
range scan whose cost does not grow with the size of the session, and that stays correct while
new rows are added (they get larger seqs and never shift the pages already handed out).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any

from bedrock_sessions_local.exceptions import ValidationException

_VERSION = "v1"
#: the largest seq: `seq` columns are INTEGER, which is 32-bit on PostgreSQL (64-bit on SQLite),
#: and the first page of a list asks for rows "before MAX_SEQ"
MAX_SEQ = 2**31 - 1


def encode_token(operation: str, scope: str, last_seq: int) -> str:
    """Return the nextToken that resumes ``operation`` over ``scope`` after row ``last_seq``."""
    raw = f"{_VERSION}|{operation}|{scope}|{last_seq}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_token(token: str, operation: str, scope: str) -> int:
    """Return the last seq a token was issued after.

    Raises:
        ValidationException: the token is malformed, or was issued by another list operation
            or for another session or invocation.
    """
    try:
        padded = token + "=" * (-len(token) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
        version, token_operation, token_scope, last_seq = raw.split("|")
        seq = int(last_seq)
    except (ValueError, UnicodeError, binascii.Error):
        raise ValidationException("Invalid nextToken: it was not issued by this service.") from None
    if not 0 <= seq <= MAX_SEQ:  # a forged number must not reach the database driver
        raise ValidationException("Invalid nextToken: it was not issued by this service.")
    if version != _VERSION or token_operation != operation or token_scope != scope:
        raise ValidationException(
            f"Invalid nextToken: it belongs to another {operation} request "
            "(a different operation, session or invocation)."
        )
    return seq


def seq_before(next_token: str | None, operation: str, scope: str) -> int:
    """Return where a page starts: before the token's last seq, or before MAX_SEQ when first.

    Raises:
        ValidationException: as :func:`decode_token`.
    """
    return decode_token(next_token, operation, scope) if next_token else MAX_SEQ


def keyset_page(
    operation: str,
    scope: str,
    key: str,
    rows: Sequence[Any],
    limit: int,
    summarize: Callable[[Any], dict[str, Any]],
    seq_of: Callable[[Any], int] = lambda row: row.seq,
) -> dict[str, Any]:
    """One page of a newest-first list, from a query that fetched up to ``limit + 1`` rows.

    The answer holds the summaries of the first ``limit`` rows under ``key`` and, when the extra
    row shows there is more, a nextToken resuming after the last summary.
    """
    page: dict[str, Any] = {key: [summarize(row) for row in rows[:limit]]}
    if len(rows) > limit:
        page["nextToken"] = encode_token(operation, scope, seq_of(rows[limit - 1]))
    return page
