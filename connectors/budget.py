"""Call budgets per realm or tenant, shared by every worker through Redis.

RQ can cap how many jobs run at once, but not calls a minute or a day, and the ledgers
count per company: QuickBooks 500 a minute and 10 at once per realm, Xero 60 a minute,
5,000 a day and 5 at once per tenant. Every API call takes a slot here first; a budget
that is spent raises `WaitError` with the seconds to wait, so the job can be put back
on the queue instead of hot-retrying into 429s.

The minute and day windows follow the product's clock (simulated in tests and the
demo); leases on concurrent slots expire by the wall clock, so a SIGKILLed worker's
slot comes back after `lease_seconds`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import redis as redis_lib

from app import clock as clock_mod
from connectors.base import WaitError

logger = logging.getLogger(__name__)

# KEYS: minute zset, day zset, in-flight zset, pause key
# ARGV: now_ms, per_minute, per_day (0 = none), concurrent, lease id, wall_ms, lease_ms
_TAKE = """
local now = tonumber(ARGV[1])
local pause = tonumber(redis.call('GET', KEYS[4]) or '0')
if pause > now then return {'pause', pause - now} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 60000)
local per_minute = tonumber(ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= per_minute then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {'minute', tonumber(oldest[2]) + 60000 - now}
end
local per_day = tonumber(ARGV[3])
if per_day > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 86400000)
  if redis.call('ZCARD', KEYS[2]) >= per_day then
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return {'day', tonumber(oldest[2]) + 86400000 - now}
  end
end
local wall = tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', wall)
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[4]) then return {'concurrent', 0} end
redis.call('ZADD', KEYS[3], wall + tonumber(ARGV[7]), ARGV[5])
local member = ARGV[5]
redis.call('ZADD', KEYS[1], now, member)
redis.call('EXPIRE', KEYS[1], 120)
if per_day > 0 then
  redis.call('ZADD', KEYS[2], now, member)
  redis.call('EXPIRE', KEYS[2], 172800)
end
return {'ok', 0}
"""


@dataclass(frozen=True)
class Limits:
    per_minute: int
    concurrent: int
    per_day: int | None = None


QUICKBOOKS_LIMITS = Limits(per_minute=500, concurrent=10)
XERO_LIMITS = Limits(per_minute=60, concurrent=5, per_day=5000)


class CallBudget:
    """The shared budget of one realm or tenant."""

    def __init__(
        self,
        redis: redis_lib.Redis,
        name: str,
        limits: Limits,
        *,
        clock: clock_mod.Clock | None = None,
        lease_seconds: float = 120.0,
    ) -> None:
        self._redis = redis
        self._limits = limits
        self._clock = clock
        self._lease_ms = int(lease_seconds * 1000)
        base = f"care:budget:{name}"
        self._keys = [
            f"{base}:minute",
            f"{base}:day",
            f"{base}:inflight",
            f"{base}:pause",
        ]
        self._take = redis.register_script(_TAKE)
        self.name = name

    @contextmanager
    def call(self, wait_concurrent: float = 30.0) -> Iterator[None]:
        """Hold one call's slot; raises WaitError when the minute or day is spent."""
        lease = uuid.uuid4().hex
        self._acquire(lease, wait_concurrent)
        try:
            yield
        finally:
            self._redis.zrem(self._keys[2], lease)

    def pause_until(self, until: datetime, scope: str) -> None:
        """Make no calls before `until`: the ledger said so (a 429 with Retry-After)."""
        until_ms = int(until.timestamp() * 1000)
        current = int(self._redis.get(self._keys[3]) or 0)
        if until_ms > current:
            self._redis.set(self._keys[3], until_ms, ex=2 * 86400)
            logger.warning(
                "budget paused name=%s scope=%s until=%s", self.name, scope, until
            )

    def remaining(self) -> int:
        """Calls left in the current minute (and day); 0 while paused.

        A reading, not a reservation: a dispatcher sizes a batch of jobs with it,
        and each call still takes its own slot.
        """
        now_ms = int(self._now().timestamp() * 1000)
        if int(self._redis.get(self._keys[3]) or 0) > now_ms:
            return 0
        minute = self._redis.zcount(self._keys[0], f"({now_ms - 60000}", "+inf")
        left = self._limits.per_minute - int(minute)
        if self._limits.per_day:
            day = self._redis.zcount(self._keys[1], f"({now_ms - 86400000}", "+inf")
            left = min(left, self._limits.per_day - int(day))
        return max(0, left)

    def paused_until(self) -> datetime | None:
        raw = self._redis.get(self._keys[3])
        if raw is None:
            return None
        until = datetime.fromtimestamp(int(raw) / 1000, tz=clock_mod.now().tzinfo)
        return until if until > self._now() else None

    def _acquire(self, lease: str, wait_concurrent: float) -> None:
        deadline = time.monotonic() + wait_concurrent
        delay = 0.01
        while True:
            verdict, wait_ms = self._try(lease)
            if verdict == "ok":
                return
            if verdict != "concurrent":
                scope = {"pause": "paused"}.get(verdict, verdict)
                raise WaitError(
                    f"call budget {self.name} spent ({verdict})",
                    retry_after=max(1.0, wait_ms / 1000),
                    scope=scope,
                )
            if time.monotonic() >= deadline:
                raise WaitError(
                    f"call budget {self.name}: no free concurrent slot",
                    retry_after=1.0,
                    scope="concurrent",
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    def _try(self, lease: str) -> tuple[str, float]:
        now_ms = int(self._now().timestamp() * 1000)
        wall_ms = int(time.time() * 1000)
        args: list[int | str] = [
            now_ms,
            self._limits.per_minute,
            self._limits.per_day or 0,
            self._limits.concurrent,
            lease,
            wall_ms,
            self._lease_ms,
        ]
        verdict, wait_ms = self._take(keys=self._keys, args=args)
        name = verdict.decode() if isinstance(verdict, bytes) else str(verdict)
        return name, float(wait_ms)

    def _now(self) -> datetime:
        return (self._clock or clock_mod.get_clock()).now()
