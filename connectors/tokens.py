"""Access tokens for one connection, refreshed at most once at a time across processes.

Both ledgers rotate refresh tokens: each refresh retires the one it spent. Two workers
that refresh together spend the same token twice and the loser gets `invalid_grant`
(shared cases C01, C02). So a refresh happens under the store's lock, re-reads the store
first (another worker may have refreshed while this one waited), and the rotated pair is
saved before anyone uses it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from app import clock as clock_mod
from connectors.base import ReconnectError, TokenSet, TokenStore

logger = logging.getLogger(__name__)

# Refresh a little before expiry so a token never dies between check and use.
LEEWAY = timedelta(seconds=60)


class InvalidGrantError(Exception):
    """A ledger refused the refresh token: spent, expired or revoked."""


class TokenKeeper:
    """Hands out a live access token for one connection."""

    def __init__(
        self,
        store: TokenStore,
        refresh: Callable[[str], TokenSet],
        *,
        name: str = "",
        clock: clock_mod.Clock | None = None,
    ) -> None:
        self._store = store
        self._refresh = refresh
        self._name = name
        self._clock = clock
        self.refreshes = 0  # refresh calls this keeper made

    def current(self) -> TokenSet:
        """Stored tokens, refreshed first if the access token is about to expire."""
        tokens = self._store.load()
        if self._live(tokens):
            return tokens
        return self.refresh(stale=tokens)

    def refresh(self, stale: TokenSet | None = None) -> TokenSet:
        """Refresh once under the lock; `stale` is the token the caller saw fail."""
        with self._store.refresh_lock():
            current = self._store.load()
            if self._replaced(current, stale):
                logger.info(
                    "tokens already refreshed by another worker conn=%s", self._name
                )
                return current

            try:
                fresh = self._refresh(current.refresh_token)
            except InvalidGrantError as exc:
                return self._after_invalid_grant(current, exc)

            self.refreshes += 1
            self._store.save(fresh)
            logger.info("tokens refreshed conn=%s", self._name)
            return fresh

    def _after_invalid_grant(self, spent: TokenSet, exc: Exception) -> TokenSet:
        # A worker that refreshed without our lock (an older release, another host)
        # may have stored the rotated pair: use it rather than declaring the grant dead.
        again = self._store.load()
        if again.refresh_token != spent.refresh_token:
            logger.warning("refresh token was rotated elsewhere conn=%s", self._name)
            return again
        self._store.needs_reconnect("invalid_grant")
        logger.error("refresh refused, connection needs reconnect conn=%s", self._name)
        raise ReconnectError(
            "the ledger refused the refresh token (invalid_grant)"
        ) from exc

    def _live(self, tokens: TokenSet) -> bool:
        now = (self._clock or clock_mod.get_clock()).now()
        return tokens.expires_at - LEEWAY > now

    def _replaced(self, current: TokenSet, stale: TokenSet | None) -> bool:
        if stale is None:
            return self._live(current)
        return current.access_token != stale.access_token and self._live(current)
