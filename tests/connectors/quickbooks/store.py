"""A TokenStore kept in Redis, so two OS processes share one connection's tokens."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from datetime import datetime

import redis as redis_lib

from connectors.base import TokenSet


class RedisTokenStore:
    """Tokens as one JSON value; the refresh lock is a Redis lock."""

    def __init__(self, redis_url: str, name: str) -> None:
        self.redis_url = redis_url
        self.name = name
        self._redis = redis_lib.Redis.from_url(redis_url)
        self._key = f"test:qbo:tokens:{name}"

    def load(self) -> TokenSet:
        raw = self._redis.get(self._key)
        if raw is None:
            raise LookupError(f"no tokens stored for {self.name}")
        data = json.loads(raw)
        return TokenSet(
            access_token=data["access_token"],
            refresh_token=data["refresh_token"],
            expires_at=datetime.fromisoformat(data["expires_at"]),
        )

    def save(self, tokens: TokenSet) -> None:
        data = {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_at": tokens.expires_at.isoformat(),
        }
        self._redis.set(self._key, json.dumps(data))
        self._redis.incr(f"{self._key}:saves")

    def refresh_lock(self) -> AbstractContextManager[object]:
        return self._redis.lock(f"{self._key}:lock", timeout=30, blocking_timeout=30)

    def needs_reconnect(self, reason: str) -> None:
        if self._redis.set(f"{self._key}:reconnect", reason, nx=True):
            self._redis.incr(f"{self._key}:reconnect_marks")

    def reconnect_reason(self) -> str | None:
        raw = self._redis.get(f"{self._key}:reconnect")
        return raw.decode() if raw else None

    def reconnect_marks(self) -> int:
        return int(self._redis.get(f"{self._key}:reconnect_marks") or 0)

    def saves(self) -> int:
        return int(self._redis.get(f"{self._key}:saves") or 0)
