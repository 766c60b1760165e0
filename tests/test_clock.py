from datetime import UTC, datetime, timedelta

import pytest

from app import clock as clock_mod


def test_simulated_clock_moves_only_when_told(clock):
    start = clock.now()
    assert clock_mod.now() == start
    clock.advance(timedelta(days=1))
    assert clock_mod.now() == start + timedelta(days=1)


def test_local_today_is_counted_in_the_company_zone(clock):
    # 2025-05-01 12:00 UTC is already 2025-05-02 00:00 in Auckland (UTC+12 in May).
    assert str(clock_mod.local_today("Pacific/Auckland")) == "2025-05-02"
    assert str(clock_mod.local_today("America/Los_Angeles")) == "2025-05-01"


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        clock_mod.SimulatedClock(datetime(2025, 5, 1))  # noqa: DTZ001


def test_redis_clock_is_shared_between_clients(redis, redis_url):
    import redis as redis_lib

    first = clock_mod.RedisClock(redis)
    first.set(datetime(2025, 5, 1, tzinfo=UTC))
    other = clock_mod.RedisClock(redis_lib.Redis.from_url(redis_url))
    first.advance(timedelta(hours=3))
    # It flows with the wall clock between jumps, so allow the test's own run time.
    drift = other.now() - datetime(2025, 5, 1, 3, tzinfo=UTC)
    assert timedelta(0) <= drift < timedelta(seconds=5)
