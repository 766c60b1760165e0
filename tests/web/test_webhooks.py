"""Webhook endpoints through the Flask test client: shared cases C20 and C21.

Bodies, headers and keys are the cases' own; the expected answers are theirs too.
The handler records each delivery once and hands its id to the job queue.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import sqlalchemy as sa

from app.models import WebhookDelivery
from app.web.webhooks import signature, verified
from tests.public_cases import CASES
from tests.web.conftest import count


def load_case(case_id: str) -> dict[str, Any]:
    path = CASES / f"{case_id}.json"
    if not path.exists():
        pytest.fail(f"public case {path} is missing: tests/cases/ holds the copies")
    return json.loads(path.read_text(encoding="utf-8"))


def post(client: Any, path: str, delivery: dict[str, Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    response = client.post(
        path,
        data=delivery["raw_body"].encode("utf-8"),
        headers=delivery["headers"],
    )
    return response, time.perf_counter() - started


def test_c20_xero_intent_to_receive_and_event(app, jobs, sessions) -> None:
    case = load_case("C20")
    assert (
        case["input"]["webhook_key"] == app.extensions["care"].settings.xero.webhook_key
    )
    client = app.test_client()
    answers = {}
    for delivery in case["input"]["deliveries"]:
        response, seconds = post(client, "/webhooks/xero", delivery)
        answers[delivery["id"]] = response.status_code
        assert response.get_data() == b"", "Xero wants an empty body in every reply"
        assert seconds < case["expected"]["max_response_time_s"]
    assert answers == case["expected"]["responses"]

    # D1 is the intent-to-receive probe (no events): nothing recorded or enqueued.
    assert len(jobs.webhooks) == sum(case["expected"]["jobs_enqueued"].values()) == 1
    with sessions() as session:
        delivery = session.get(WebhookDelivery, jobs.webhooks[0])
        assert delivery is not None and delivery.ledger == "xero"
        job = case["expected"]["job_D3"]
        tenant = job["tenant_id"]
        kind, resource = job["resource"].split()
        assert delivery.payload == [
            {"tenant": tenant, "entity": kind, "id": resource, "op": "update"}
        ]


def test_c20_signature_over_a_compact_redump_is_refused(app, jobs) -> None:
    case = load_case("C20")
    key = case["input"]["webhook_key"]
    raw = case["input"]["deliveries"][0]["raw_body"].encode()
    redump = json.dumps(json.loads(raw), separators=(",", ":")).encode()
    assert (
        signature(key, redump)
        == case["input"]["reference_hmac_of_compact_redump_of_D1"]
    )
    # Signed over the re-serialised body, the original bytes do not verify.
    response = app.test_client().post(
        "/webhooks/xero", data=raw, headers={"x-xero-signature": signature(key, redump)}
    )
    assert response.status_code == 401
    assert jobs.webhooks == []


def test_c21_quickbooks_verifier_token_over_raw_body(app, jobs, sessions) -> None:
    case = load_case("C21")
    assert (
        case["input"]["verifier_token"]
        == app.extensions["care"].settings.quickbooks.webhook_key
    )
    client = app.test_client()
    answers = {}
    for note in case["input"]["notifications"]:
        response, seconds = post(client, "/webhooks/quickbooks", note)
        answers[note["id"]] = response.status_code
        assert seconds < case["expected"]["max_response_time_s"]
    assert answers["N1"] == 200
    assert answers["N2"] in (401, 403), "signed with the client secret"
    assert answers["N3"] in (401, 403), "pretty-printed body, compact body's signature"

    # One delivery recorded, holding both entities the case expects jobs for.
    assert len(jobs.webhooks) == 1
    with sessions() as session:
        delivery = session.get(WebhookDelivery, jobs.webhooks[0])
        assert delivery is not None
        found = [
            {"realm_id": e["tenant"], "entity": e["entity"], "id": e["id"]}
            for e in delivery.payload
        ]
    assert found == case["expected"]["N1_jobs"]
    assert sum(case["expected"]["jobs_enqueued"].values()) == len(found)


def test_c21_n2_is_the_client_secret_signature(app) -> None:
    case = load_case("C21")
    body = case["input"]["notifications"][1]["raw_body"].encode()
    assert (
        signature(case["input"]["client_secret"], body)
        == (case["input"]["notifications"][1]["headers"]["intuit-signature"])
    )
    assert not verified(
        case["input"]["verifier_token"],
        body,
        signature(case["input"]["client_secret"], body),
    )


def test_redelivered_notification_is_recorded_and_enqueued_once(
    app, jobs, sessions
) -> None:
    note = load_case("C21")["input"]["notifications"][0]
    client = app.test_client()
    codes = [
        post(client, "/webhooks/quickbooks", note)[0].status_code for _ in range(5)
    ]
    assert codes == [200] * 5
    assert len(jobs.webhooks) == 1
    assert count(sessions, WebhookDelivery) == 1


def test_cloudevents_redelivery_keys_on_event_ids(app, jobs, sessions) -> None:
    key = app.extensions["care"].settings.quickbooks.webhook_key
    events = [
        {
            "specversion": "1.0",
            "id": "4f9a1c2e-0000-4000-8000-000000000001",
            "type": "qbo.payment.created.v1",
            "intuitentityid": "877",
            "intuitaccountid": "9130354426181920",
            "data": {},
        }
    ]
    compact = json.dumps(events, separators=(",", ":")).encode()
    spaced = json.dumps(events, indent=1).encode()
    client = app.test_client()
    for body in (compact, spaced):
        response = client.post(
            "/webhooks/quickbooks",
            data=body,
            headers={"intuit-signature": signature(key, body)},
        )
        assert response.status_code == 200
    assert len(jobs.webhooks) == 1
    with sessions() as session:
        payload = session.scalar(sa.select(WebhookDelivery.payload))
    assert payload == [
        {
            "tenant": "9130354426181920",
            "entity": "Payment",
            "id": "877",
            "op": "created",
        }
    ]


def test_missing_signature_header_is_refused(app, jobs) -> None:
    response = app.test_client().post("/webhooks/quickbooks", data=b"{}")
    assert response.status_code == 401
    assert jobs.webhooks == []


def test_webhooks_need_no_csrf_token(app) -> None:
    # CSRF protection is on for the app, yet a signed delivery needs no token.
    assert app.config["TESTING"] and app.extensions["csrf"] is not None
    key = app.extensions["care"].settings.xero.webhook_key
    body = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"X"}'
    response = app.test_client().post(
        "/webhooks/xero", data=body, headers={"x-xero-signature": signature(key, body)}
    )
    assert response.status_code == 200


def test_enqueue_failure_forgets_the_delivery_so_a_retry_records_it(
    app, sessions
) -> None:
    class Down:
        def enqueue_webhook(self, delivery_id: int) -> None:
            raise ConnectionError("redis is down")

    state = app.extensions["care"]
    working, state.jobs = state.jobs, Down()
    note = load_case("C21")["input"]["notifications"][0]
    response, _ = post(app.test_client(), "/webhooks/quickbooks", note)
    assert response.status_code == 503
    assert count(sessions, WebhookDelivery) == 0
    state.jobs = working
    response, _ = post(app.test_client(), "/webhooks/quickbooks", note)
    assert response.status_code == 200
    assert len(working.webhooks) == 1
