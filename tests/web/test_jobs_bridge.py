"""The web layer through the real job queue: RQ on a real Redis (embedded by default).

A QuickBooks notification delivered five times is recorded once, queues one
processing job, and that job queues one incremental sync of the named connection.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from app.config import LedgerApp
from app.models import LedgerConnection, WebhookDelivery
from tests.public_cases import CASES
from tests.web.conftest import QBO_VERIFIER

pytest.importorskip("jobs.api", reason="the job layer (jobs/) is not in this build")

REALM = "9130354426181920"


@pytest.fixture
def queued_app(monkeypatch, database_url, redis_url, redis, sessions, settings, clock):
    from dataclasses import replace

    from jobs import runtime

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("QBO_WEBHOOK_KEY", QBO_VERIFIER)
    runtime.runtime.cache_clear()
    from app.web import create_app

    app = create_app(
        replace(settings, quickbooks=LedgerApp(webhook_key=QBO_VERIFIER)),
        sessions=sessions,
        testing=True,
    )
    yield app
    runtime.runtime.cache_clear()


def _queue(redis: Any, name: str) -> Any:
    from rq import Queue

    return Queue(name, connection=redis)


def test_five_deliveries_queue_one_processing_job_and_one_sync(
    queued_app, world, redis, sessions
) -> None:
    from jobs.webhooks import process_webhook

    with sessions.begin() as session:
        row = session.get(LedgerConnection, world.a.connection_id)
        row.external_id = REALM
    note = json.loads((CASES / "C21.json").read_text())["input"]["notifications"][0]
    client = queued_app.test_client()
    for _ in range(5):
        response = client.post(
            "/webhooks/quickbooks",
            data=note["raw_body"].encode(),
            headers=note["headers"],
        )
        assert response.status_code == 200

    default = _queue(redis, "default")
    assert default.count == 1
    job = default.jobs[0]
    with sessions() as session:
        delivery_id = session.scalar(sa.select(WebhookDelivery.id))
    assert job.func_name.endswith("process_webhook") and job.args[0] == delivery_id

    # What a worker would do with it: one sync of the connection the body names.
    assert process_webhook(delivery_id) == [world.a.connection_id]
    assert process_webhook(delivery_id) == []  # processed: a retry does nothing
    sync = _queue(redis, "sync")
    assert sync.count == 1
    assert sync.jobs[0].args[0] == world.a.connection_id
