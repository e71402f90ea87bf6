"""The application's errors, each worded for the person who will read it.

`TurnError` is anything a shopper or operator can act on (bad input, an ended or someone else's
conversation, the session store unreachable); `ApprovalError` and `AlreadyDecided` come from the
approvals queue. `readable_errors` turns AWS, connection and model failures into `TurnError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from assistant.agent.graph import ModelUnavailable
from assistant.application.clients import error_code
from assistant.settings import Settings
from assistant.shopdb import AlreadyDecided, ApprovalError

__all__ = ["AlreadyDecided", "ApprovalError", "TurnError", "readable_errors"]


class TurnError(Exception):
    """A request could not be carried out; the message says why in words a shopper understands."""


@contextmanager
def readable_errors(settings: Settings) -> Iterator[None]:
    """Turn AWS and connection failures into TurnError with a message a person can act on."""
    try:
        yield
    except (TurnError, ApprovalError):
        raise
    except ModelUnavailable as error:
        raise TurnError(
            f"The model could not answer ({error}). "
            "Your conversation is saved; try again in a moment."
        ) from error
    except ClientError as error:
        code = error_code(error)
        message = error.response.get("Error", {}).get("Message", "")
        if code == "ConflictException" and ("ENDED" in message or "EXPIRED" in message):
            raise TurnError("This conversation has ended; start a new one.") from error
        if code == "ResourceNotFoundException":
            raise TurnError(f"The session was not found ({message}).") from error
        raise TurnError(f"The session store refused the request: {code}: {message}") from error
    except BotoCoreError as error:
        where = settings.resolved_session_endpoint or "AWS"
        hint = (
            " Is the local session service running? (`shoe-assistant up` starts it.)"
            if settings.uses_local_sessions
            else ""
        )
        raise TurnError(f"The session store is not reachable ({where}): {error}.{hint}") from error
