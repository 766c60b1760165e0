"""Secrets at rest: OAuth tokens encrypted with Fernet, keys rotated without downtime.

`CARE_ENCRYPTION_KEYS` lists Fernet keys newest first. Every listed key decrypts; only
the newest encrypts, so a new key can be deployed first and old rows re-encrypted later
with :func:`rotate`. Without keys, development derives one deterministic key from
`SECRET_KEY` (and says so in the log); production refuses to start without one.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from app.config import Settings

logger = logging.getLogger(__name__)

DEV_SECRET_KEY = "dev-only-secret-key-change-me"


class CryptoError(Exception):
    """Encryption is misconfigured, or a stored value cannot be decrypted."""


class Keyring:
    """The Fernet keys: the first encrypts, all of them decrypt."""

    def __init__(self, keys: list[str] | tuple[str, ...]) -> None:
        if not keys:
            raise CryptoError("no encryption keys given")
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.strip().encode()))
            except (ValueError, TypeError) as exc:
                raise CryptoError(
                    f"encryption key {position} is not a Fernet key"
                    " (32 url-safe base64-encoded bytes, Fernet.generate_key())"
                ) from exc
        self._multi = MultiFernet(fernets)
        self.size = len(fernets)

    def encrypt(self, text: str) -> str:
        """Ciphertext of `text` under the newest key."""
        return self._multi.encrypt(text.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Plain text of `token`, whichever listed key wrote it."""
        try:
            return self._multi.decrypt(token.encode("ascii")).decode()
        except InvalidToken as exc:
            raise CryptoError(
                "stored secret cannot be decrypted with any configured key"
                " (was a key dropped from CARE_ENCRYPTION_KEYS too early?)"
            ) from exc

    def rotate_token(self, token: str) -> str:
        """`token` re-encrypted under the newest key."""
        try:
            return self._multi.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise CryptoError("stored secret cannot be decrypted for rotation") from exc


def dev_key(secret_key: str) -> str:
    """A deterministic Fernet key derived from `secret_key`: development only."""
    digest = hashlib.sha256(b"care-dev-encryption:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


def keyring_from(settings: Settings) -> Keyring:
    """The keyring `settings` call for, refusing to run production without keys."""
    if settings.encryption_keys:
        return Keyring(settings.encryption_keys)
    production = not settings.embedded_database and settings.secret_key not in (
        "",
        DEV_SECRET_KEY,
    )
    if production:
        raise CryptoError(
            "CARE_ENCRYPTION_KEYS is required with a real DATABASE_URL and SECRET_KEY;"
            " generate one with: python -c 'from cryptography.fernet import Fernet;"
            " print(Fernet.generate_key().decode())'"
        )
    logger.warning(
        "no CARE_ENCRYPTION_KEYS: tokens encrypted with a development key derived"
        " from SECRET_KEY; never use this in production"
    )
    return Keyring([dev_key(settings.secret_key or DEV_SECRET_KEY)])


_current: Keyring | None = None


def install(keyring: Keyring | None) -> Keyring | None:
    """Install `keyring` (None: rebuild from settings); return the previous one."""
    global _current
    previous, _current = _current, keyring
    return previous


def keyring() -> Keyring:
    """The process's keyring, built from the environment on first use."""
    global _current
    if _current is None:
        from app import config

        _current = keyring_from(config.load())
    return _current


class EncryptedText(TypeDecorator[str]):
    """A text column stored as Fernet ciphertext under the process's keyring."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError(f"EncryptedText holds str, got {type(value).__name__}")
        return keyring().encrypt(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring().decrypt(value)


def encrypted_columns(metadata: sa.MetaData) -> list[tuple[sa.Table, sa.Column[Any]]]:
    """Every (table, column) in `metadata` whose type is EncryptedText."""
    found = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedText):
                found.append((table, column))
    return found


def rotate(session: Session, metadata: sa.MetaData | None = None) -> int:
    """Re-encrypt every stored secret under the newest key; returns values rewritten.

    Runs on the raw ciphertext (no ORM objects), so it needs no model knowledge beyond
    the metadata, and commits nothing: the caller's transaction decides.
    """
    if metadata is None:
        from app.models import Base

        metadata = Base.metadata
    ring = keyring()
    rewritten = 0
    for table, column in encrypted_columns(metadata):
        pk = list(table.primary_key.columns)[0]
        raw = sa.column(column.name, sa.Text)
        rows = session.execute(
            sa.select(pk, raw).select_from(table).where(raw.is_not(None))
        ).all()
        for key, token in rows:
            session.execute(
                sa.update(table)
                .where(pk == key)
                .values({column.name: sa.literal(ring.rotate_token(token), sa.Text)})
            )
            rewritten += 1
        logger.info(
            "rotated table=%s column=%s rows=%s", table.name, column.name, len(rows)
        )
    return rewritten
