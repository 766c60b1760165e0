"""A Redis-backed TokenStore for the Xero tests, shared by OS processes.

It keeps the contract the app's store keeps: `save` is durable before it returns,
`refresh_lock` is held across processes, and a connection marked needs-reconnect
refuses `load` (so no worker spends a dead refresh token again, case C02 b).
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from datetime import datetime

import redis as redis_lib

from connectors.base import ReconnectError, TokenSet


class RedisTokenStore:
    """The tokens of one connection under `care:test:tokens:<name>`."""

    def __init__(self, redis_url: str, name: str, lock_timeout: float = 30) -> None:
        self.redis_url = redis_url
        self.name = name
        self.lock_timeout = lock_timeout
        self._redis = redis_lib.Redis.from_url(redis_url)
        self._key = f"care:test:tokens:{name}"

    def __getstate__(self) -> dict[str, object]:
        return {"url": self.redis_url, "name": self.name, "lock": self.lock_timeout}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__(state["url"], state["name"], state["lock"])  # type: ignore[misc]

    def load(self) -> TokenSet:
        reason = self._redis.get(f"{self._key}:reconnect")
        if reason is not None:
            raise ReconnectError(f"connection needs reconnect: {_text(reason)}")
        raw = self._redis.get(self._key)
        if raw is None:
            raise ReconnectError(f"no tokens stored for {self.name}")
        data = json.loads(raw)
        return TokenSet(
            access_token=data["access_token"],
            refresh_token=data["refresh_token"],
            expires_at=datetime.fromisoformat(data["expires_at"]),
            scope=tuple(data["scope"]),
        )

    def save(self, tokens: TokenSet) -> None:
        # One SET holds the pair and its expiry: never half-written.
        self._redis.set(
            self._key,
            json.dumps(
                {
                    "access_token": tokens.access_token,
                    "refresh_token": tokens.refresh_token,
                    "expires_at": tokens.expires_at.isoformat(),
                    "scope": list(tokens.scope),
                }
            ),
        )

    def refresh_lock(self) -> AbstractContextManager[object]:
        return self._redis.lock(
            f"{self._key}:lock", timeout=self.lock_timeout, blocking_timeout=30
        )

    def needs_reconnect(self, reason: str) -> None:
        if self._redis.set(f"{self._key}:reconnect", reason, nx=True):
            self._redis.incr(f"{self._key}:alerts")

    def alerts(self) -> int:
        """How many times the connection was newly marked needs-reconnect."""
        return int(self._redis.get(f"{self._key}:alerts") or 0)

    def reconnect_reason(self) -> str | None:
        raw = self._redis.get(f"{self._key}:reconnect")
        return _text(raw) if raw is not None else None


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw
