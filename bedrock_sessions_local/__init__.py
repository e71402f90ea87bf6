"""Local Amazon Bedrock Session Management service.

Speaks the REST-JSON protocol of the 14 session operations of ``bedrock-agent-runtime`` so that
the real boto3 client, ``BedrockSessionSaver`` and the AWS CLI work against it unchanged, with
storage in SQLite (or any SQLAlchemy database). Run it with ``python -m bedrock_sessions_local``;
in tests use :func:`bedrock_sessions_local.testing.running_service`.

- :class:`SessionBackend` (models.py): the operations as plain methods, no HTTP.
- :class:`SessionServiceApp` (responses.py): the ASGI app, routes and validation driven by
  botocore's service model.
- :mod:`bedrock_sessions_local.exceptions`: AWS's error classes with their HTTP status.
"""

from bedrock_sessions_local.config import Quotas, ServiceKnobs
from bedrock_sessions_local.models import SessionBackend
from bedrock_sessions_local.responses import SERVICE_VERSION, SessionServiceApp

__version__ = SERVICE_VERSION

__all__ = ["Quotas", "ServiceKnobs", "SessionBackend", "SessionServiceApp", "__version__"]
