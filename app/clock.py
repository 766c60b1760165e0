"""The one clock the product and the sandbox ledgers ask for the time.

Everything that needs "now" calls :func:`now` (or a clock handed to it), never
``datetime.now()``. Tests and the demo swap in a simulated clock; the demo shares one
across processes through Redis so the web app, the workers and the sandboxes agree.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The machine's wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """A clock that only moves when told to; shared by threads of one process."""

    def __init__(self, start: datetime) -> None:
        self._now = _aware(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, instant: datetime) -> None:
        with self._lock:
            self._now = _aware(instant)

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now = self._now + delta
            return self._now


class RedisClock:
    """A simulated clock kept in Redis, so every process reads the same instant.

    It flows at the wall clock's pace from wherever it was last set, so minute-long
    rate-limit windows still pass while work runs; `advance` jumps it (a day at a time
    in the demo). Only the offset from the wall clock is stored.
    """

    def __init__(self, redis, key: str = "care:clock") -> None:  # type: ignore[no-untyped-def]
        self._redis = redis
        self._key = key

    def now(self) -> datetime:
        raw = self._redis.get(self._key)
        if raw is None:
            raise RuntimeError(f"simulated clock {self._key!r} has not been set")
        return datetime.now(UTC) + timedelta(seconds=float(raw))

    def set(self, instant: datetime) -> None:
        offset = (_aware(instant) - datetime.now(UTC)).total_seconds()
        self._redis.set(self._key, repr(offset))

    def advance(self, delta: timedelta) -> datetime:
        self._redis.incrbyfloat(self._key, delta.total_seconds())
        return self.now()


_current: Clock = SystemClock()


def now() -> datetime:
    """The current instant by the process's clock (UTC, aware)."""
    return _current.now()


def get_clock() -> Clock:
    return _current


def set_clock(clock: Clock) -> Clock:
    """Install `clock` for this process and return the one it replaces."""
    global _current
    previous, _current = _current, clock
    return previous


def local_today(tz: str, clock: Clock | None = None) -> date:
    """Today's date in the time zone `tz` (an IANA name)."""
    instant = (clock or _current).now()
    return instant.astimezone(ZoneInfo(tz)).date()


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("a clock needs a timezone-aware datetime, got a naive one")
    return instant.astimezone(UTC)
