"""Refusing sign-ins after repeated failures, per e-mail and per client address.

After `EMAIL_LIMIT` failed sign-ins for one e-mail within `WINDOW` (or
`ADDRESS_LIMIT` from one address), every further attempt is refused for `COOLING`,
right password or not. A success clears the e-mail's count; it never clears an
address's, or one valid account would let its owner guess at every other.

An attempt is counted before the password is checked and taken back if it succeeds,
so a burst of parallel requests cannot all get past the count. The counts live in
Redis (every web worker sees them) under an HMAC of the e-mail or address keyed with
SECRET_KEY, never the value itself; the logs show the same hash. Time is CARE's
clock, so tests move it instead of sleeping; Redis expiry only clears old keys.

An e-mail locks whether or not an account has it, so a lock tells nobody who has
one. The cost: anyone can lock a known e-mail out for `COOLING` at a time.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import redis as redis_lib
from flask import current_app
from werkzeug.wrappers import Request

from app import clock as clock_mod

logger = logging.getLogger(__name__)

EMAIL_LIMIT = 5
ADDRESS_LIMIT = 20  # offices and mobile carriers put many people behind one address
WINDOW = timedelta(minutes=15)
COOLING = timedelta(minutes=15)
PREFIX = "care:signin"


class LockedError(Exception):
    """Sign-in is paused for this e-mail or address until `until`."""

    def __init__(self, until: datetime, now: datetime) -> None:
        super().__init__(f"sign-in locked until {until.isoformat()}")
        self.until = until
        self.retry_after = max(1, math.ceil((until - now).total_seconds()))


@dataclass(frozen=True)
class _Count:
    scope: str  # "email" or "address"
    digest: str
    limit: int
    count: int = 0


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt, counted; report how it went with `failed`/`succeeded`."""

    member: str
    at: datetime
    counts: tuple[_Count, ...] = field(default=())


class SignInThrottle:
    """The failure counts and locks of sign-in, in Redis."""

    def __init__(
        self,
        redis: Any,
        secret: str | bytes,
        *,
        clock: clock_mod.Clock | None = None,
        email_limit: int = EMAIL_LIMIT,
        address_limit: int = ADDRESS_LIMIT,
        window: timedelta = WINDOW,
        cooling: timedelta = COOLING,
    ) -> None:
        self._redis = redis
        self._secret = secret.encode() if isinstance(secret, str) else secret
        self._clock = clock
        self.email_limit, self.address_limit = email_limit, address_limit
        self.window, self.cooling = window, cooling

    def digest(self, value: str) -> str:
        """The value's keyed hash, as keys and logs show it."""
        mac = hmac.new(self._secret, value.encode(), hashlib.sha256)
        return mac.hexdigest()[:24]

    def begin(self, email: str, address: str) -> Attempt:
        """Count an attempt before its password is checked.

        Raises:
            LockedError: the e-mail or the address is cooling off.
        """
        now = self._now()
        counts = (
            _Count("email", self.digest(email), self.email_limit),
            _Count("address", self.digest(address), self.address_limit),
        )
        try:
            return self._begin(counts, now)
        except redis_lib.RedisError:
            # Fail open: with Redis down, sign-in stays up, unthrottled, and says so.
            logger.exception("sign-in throttle unavailable, attempt not counted")
            return Attempt(member="", at=now)

    def failed(self, attempt: Attempt) -> datetime | None:
        """The password was wrong: lock what reached its limit; when that lifts."""
        full = [c for c in attempt.counts if c.count >= c.limit]
        if not full:
            return None
        try:
            return self._lock(full, attempt.at)
        except redis_lib.RedisError:
            logger.exception("sign-in throttle unavailable, lock not set")
            return None

    def succeeded(self, attempt: Attempt) -> None:
        """Signed in: the e-mail starts afresh, the address forgets this attempt."""
        if not attempt.counts:
            return
        try:
            self._forget(attempt)
        except redis_lib.RedisError:
            logger.exception("sign-in throttle unavailable, success not recorded")

    def _begin(self, counts: tuple[_Count, ...], now: datetime) -> Attempt:
        stamp = now.timestamp()
        held = self._redis.mget([self._key(c, "lock") for c in counts])
        until = max((float(v) for v in held if v is not None), default=0.0)
        if until > stamp:
            raise LockedError(datetime.fromtimestamp(until, UTC), now)
        member = f"{stamp:.6f}:{secrets.token_hex(4)}"
        pipe = self._redis.pipeline(transaction=True)
        for c in counts:
            tries = self._key(c, "tries")
            pipe.zremrangebyscore(tries, "-inf", stamp - self.window.total_seconds())
            pipe.zadd(tries, {member: stamp})
            pipe.zcard(tries)
            pipe.expire(tries, self._ttl(self.window + self.cooling))
        replies = pipe.execute()
        counted = tuple(
            _Count(c.scope, c.digest, c.limit, int(n))
            for c, n in zip(counts, replies[2::4], strict=True)
        )
        attempt = Attempt(member, now, counted)
        over = [c for c in counted if c.count > c.limit]
        if over:
            # Parallel attempts that passed the lock check together: the ones past
            # the limit are refused unchecked.
            until_dt = self._lock(over, now)
            raise LockedError(until_dt, now)
        return attempt

    def _lock(self, full: list[_Count], now: datetime) -> datetime:
        until = now + self.cooling
        pipe = self._redis.pipeline(transaction=True)
        for c in full:
            pipe.set(self._key(c, "lock"), repr(until.timestamp()), ex=self._ttl())
        pipe.execute()
        for c in full:
            logger.warning(
                "sign-in locked scope=%s %s_hash=%s failures=%d until=%s",
                c.scope,
                c.scope,
                c.digest,
                c.count,
                until.isoformat(),
            )
        return until

    def _forget(self, attempt: Attempt) -> None:
        pipe = self._redis.pipeline(transaction=True)
        for c in attempt.counts:
            if c.scope == "email":
                pipe.delete(self._key(c, "tries"), self._key(c, "lock"))
            else:
                pipe.zrem(self._key(c, "tries"), attempt.member)
        pipe.execute()

    def _key(self, count: _Count, kind: str) -> str:
        return f"{PREFIX}:{count.scope}:{count.digest}:{kind}"

    def _ttl(self, span: timedelta | None = None) -> int:
        # Real seconds, only so Redis drops stale keys; decisions use CARE's clock.
        return math.ceil((span or self.cooling).total_seconds()) + 60

    def _now(self) -> datetime:
        return (self._clock or clock_mod.get_clock()).now()


def current() -> SignInThrottle:
    """The app's throttle, on the app's Redis (made on first use)."""
    found = current_app.extensions.get("care_signin")
    if found is None:
        from app.redis_client import connect
        from app.web.security import care

        settings = care().settings
        redis = connect(settings.redis_url, settings.data_dir)
        found = SignInThrottle(redis, current_app.secret_key or "")
        current_app.extensions["care_signin"] = found
    return found  # type: ignore[no-any-return]


_warned: list[bool] = []


def client_address(request: Request, proxy_hops: int) -> str:
    """The address the request came from, as the first of our proxies saw it.

    Each proxy appends the address it was reached from to X-Forwarded-For, so with
    `proxy_hops` proxies of ours the client is that many entries from the right;
    entries further left are whatever the client chose to send.
    """
    if proxy_hops > 0:
        forwarded = request.headers.get("X-Forwarded-For", "")
        hops = [part.strip() for part in forwarded.split(",") if part.strip()]
        if len(hops) >= proxy_hops:
            return hops[-proxy_hops]
    elif "X-Forwarded-For" in request.headers and not _warned:
        _warned.append(True)
        logger.warning(
            "requests come through a proxy but CARE_PROXY_HOPS is 0: the sign-in"
            " throttle counts the proxy's address for everyone"
        )
    return request.remote_addr or "unknown"
