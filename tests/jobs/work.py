"""Job functions the test workers import (they must live in an importable module)."""

import time

import redis as redis_lib
from rq import get_current_job

from jobs.queues import unique_job


def _redis() -> redis_lib.Redis:
    return get_current_job().connection


@unique_job(lambda name, *_: f"test:{name}")
def record(name: str, value: str, hold_until_key: str | None = None) -> None:
    """Append `value` to list `runs:<name>`; optionally wait until a key exists."""
    conn = _redis()
    conn.rpush(f"runs:{name}", value)
    if hold_until_key:
        deadline = time.monotonic() + 20
        while not conn.exists(hold_until_key) and time.monotonic() < deadline:
            time.sleep(0.02)
    conn.rpush(f"done:{name}", value)
