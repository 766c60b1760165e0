"""C28 (QuickBooks half): 25 write-backs at once against one realm's 10-call cap."""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta
from decimal import Decimal

from connectors.base import RetryError, WaitError
from connectors.budget import CallBudget, Limits
from connectors.quickbooks.errors import backoff
from tests.connectors.quickbooks import factories as f

JOBS = 25


def run_job(env, invoice_id, outcomes, lock, rng, budget=None):
    """One RQ write-back job: retried with backoff; a wait moves the clock on."""
    for attempt in range(1, 12):
        try:
            connector = env.connector(budget=budget)
            result = connector.write_note(invoice_id, f"W-{invoice_id}", "Referred")
        except WaitError as exc:
            # RQ would re-enqueue the job after retry_after; the test lets that time
            # pass on the shared clock instead of sleeping through it.
            with lock:
                outcomes.append(("wait", invoice_id, exc.scope))
                if exc.scope != "concurrent":
                    env.clock.advance(timedelta(seconds=exc.retry_after))
            time.sleep(backoff(attempt, base=0.01, cap=0.2, rng=rng))
            continue
        except RetryError:
            time.sleep(backoff(attempt, base=0.01, cap=0.2, rng=rng))
            continue
        with lock:
            outcomes.append(("ok", invoice_id, result.created))
        return


def run_burst(env, budget=None):
    env.load(
        Customer=[f.customer(1, "Cool Cars")],
        Invoice=[f.invoice(i, 1, "100.00") for i in range(1, JOBS + 1)],
    )
    env.sandbox.faults.latency = 0.05  # so the jobs really overlap
    outcomes: list[tuple] = []
    lock = threading.Lock()
    threads = [
        threading.Thread(
            target=run_job,
            args=(env, str(i), outcomes, lock, random.Random(i), budget),
        )
        for i in range(1, JOBS + 1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_twenty_five_write_backs_never_exceed_ten_in_flight(env):
    outcomes = run_burst(env)
    assert_each_written_once(env, outcomes)
    assert env.sandbox.in_flight.peak[env.realm] <= 10
    assert not any(e.status == 429 for e in env.sandbox.log.entries())


def test_throttled_write_backs_are_retried_and_written_exactly_once(env, redis):
    """Our budget set too wide (say, a second app on the realm): QBO answers 429s."""
    wide = CallBudget(redis, "qbo:wide", Limits(per_minute=500, concurrent=JOBS))
    outcomes = run_burst(env, wide)
    assert_each_written_once(env, outcomes)
    assert env.sandbox.in_flight.peak[env.realm] <= 10
    throttled = sum(e.status == 429 for e in env.sandbox.log.entries())
    assert throttled > 0
    assert any(o[0] == "wait" for o in outcomes)


def assert_each_written_once(env, outcomes):
    done = [o for o in outcomes if o[0] == "ok"]
    assert sorted(int(o[1]) for o in done) == list(range(1, JOBS + 1))
    for i in range(1, JOBS + 1):
        note = env.sandbox.get(env.realm, "Invoice", str(i))["PrivateNote"]
        assert note.count(f"[CARE:W-{i}]") == 1
    writes = [
        e
        for e in env.sandbox.log.entries()
        if e.method == "POST" and e.path.endswith("/invoice") and e.status == 200
    ]
    assert len(writes) == JOBS
    assert env.sandbox.get(env.realm, "Invoice", "1")["Balance"] == Decimal("100.00")
