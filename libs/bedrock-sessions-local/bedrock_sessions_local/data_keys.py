"""The data keys of sessions: generated, stored wrapped, cached unwrapped, re-wrapped, shredded.

:class:`DataKeys` gives the backend each session's :class:`~.encryption.SessionCipher`:

- CreateSession generates the data key under the session's KEK (the customer key of
  ``encryptionKeyArn``, else the default key) and the row stores it wrapped, with the KEK's ARN
  and version. A session stored before encryption was on gets its data key at its next write
  (``first_sealed_step_seq`` marks where its sealed steps begin; its metadata is sealed then).
- Unwrapped keys are cached per session, so the hot path costs one AES-GCM call and no key
  store round trip. The cache is dropped whenever the key store changes (a keyring edit, or
  every ``kms_cache_seconds`` with KMS) and a session's entry when it is deleted.
- After a rotation, the data keys wrapped with an older version are re-wrapped with the
  current one: the wrapped keys change, the payloads are not re-encrypted.
- DeleteSession removes the row and with it the only copy of the data key.

Errors, as AWS names them (README "Choices where AWS is silent"): a customer key that is
unknown at CreateSession → ``AccessDeniedException``; disabled or pending deletion →
``ValidationException``; a session whose key is unusable, or a value that fails its tag
(changed, or moved from another session or row) → ``AccessDeniedException`` naming the key.

Example::

    keys = data_keys_for(Encryption(), "var/bedrock-sessions.db", SessionArns(region, account))
    cipher, wrapped = keys.for_new_session(session_id, key_arn=None)
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from bedrock_sessions_local import statements as sql
from bedrock_sessions_local.arns import SessionArns
from bedrock_sessions_local.encryption import (
    METADATA,
    Encryption,
    KeyStore,
    KeyUnavailable,
    SealBroken,
    SessionCipher,
    WrappedKey,
    is_sealed,
)
from bedrock_sessions_local.engine import Database
from bedrock_sessions_local.exceptions import AccessDeniedException, ValidationException
from bedrock_sessions_local.keyring import default_keyring_path
from bedrock_sessions_local.tables import ACTIVE

logger = logging.getLogger("bedrock_sessions_local")

#: what ``cached`` returns for a session it has not seen (None means "stored in plaintext")
MISSING: Any = object()

_STATE_WORDS = {
    "NotFound": "not found (deleted, or not in the key store)",
    "Disabled": "disabled",
    "PendingDeletion": "pending deletion",
    "InvalidState": "not in a usable state",
    "AccessDenied": "not usable by this service",
}


def data_keys_for(encryption: Encryption, db: str, arns: SessionArns) -> DataKeys:
    """The data keys of a backend on ``db``: their key store chosen by ``encryption``.

    Raises:
        KeyringError: the keyring cannot be read (accessible to others, malformed).
        InternalServerException: KMS cannot be reached for its default key.
    """
    store: KeyStore | None = None
    if encryption.kms_endpoint_url is not None:
        from bedrock_sessions_local.kms import AwsKms

        store = AwsKms(
            encryption.kms_endpoint_url,
            region=arns.region,
            default_key_id=encryption.kms_default_key_id,
            credentials=encryption.kms_credentials,
            cache_seconds=encryption.kms_cache_seconds,
        )
    else:
        from bedrock_sessions_local.local_kms import LocalKms

        path = default_keyring_path(db) if encryption.keyring is None else Path(encryption.keyring)
        # Without encryption a keyring is only read, if there is one: sessions encrypted before
        # stay readable, and nothing is created.
        if encryption.enabled or (path is not None and path.exists()):
            store = LocalKms(
                path,
                region=arns.region,
                account=arns.account,
                create_default_key=encryption.enabled,
                check_seconds=encryption.keyring_check_seconds,
            )
    return DataKeys(store, arns, encrypt_new=encryption.enabled)


class DataKeys:
    """Each session's cipher: from the cache, unwrapped by the key store, or generated.

    ``store`` None (encryption off and no keyring) can only serve plaintext sessions.
    """

    def __init__(
        self,
        store: KeyStore | None,
        arns: SessionArns,
        *,
        encrypt_new: bool,
        max_cached: int = 100_000,
    ) -> None:
        self.store = store
        #: new sessions (and plaintext ones at their next write) get a data key
        self.encrypt_new = encrypt_new and store is not None
        self._arns = arns
        self._ciphers: dict[str, SessionCipher | None] = {}
        self._max_cached = max_cached

    # --------------------------------------------------------------------------- the cache

    def refresh(self, database: Database) -> None:
        """Drop the cached keys if the key store changed, and re-wrap after a rotation.

        Call it at the start of an operation, outside any transaction of ``database``: it
        costs one ``stat`` of the keyring file when nothing changed.
        """
        if self.store is not None and self.store.changed():
            self._ciphers.clear()
            self.rewrap_stale(database)

    def cached(self, session_id: str) -> SessionCipher | None:
        """The session's cipher, None for a plaintext session, or :data:`MISSING`."""
        return self._ciphers.get(session_id, MISSING)

    def remember(self, session_id: str, cipher: SessionCipher | None) -> None:
        """Cache a session's cipher once its key is committed (None: plaintext session)."""
        if len(self._ciphers) >= self._max_cached:
            self._ciphers.pop(next(iter(self._ciphers)))  # the oldest entry
        self._ciphers[session_id] = cipher

    def forget(self, session_id: str) -> None:
        """Drop a deleted session's key from the cache: no copy of it is left."""
        self._ciphers.pop(session_id, None)

    # ------------------------------------------------------------------------ the ciphers

    def for_new_session(
        self, session_id: str, key_arn: str | None
    ) -> tuple[SessionCipher | None, WrappedKey | None]:
        """Generate a new session's data key; (None, None) when encryption is off.

        Not cached: call :meth:`remember` once the session row is committed.

        Raises:
            AccessDeniedException: the customer key is unknown (or not usable by the caller).
            ValidationException: the customer key is disabled or pending deletion.
        """
        if not self.encrypt_new:
            return None, None
        assert self.store is not None
        kek = key_arn or self.store.default_key_arn
        session_arn = self._arns.arn(session_id)
        try:
            data_key, wrapped = self.store.generate(kek, session_arn)
        except KeyUnavailable as error:
            words = _STATE_WORDS.get(error.reason, error.reason)
            if error.reason in ("Disabled", "PendingDeletion", "InvalidState"):
                raise ValidationException(
                    f"The KMS key {kek} is {words}: enable it, or create the session with "
                    "another key."
                ) from None
            raise AccessDeniedException(
                f"The KMS key {kek} does not exist or you are not allowed to use it: the user "
                "or role creating the session must have permission to use the key."
            ) from None
        return SessionCipher(data_key, session_arn, wrapped.key_arn), wrapped

    def for_columns(
        self, session_id: str, data_key: bytes | None, kek: str | None, version: int | None
    ) -> SessionCipher | None:
        """The cipher of a session whose key columns were read (None: plaintext session).

        Raises:
            AccessDeniedException: the session's key is not usable (disabled, pending
                deletion, gone, or no key store), or its wrapped key does not unwrap.
        """
        cipher = self._ciphers.get(session_id, MISSING)
        if cipher is not MISSING:
            return cipher
        if data_key is None:
            return None
        session_arn = self._arns.arn(session_id)
        if self.store is None:
            raise AccessDeniedException(
                f"Session {session_id} is encrypted with KMS key {kek}, and this service runs "
                "without a key store: its data cannot be read or written."
            )
        try:
            plaintext = self.store.unwrap(
                WrappedKey(bytes(data_key), kek or "", version), session_arn
            )
        except KeyUnavailable as error:
            raise _refused(session_id, error) from None
        cipher = SessionCipher(plaintext, session_arn, kek or "")
        self.remember(session_id, cipher)
        return cipher

    def for_row(self, conn: Any, row: Any, *, writing: bool) -> SessionCipher | None:
        """The cipher of a session row read with ``statements.SELECT_SESSION``.

        A write to an ACTIVE plaintext session gives it a data key first when encryption is
        on (in ``conn``'s transaction: not cached, it may still roll back).

        Raises:
            AccessDeniedException, ValidationException: as :meth:`for_columns` and
                :meth:`for_new_session`.
        """
        if row.data_key is not None or row.session_id in self._ciphers:
            return self.for_columns(
                row.session_id, row.data_key, row.data_key_kek, row.data_key_kek_version
            )
        if not self.encrypt_new:
            self.remember(row.session_id, None)
            return None
        if not writing or row.status != ACTIVE:
            return None  # its next write encrypts it; a write to an ended session is refused
        cipher, wrapped = self.for_new_session(row.session_id, None)
        assert cipher is not None and wrapped is not None
        last_step = conn.execute(sql.LAST_STEP_SEQ, {"s": row.seq}).scalar()
        conn.execute(
            sql.SET_SESSION_KEY,
            {
                "s": row.seq,
                "data_key": wrapped.ciphertext,
                "kek": wrapped.key_arn,
                "version": wrapped.version,
                "first_sealed": (last_step or 0) + 1,
                "metadata": cipher.seal(METADATA, row.metadata_json.encode()),
            },
        )
        return cipher

    # ----------------------------------------------------------------------- stored values

    def seal(self, cipher: SessionCipher | None, purpose: str, plaintext: bytes) -> str:
        """The stored form of a value: sealed under ``cipher``, or the JSON when None."""
        return plaintext.decode() if cipher is None else cipher.seal(purpose, plaintext)

    def open(
        self,
        session_id: str,
        cipher: SessionCipher | None,
        stored: str,
        purpose: str,
        *,
        plaintext_allowed: bool,
        what: str,
    ) -> str | bytes:
        """The JSON of a stored value (``plaintext_allowed``: the row predates encryption).

        Raises:
            AccessDeniedException: the value does not open: changed, copied from another
                session or row, or plaintext where the session stores only sealed values.
        """
        if not is_sealed(stored):
            if plaintext_allowed or cipher is None:
                return stored
        elif cipher is not None:
            try:
                return cipher.open(purpose, stored)
            except SealBroken:
                pass
        key = "no key" if cipher is None else f"KMS key {cipher.key_arn}"
        logger.warning("the stored %s of session %s does not open", what, session_id)
        raise AccessDeniedException(
            f"The stored {what} of session {session_id} does not decrypt under the session's "
            f"data key ({key}): it was changed, or copied from another session or row."
        )

    # -------------------------------------------------------------------------- rotation

    def rewrap_stale(self, database: Database) -> int:
        """Re-wrap the data keys wrapped with an older version of a rotated KEK; return how many.

        The payloads stay as they are: only the wrapped data keys change.
        """
        stale = {} if self.store is None else self.store.stale_versions()
        rewrapped = 0
        if not stale:
            return rewrapped
        assert self.store is not None
        with database.transaction() as conn:
            for kek, version in stale.items():
                rows = conn.execute(sql.STALE_SESSION_KEYS, {"kek": kek, "version": version})
                for row in rows.all():
                    old = WrappedKey(bytes(row.data_key), kek, row.data_key_kek_version)
                    try:
                        new = self.store.rewrap(old, self._arns.arn(row.session_id))
                    except KeyUnavailable as error:
                        logger.warning(
                            "session %s keeps its wrapped key: %s", row.session_id, error
                        )
                        continue
                    conn.execute(
                        sql.REWRAP_SESSION_KEY,
                        {"s": row.seq, "data_key": new.ciphertext, "version": new.version},
                    )
                    rewrapped += 1
        if rewrapped:
            logger.info("re-wrapped %d data keys after a key rotation", rewrapped)
        return rewrapped


def _refused(session_id: str, error: KeyUnavailable) -> AccessDeniedException:
    if error.reason == "InvalidCiphertext":
        return AccessDeniedException(
            f"The data key of session {session_id} does not decrypt under KMS key "
            f"{error.key_arn}: it was changed, or copied from another session."
        )
    words = _STATE_WORDS.get(error.reason, error.reason)
    return AccessDeniedException(
        f"Session {session_id} is encrypted with KMS key {error.key_arn}, which is {words}: "
        "its data cannot be read or written until the key is usable again."
    )
