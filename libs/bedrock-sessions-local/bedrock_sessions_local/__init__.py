"""Local Amazon Bedrock Session Management service.

Speaks the REST-JSON protocol of the 14 session operations of ``bedrock-agent-runtime`` so that
the real boto3 client, ``BedrockSessionSaver`` and the AWS CLI work against it unchanged, with
storage in SQLite (or any SQLAlchemy database). Run it with ``bedrock-sessions-local`` or
``python -m bedrock_sessions_local``; in a program or a test use
:func:`bedrock_sessions_local.testing.running_service` (pytest fixtures come with the package,
in ``pytest_plugin.py``).

What it offers here:

- :class:`SessionBackend` (``models.py``): the operations as plain methods, no HTTP; its tables
  are in ``tables.py``, its SQL in ``statements.py`` and, for the hot step operations,
  ``fast_paths.py``; its database connection in ``engine.py``.
- :class:`SessionServiceApp` (``responses.py``): the ASGI app, routes and validation driven by
  botocore's service model (``routes.py``, ``validation.py``).
- :class:`ServiceKnobs` and :class:`Quotas` (``config.py``): runtime knobs and fixed limits.
- :mod:`bedrock_sessions_local.exceptions`: AWS's error classes with their HTTP status.
- :class:`Encryption` (``encryption.py``): envelope encryption of session data, on by default:
  a data key per session (``data_keys.py``) wrapped by a key of the local keyring
  (``keyring.py``, ``local_kms.py``; managed with ``python -m bedrock_sessions_local keys``,
  ``keys_command.py``) or of AWS KMS (``kms.py``).
- :class:`IamMode` (``access.py``): the opt-in IAM mode, SigV4 verified (``sigv4.py``) against a
  credentials file (``credentials.py``) and every call authorized by the IAM policies of a
  CloudFormation template (``cloudformation.py``) with the policy evaluator (``iam.py``).
"""

from bedrock_sessions_local.access import IamMode
from bedrock_sessions_local.config import Quotas, ServiceKnobs
from bedrock_sessions_local.encryption import Encryption
from bedrock_sessions_local.models import SessionBackend
from bedrock_sessions_local.responses import SERVICE_VERSION, SessionServiceApp

__version__ = SERVICE_VERSION

__all__ = [
    "Encryption",
    "IamMode",
    "Quotas",
    "ServiceKnobs",
    "SessionBackend",
    "SessionServiceApp",
    "__version__",
]
