import threading
import time
from datetime import timedelta

import pytest

from connectors.base import WaitError
from connectors.budget import CallBudget, Limits


def test_minute_limit_says_how_long_to_wait(redis, clock):
    budget = CallBudget(redis, "t1", Limits(per_minute=3, concurrent=5), clock=clock)
    for _ in range(3):
        with budget.call():
            clock.advance(timedelta(seconds=10))
    # Calls at :00, :10, :20; now :30; the first leaves the window at 1:00.
    with pytest.raises(WaitError) as raised:
        with budget.call():
            pass
    assert raised.value.scope == "minute"
    assert raised.value.retry_after == pytest.approx(30.0)

    clock.advance(timedelta(seconds=30))
    with budget.call():
        pass


def test_day_limit_is_told_apart_from_the_minute(redis, clock):
    budget = CallBudget(
        redis, "t2", Limits(per_minute=100, concurrent=5, per_day=2), clock=clock
    )
    for _ in range(2):
        with budget.call():
            clock.advance(timedelta(hours=1))
    with pytest.raises(WaitError) as raised:
        with budget.call():
            pass
    assert raised.value.scope == "day"
    assert raised.value.retry_after == pytest.approx(22 * 3600)


def test_pause_after_a_429_blocks_until_retry_after(redis, clock):
    budget = CallBudget(redis, "t3", Limits(per_minute=60, concurrent=5), clock=clock)
    budget.pause_until(clock.now() + timedelta(seconds=17), "minute")
    with pytest.raises(WaitError) as raised:
        with budget.call():
            pass
    assert raised.value.retry_after == pytest.approx(17.0)
    clock.advance(timedelta(seconds=17))
    with budget.call():
        pass


def test_concurrency_never_exceeds_the_cap(redis, redis_url, clock):
    import redis as redis_lib

    peak, now_in, lock = [0], [0], threading.Lock()

    def worker() -> None:
        client = redis_lib.Redis.from_url(redis_url)
        budget = CallBudget(
            client, "t4", Limits(per_minute=1000, concurrent=2), clock=clock
        )
        for _ in range(5):
            with budget.call(wait_concurrent=10):
                with lock:
                    now_in[0] += 1
                    peak[0] = max(peak[0], now_in[0])
                time.sleep(0.01)
                with lock:
                    now_in[0] -= 1

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2


def test_a_killed_workers_slot_comes_back_after_its_lease(redis, clock):
    budget = CallBudget(
        redis,
        "t5",
        Limits(per_minute=100, concurrent=1),
        clock=clock,
        lease_seconds=0.2,
    )
    held = budget.call()
    held.__enter__()  # never exited: the worker died holding it
    with pytest.raises(WaitError):
        with budget.call(wait_concurrent=0.05):
            pass
    with budget.call(wait_concurrent=2):
        pass


def test_remaining_counts_the_minute_the_day_and_a_pause(redis, clock):
    budget = CallBudget(
        redis, "t6", Limits(per_minute=5, concurrent=5, per_day=7), clock=clock
    )
    assert budget.remaining() == 5
    for _ in range(3):
        with budget.call():
            clock.advance(timedelta(seconds=10))
    # Calls at :00, :10, :20, now :30: 2 left this minute, 4 today.
    assert budget.remaining() == 2

    clock.advance(timedelta(seconds=31))  # 1:01: the call at :00 left the window
    assert budget.remaining() == 3
    for _ in range(3):
        with budget.call():
            pass
    assert budget.remaining() == 0  # 5 calls in (0:01, 1:01]

    clock.advance(timedelta(seconds=20))  # 1:21: :10 and :20 left, 3 in the window
    assert budget.remaining() == 1  # the minute has 2, but the day only 1 of 7

    other = CallBudget(redis, "t7", Limits(per_minute=60, concurrent=5), clock=clock)
    other.pause_until(clock.now() + timedelta(seconds=5), "minute")
    assert other.remaining() == 0
    clock.advance(timedelta(seconds=5))
    assert other.remaining() == 60
