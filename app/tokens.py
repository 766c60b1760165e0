"""Where a connection's OAuth tokens live, and the OAuth `state` values in flight.

:class:`DbTokenStore` keeps connectors/base.py's TokenStore contract for one
connection: tokens encrypted at rest (app.crypto), saved in a transaction of their
own so a rotated refresh token is durable before anything else happens, and one
refresh at a time per connection across processes (a Redis lock).
"""

from __future__ import annotations

import logging
import secrets
from contextlib import AbstractContextManager
from datetime import timedelta

import sqlalchemy as sa
from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from app import audit, clock
from app.models import LedgerConnection, OAuthState
from app.models.connections import LEDGERS
from connectors.base import ReconnectError, TokenSet

logger = logging.getLogger(__name__)

REFRESH_LOCK_TIMEOUT = 60.0  # seconds a crashed holder keeps the lock
REFRESH_LOCK_WAIT = 90.0  # seconds a second worker waits for the first's refresh
STATE_LIFETIME = timedelta(minutes=10)


class DbTokenStore:
    """The TokenStore of one ledger connection, backed by the database and Redis.

    NOTE: `save` writes in a session of its own. On SQLite a caller that holds an
    open write transaction while a connector refreshes would make that write wait
    for the busy timeout and fail, so jobs call ledgers outside write transactions.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        connection_id: int,
        redis: Redis,
        *,
        lock_timeout: float = REFRESH_LOCK_TIMEOUT,
        lock_wait: float = REFRESH_LOCK_WAIT,
    ) -> None:
        self._factory = factory
        self.connection_id = connection_id
        self._redis = redis
        self._lock_timeout = lock_timeout
        self._lock_wait = lock_wait

    @property
    def lock_name(self) -> str:
        return f"care:refresh:{self.connection_id}"

    def load(self) -> TokenSet:
        """The newest stored tokens; ReconnectError if the connection needs a person."""
        with self._factory() as session:
            row = self._get(session)
            if row.status != "connected":
                raise ReconnectError(
                    f"connection {row.id} is {row.status}: {row.status_reason or ''}"
                )
            if not row.access_token or not row.refresh_token or not row.expires_at:
                raise ReconnectError(f"connection {row.id} has no stored tokens")
            return TokenSet(
                access_token=row.access_token,
                refresh_token=row.refresh_token,
                expires_at=row.expires_at,
                refresh_expires_at=row.refresh_expires_at,
                scope=tuple(row.scopes or ()),
                id_token=row.id_token,
            )

    def save(self, tokens: TokenSet) -> None:
        """Store `tokens` (both tokens and expiries together), committed on return."""
        if not tokens.access_token or not tokens.refresh_token:
            raise ValueError(f"connection {self.connection_id}: refusing empty tokens")
        if tokens.expires_at.tzinfo is None:
            raise ValueError("token expiry must be timezone-aware")
        with self._factory.begin() as session:
            row = self._get(session)
            row.access_token = tokens.access_token
            row.refresh_token = tokens.refresh_token
            row.expires_at = tokens.expires_at
            row.refresh_expires_at = tokens.refresh_expires_at
            row.scopes = list(tokens.scope)
            if tokens.id_token:
                row.id_token = tokens.id_token
        logger.info("tokens saved connection=%s", self.connection_id)

    def refresh_lock(self) -> AbstractContextManager[object]:
        """Held while refreshing: one refresh per connection across processes."""
        return self._redis.lock(
            self.lock_name,
            timeout=self._lock_timeout,
            blocking_timeout=self._lock_wait,
        )

    def needs_reconnect(self, reason: str) -> None:
        """Flip the connection to needs_reconnect once, audited; later calls no-op."""
        with self._factory.begin() as session:
            flipped = session.execute(
                sa.update(LedgerConnection)
                .where(
                    LedgerConnection.id == self.connection_id,
                    LedgerConnection.status == "connected",
                )
                .values(status="needs_reconnect", status_reason=reason)
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
            if not flipped:
                return
            creditor_id = session.scalar(
                sa.select(LedgerConnection.creditor_id).where(
                    LedgerConnection.id == self.connection_id
                )
            )
            audit.record(
                session,
                who="system:tokens",
                creditor_id=creditor_id,
                entity="connection",
                entity_id=self.connection_id,
                action="needs_reconnect",
                from_state="connected",
                to_state="needs_reconnect",
                why=reason,
            )
        logger.warning(
            "connection needs reconnect creditor=%s connection=%s reason=%s",
            creditor_id,
            self.connection_id,
            reason,
        )

    def _get(self, session: Session) -> LedgerConnection:
        row = session.get(LedgerConnection, self.connection_id)
        if row is None:
            raise LookupError(f"no ledger connection {self.connection_id}")
        return row


def connect(
    session: Session,
    *,
    creditor_id: int,
    ledger: str,
    external_id: str,
    tokens: TokenSet,
    who: str,
    company_name: str = "",
) -> LedgerConnection:
    """Create or reconnect the creditor's connection to one company, storing tokens."""
    if ledger not in LEDGERS:
        raise ValueError(f"unknown ledger {ledger!r}; expected one of {LEDGERS}")
    row = session.scalar(
        sa.select(LedgerConnection).where(
            LedgerConnection.creditor_id == creditor_id,
            LedgerConnection.ledger == ledger,
            LedgerConnection.external_id == external_id,
        )
    )
    previous = row.status if row is not None else None
    if row is None:
        row = LedgerConnection(
            creditor_id=creditor_id, ledger=ledger, external_id=external_id
        )
        session.add(row)
    row.company_name = company_name or row.company_name or ""
    row.status = "connected"
    row.status_reason = None
    row.access_token = tokens.access_token
    row.refresh_token = tokens.refresh_token
    row.expires_at = tokens.expires_at
    row.refresh_expires_at = tokens.refresh_expires_at
    row.scopes = list(tokens.scope)
    row.id_token = tokens.id_token
    row.connected_at = clock.now()
    row.disconnected_at = None
    session.flush()
    audit.record(
        session,
        who=who,
        creditor_id=creditor_id,
        entity="connection",
        entity_id=row.id,
        action="connect" if previous is None else "reconnect",
        from_state=previous,
        to_state="connected",
        why=f"{ledger} company {external_id} authorised",
    )
    return row


class OAuthStateError(Exception):
    """An OAuth callback's state is unknown, already used, expired or mismatched."""


def issue_state(
    session: Session,
    *,
    ledger: str,
    creditor_id: int | None,
    user_id: int | None,
    code_verifier: str | None = None,
) -> str:
    """A new random `state` for an authorization request, stored unused."""
    if ledger not in LEDGERS:
        raise ValueError(f"unknown ledger {ledger!r}; expected one of {LEDGERS}")
    value = secrets.token_urlsafe(32)
    session.add(
        OAuthState(
            state=value,
            ledger=ledger,
            code_verifier=code_verifier,
            creditor_id=creditor_id,
            user_id=user_id,
            created_at=clock.now(),
        )
    )
    session.flush()
    return value


def consume_state(
    session: Session,
    state: str,
    ledger: str,
    *,
    lifetime: timedelta = STATE_LIFETIME,
) -> OAuthState:
    """Mark `state` used and return it; a replayed, expired or foreign one is refused.

    One conditional UPDATE decides, so two copies of the same callback racing each
    other cannot both win (the second exchange of a code is what Intuit punishes).
    """
    now = clock.now()
    won = session.execute(
        sa.update(OAuthState)
        .where(
            OAuthState.state == state,
            OAuthState.ledger == ledger,
            OAuthState.used_at.is_(None),
            OAuthState.created_at > now - lifetime,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    # populate_existing: a row this session already held must show the winner's
    # used_at, or the loser of a race would read "unused" and report "expired".
    row = session.scalar(
        sa.select(OAuthState)
        .where(OAuthState.state == state)
        .execution_options(populate_existing=True)
    )
    if won == 1 and row is not None:
        session.refresh(row)
        return row
    if row is None:
        raise OAuthStateError("unknown OAuth state")
    if row.ledger != ledger:
        raise OAuthStateError(f"OAuth state was issued for {row.ledger}, not {ledger}")
    if row.used_at is not None:
        raise OAuthStateError("OAuth state already used (a repeated callback?)")
    raise OAuthStateError("OAuth state expired: start the connection again")
