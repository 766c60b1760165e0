"""Named fault points for the demo and the crash tests; inert unless armed in Redis.

`care demo` arms `send` to hold an outreach job in the middle of a send (the effect
row claimed, the provider not yet told), then SIGKILLs that process, to show that the
retry sends once and loses nothing. Nothing arms a point in normal operation.
"""

from __future__ import annotations

import logging
import os
import time

import redis as redis_lib

logger = logging.getLogger(__name__)


def arm(redis: redis_lib.Redis, point: str) -> None:
    redis.set(f"care:fault:arm:{point}", 1, ex=600)


def disarm(redis: redis_lib.Redis, point: str) -> None:
    redis.delete(f"care:fault:arm:{point}", f"care:fault:held:{point}")


def held_pid(redis: redis_lib.Redis, point: str) -> int | None:
    raw = redis.get(f"care:fault:held:{point}")
    return int(raw) if raw else None


def hold(redis: redis_lib.Redis, point: str, limit: float = 60.0) -> None:
    """If `point` is armed, stop here (once) until disarmed or `limit` seconds pass."""
    if not redis.delete(f"care:fault:arm:{point}"):
        return
    redis.set(f"care:fault:held:{point}", os.getpid(), ex=600)
    logger.warning("fault point held point=%s pid=%s", point, os.getpid())
    deadline = time.monotonic() + limit
    while redis.exists(f"care:fault:held:{point}") and time.monotonic() < deadline:
        time.sleep(0.05)
