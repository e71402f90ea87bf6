"""Errors of the local Bedrock Session Management service, named exactly as AWS names them.

Each class carries the HTTP status AWS answers with, so the wire layer turns any of them into
the AWS error shape (status, ``x-amzn-ErrorType`` header, ``{"message", "__type"}`` body)
without a lookup table. The first seven come from the botocore service model; the others are
protocol-level errors that AWS's front door answers with before an operation runs: seven about
the request itself (the HTTP layer, ``protocol.py``, refuses with them too), and four about its
signature (raised only in IAM mode, ``sigv4.py``).
"""

from __future__ import annotations


class SessionServiceError(Exception):
    """Base class: an error the service reports to the client in the AWS error shape."""

    status: int = 400
    #: the AWS error code, sent as ``__type`` and ``x-amzn-ErrorType``
    code: str = "ValidationException"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ValidationException(SessionServiceError):
    """Input fails a constraint of the service model, or a nextToken is not valid (400)."""

    status = 400
    code = "ValidationException"


class ServiceQuotaExceededException(SessionServiceError):
    """A configured quota (tags, sessions, invocations, steps) would be exceeded (400, sic)."""

    status = 400
    code = "ServiceQuotaExceededException"


class AccessDeniedException(SessionServiceError):
    """The policy does not allow the caller the operation on the resource (403, IAM mode)."""

    status = 403
    code = "AccessDeniedException"


class ResourceNotFoundException(SessionServiceError):
    """The session, invocation or step does not exist (404)."""

    status = 404
    code = "ResourceNotFoundException"


class ConflictException(SessionServiceError):
    """The request conflicts with the state: a duplicate id, a write to an ended session (409)."""

    status = 409
    code = "ConflictException"


class ThrottlingException(SessionServiceError):
    """Too many requests (429): by fault injection, or too many connections or request bytes
    at once (``protocol.py``)."""

    status = 429
    code = "ThrottlingException"


class InternalServerException(SessionServiceError):
    """Something unexpected failed inside the service (500). Never raised for bad input."""

    status = 500
    code = "InternalServerException"


class UnknownOperationException(SessionServiceError):
    """No operation of the service matches the request path (404) or its method (405)."""

    status = 404
    code = "UnknownOperationException"

    def __init__(self, message: str, status: int = 404) -> None:
        super().__init__(message)
        self.status = status


class SerializationException(SessionServiceError):
    """The request body is not a JSON object, the query string cannot be decoded, or the request
    is not HTTP/1.1 the service can read (400)."""

    status = 400
    code = "SerializationException"


class RequestEntityTooLargeException(SessionServiceError):
    """The request body is larger than the service accepts (413)."""

    status = 413
    code = "RequestEntityTooLargeException"


class RequestTimeoutException(SessionServiceError):
    """The request did not arrive whole within the request timeout (408); botocore retries it."""

    status = 408
    code = "RequestTimeoutException"


class RequestURITooLongException(SessionServiceError):
    """The request target (path and query string) is longer than the service reads (414)."""

    status = 414
    code = "RequestURITooLongException"


class RequestHeaderFieldsTooLargeException(SessionServiceError):
    """The request's header fields are larger than the service reads (431)."""

    status = 431
    code = "RequestHeaderFieldsTooLargeException"


class UnsupportedMediaTypeException(SessionServiceError):
    """The request body is declared as something other than JSON (415)."""

    status = 415
    code = "UnsupportedMediaTypeException"


class MissingAuthenticationTokenException(SessionServiceError):
    """The request is not signed: no ``Authorization`` header (403, IAM mode)."""

    status = 403
    code = "MissingAuthenticationTokenException"


class IncompleteSignatureException(SessionServiceError):
    """The ``Authorization`` header or ``X-Amz-Date`` is malformed or lacks a part (403)."""

    status = 403
    code = "IncompleteSignatureException"


class UnrecognizedClientException(SessionServiceError):
    """The access key id (or its session token) is not in the credentials file (403)."""

    status = 403
    code = "UnrecognizedClientException"


class InvalidSignatureException(SessionServiceError):
    """The signature does not match, is out of its 5-minute window, or has a wrong scope (403)."""

    status = 403
    code = "InvalidSignatureException"


__all__ = [
    "AccessDeniedException",
    "ConflictException",
    "IncompleteSignatureException",
    "InternalServerException",
    "InvalidSignatureException",
    "MissingAuthenticationTokenException",
    "RequestEntityTooLargeException",
    "RequestHeaderFieldsTooLargeException",
    "RequestTimeoutException",
    "RequestURITooLongException",
    "ResourceNotFoundException",
    "SerializationException",
    "ServiceQuotaExceededException",
    "SessionServiceError",
    "ThrottlingException",
    "UnknownOperationException",
    "UnrecognizedClientException",
    "UnsupportedMediaTypeException",
    "ValidationException",
]
