"""Issue 5's promises, through real RQ worker processes on a real Redis:
nothing sent twice and nothing lost, whatever retries, kills or duplicates happen."""

import base64
import hashlib
import hmac
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from rq import Queue
from rq.registry import ScheduledJobRegistry

from jobs import faults
from jobs import runtime as runtime_mod
from jobs.outreach import RETRY
from tests.jobs.conftest import REALM, VERIFIER, connect_creditor
from tests.jobs.test_pipeline import _books


def _referred_and_due(backend):
    from jobs.sync import sync_connection

    _books(backend)
    connect_creditor(backend)
    sync_connection(backend.connection_id)


def test_a_sweep_enqueued_ten_times_sends_one_letter(backend):
    from jobs.sweep import sweep_creditor
    from jobs.tick import dispatch_due

    _referred_and_due(backend)
    rt = runtime_mod.runtime()
    # Ten plain enqueues, past the coalescing, run by two workers at once: the
    # database's unique keys have to hold on their own.
    queue = Queue("default", connection=rt.redis)
    for _ in range(10):
        queue.enqueue(sweep_creditor, backend.creditor_id)
    workers = [_worker(backend) for _ in range(2)]
    for worker in workers:
        worker.wait(timeout=120)

    backend.advance(hours=2)
    for _ in range(3):
        dispatch_due()
    backend.run_workers()

    assert len(list(backend.letters.rglob("*.pdf"))) == 1
    assert len(backend.inbox.messages) == 1
    from app.models import OutreachStep, ReferralCase

    with rt.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ReferralCase)) == 1
        assert session.scalar(sa.select(sa.func.count()).select_from(OutreachStep)) == 7


@pytest.mark.slow
def test_worker_killed_mid_send_sends_once_and_loses_nothing(backend):
    from app.models import Effect
    from jobs.sweep import sweep_creditor
    from jobs.tick import dispatch_due

    _referred_and_due(backend)
    rt = runtime_mod.runtime()
    sweep_creditor(backend.creditor_id)
    backend.advance(hours=2)
    faults.arm(rt.redis, "send")
    dispatch_due()
    worker = _worker(backend, burst=False)
    try:
        pid = _wait_for(lambda: faults.held_pid(rt.redis, "send"))
        subprocess.run(["kill", "-9", str(pid)], check=True)  # noqa: S603, S607
        faults.disarm(rt.redis, "send")
        # RQ's worker sees its work horse die and schedules the retry (30 s).
        _bring_retry_forward(rt.redis, "outreach", after=RETRY.intervals[0])
        _wait_for(lambda: _effect_state(rt, "email") == "sent", timeout=120)
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    assert len(backend.inbox.messages) == 1
    with rt.sessions() as session:
        email = session.scalars(
            sa.select(Effect).where(Effect.channel == "email")
        ).one()
        assert (email.state, email.attempts) == ("sent", 2)


def test_a_webhook_delivered_five_times_syncs_once_and_counts_one_payment(backend):
    from app.models import FeeAccrual, Payment
    from app.web import create_app
    from jobs.sweep import sweep_creditor

    _referred_and_due(backend)
    rt = runtime_mod.runtime()
    sweep_creditor(backend.creditor_id)
    backend.run_workers()
    backend.advance(days=2)

    backend.sandbox.pay_invoice(REALM, "1501", Decimal("450.00"), on=date(2025, 5, 3))
    [delivery] = [
        d for d in backend.sandbox.notifier.deliveries if b'"qbo.payment' in d.body
    ]
    signature = base64.b64encode(
        hmac.new(VERIFIER.encode(), delivery.body, hashlib.sha256).digest()
    ).decode()
    client = create_app(testing=True).test_client()
    for _ in range(5):
        answer = client.post(
            "/webhooks/quickbooks",
            data=delivery.body,
            headers={"intuit-signature": signature, "Content-Type": "application/json"},
        )
        assert answer.status_code == 200
    backend.run_workers()

    syncs = sum(log.count("sync start") for log in backend.extra["worker_logs"][-1:])
    assert syncs == 1
    with rt.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 1
        fee = session.scalars(sa.select(FeeAccrual)).one()
        assert fee.fee_amount == Decimal("4.50")


def _worker(backend, burst: bool = True) -> subprocess.Popen:
    args = [sys.executable, "-m", "app.cli", "worker"] + (["--burst"] if burst else [])
    return subprocess.Popen(  # noqa: S603
        args, env=backend.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _effect_state(rt, channel):
    from app.models import Effect

    with rt.sessions() as session:
        return session.scalar(sa.select(Effect.state).where(Effect.channel == channel))


def _bring_retry_forward(redis, queue: str, after: int) -> None:
    """Wait for the one retry RQ schedules, check it is `after` seconds out, then
    make it due now: RQ's scheduler still moves it to the queue, in a second
    rather than the half-minute a real outage would wait."""
    registry = ScheduledJobRegistry(queue, connection=redis)
    [job_id] = _wait_for(registry.get_job_ids)
    wait = registry.get_scheduled_time(job_id) - datetime.now(UTC)
    assert timedelta(seconds=after - 10) < wait <= timedelta(seconds=after)
    redis.zadd(registry.key, {job_id: time.time()}, xx=True)


def _wait_for(condition, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")
