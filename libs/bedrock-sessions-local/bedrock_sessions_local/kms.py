"""AWS KMS as the key store: data keys from GenerateDataKey and Decrypt, as Bedrock gets them.

With a KMS endpoint configured (``--kms-endpoint-url``, for tests moto's KMS server) each
session's data key is KMS's ``GenerateDataKey`` (AES_256) under the session's key, with the
encryption context ``{"aws:bedrock:session:arn": <session ARN>}``, and is stored as KMS's
``CiphertextBlob``; reading it back is ``Decrypt`` with the same context, as a real deployment
would do (the IAM policy of sessions-encryption.html conditions on that context). A customer
key is checked with ``DescribeKey`` at CreateSession (Bedrock asks for ``kms:DescribeKey`` on
it), so a disabled key or one pending deletion is refused there. Rotation is KMS's business:
old ciphertext blobs keep decrypting, nothing is re-wrapped here.

KMS's answers become :class:`~bedrock_sessions_local.encryption.KeyUnavailable` reasons;
KMS unreachable, or an answer not about the key, is a 500 ``InternalServerException`` (botocore
retries it). Unwrapped data keys are reused for ``cache_seconds``: a key disabled in KMS stops
its sessions within that time.

Example::

    kms = AwsKms("http://127.0.0.1:5000", region="us-east-1", default_key_id=None,
                 credentials=("testing", "testing"), cache_seconds=0)
    data_key, wrapped = kms.generate(kms.default_key_arn, session_arn)
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bedrock_sessions_local.encryption import (
    CONTEXT_KEY,
    KMS_DEFAULT_ALIAS,
    KeyUnavailable,
    WrappedKey,
)
from bedrock_sessions_local.exceptions import InternalServerException

#: KMS error codes about the key or the ciphertext, as KeyUnavailable reasons
_REASONS = {
    "NotFoundException": "NotFound",
    "DisabledException": "Disabled",
    "KMSInvalidStateException": "InvalidState",
    "AccessDeniedException": "AccessDenied",
    "InvalidKeyUsageException": "AccessDenied",
    "InvalidCiphertextException": "InvalidCiphertext",
    "IncorrectKeyException": "InvalidCiphertext",
}
#: KMS key states (DescribeKey) as KeyUnavailable reasons; Enabled is usable
_STATES = {"Disabled": "Disabled", "PendingDeletion": "PendingDeletion"}


class AwsKms:
    """Data keys from AWS KMS (or a KMS-compatible endpoint such as moto's server)."""

    def __init__(
        self,
        endpoint_url: str,
        *,
        region: str,
        default_key_id: str | None,
        credentials: tuple[str, str] | None,
        cache_seconds: float,
    ) -> None:
        import boto3
        from botocore.config import Config

        keys = {}
        if credentials is not None:
            keys = {"aws_access_key_id": credentials[0], "aws_secret_access_key": credentials[1]}
        self.endpoint_url = endpoint_url
        self._client = boto3.client(
            "kms",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(
                retries={"mode": "standard", "total_max_attempts": 3},
                connect_timeout=5,
                read_timeout=10,
            ),
            **keys,
        )
        self._cache_seconds = cache_seconds
        self._flush_at = time.monotonic() + cache_seconds
        self.default_key_arn = self._default_key(default_key_id)

    def changed(self) -> bool:
        """True every ``cache_seconds``: cached data keys are then asked of KMS again."""
        now = time.monotonic()
        if now < self._flush_at:
            return False
        self._flush_at = now + self._cache_seconds
        return True

    def generate(self, key_arn: str, session_arn: str) -> tuple[bytes, WrappedKey]:
        """GenerateDataKey (AES_256) under ``key_arn`` with the session's encryption context."""
        if key_arn != self.default_key_arn:
            state = self._call(key_arn, "describe_key", KeyId=key_arn)["KeyMetadata"]["KeyState"]
            if state != "Enabled":
                raise KeyUnavailable(key_arn, _STATES.get(state, "InvalidState"))
        answer = self._call(
            key_arn,
            "generate_data_key",
            KeyId=key_arn,
            KeySpec="AES_256",
            EncryptionContext={CONTEXT_KEY: session_arn},
        )
        return answer["Plaintext"], WrappedKey(answer["CiphertextBlob"], answer["KeyId"], None)

    def unwrap(self, wrapped: WrappedKey, session_arn: str) -> bytes:
        """Decrypt a stored CiphertextBlob with its key and the session's encryption context."""
        answer = self._call(
            wrapped.key_arn,
            "decrypt",
            CiphertextBlob=wrapped.ciphertext,
            KeyId=wrapped.key_arn,
            EncryptionContext={CONTEXT_KEY: session_arn},
        )
        return answer["Plaintext"]

    def stale_versions(self) -> dict[str, int]:
        """Nothing to re-wrap: KMS keeps every backing key of a rotated key."""
        return {}

    def rewrap(self, wrapped: WrappedKey, session_arn: str) -> WrappedKey:
        """Never needed with KMS (see :meth:`stale_versions`); returns ``wrapped``."""
        return wrapped

    def _default_key(self, key_id: str | None) -> str:
        """The ARN of the named key, or of the service's alias (created on first use)."""
        if key_id is not None:
            return self._call(key_id, "describe_key", KeyId=key_id)["KeyMetadata"]["Arn"]
        try:
            return self._client.describe_key(KeyId=KMS_DEFAULT_ALIAS)["KeyMetadata"]["Arn"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "NotFoundException":
                raise
        except BotoCoreError as error:
            raise InternalServerException(f"KMS at {self.endpoint_url}: {error}") from None
        created = self._client.create_key(
            Description="default key of the local Bedrock session service"
        )["KeyMetadata"]
        self._client.create_alias(AliasName=KMS_DEFAULT_ALIAS, TargetKeyId=created["KeyId"])
        return created["Arn"]

    def _call(self, key_arn: str, operation: str, **params: Any) -> dict[str, Any]:
        try:
            return getattr(self._client, operation)(**params)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code in _REASONS:
                raise KeyUnavailable(key_arn, _REASONS[code]) from None
            raise InternalServerException(f"KMS {operation} failed: {code}") from None
        except BotoCoreError as error:
            raise InternalServerException(f"KMS at {self.endpoint_url}: {error}") from None
