"""Webhook endpoints for both ledgers: verify, record once, enqueue, answer fast.

Both ledgers sign the exact bytes they send, so the HMAC is computed over
`request.get_data()` and never over re-serialised JSON (a compact re-dump of a
spaced body gives another digest: shared cases C20, C21). No ledger API is called
inside the request; the job named by `jobs.api.enqueue_webhook` does the work.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, request
from sqlalchemy.exc import IntegrityError

from app import clock
from app.models import WebhookDelivery
from app.web.security import care, db, public

logger = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)


def signature(key: str, body: bytes) -> str:
    """base64(HMAC-SHA256(key, body)): how Intuit and Xero both sign a delivery."""
    digest = hmac.new(key.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verified(key: str, body: bytes, received: str | None) -> bool:
    """Whether `received` is the signature of `body` under `key` (constant time)."""
    if not key or not received:
        return False
    expected = signature(key, body)
    return hmac.compare_digest(expected.encode("ascii"), received.strip().encode())


@bp.post("/webhooks/quickbooks")
@public
def quickbooks() -> Response:
    """Intuit's notification: legacy `eventNotifications` or a CloudEvents array."""
    body = request.get_data(cache=False)
    # NOTE: Intuit signs with the app's webhook verifier token, not the OAuth client
    # secret; a body signed with the secret must fail (C21, Intuit "Managing webhooks
    # notifications").
    key = care().settings.quickbooks.webhook_key
    if not verified(key, body, request.headers.get("intuit-signature")):
        logger.warning("qbo webhook refused: bad signature bytes=%s", len(body))
        return Response(b"", status=401)
    try:
        events, key_source = _quickbooks_events(json.loads(body))
    except (ValueError, TypeError, KeyError, AttributeError):
        logger.warning("qbo webhook refused: body is not a notification")
        return Response(b"", status=400)
    return _record("quickbooks", body, events, key_source)


@bp.post("/webhooks/xero")
@public
def xero() -> Response:
    """Xero's webhook, including the intent-to-receive probe (empty `events`)."""
    body = request.get_data(cache=False)
    key = care().settings.xero.webhook_key
    if not verified(key, body, request.headers.get("x-xero-signature")):
        # Xero's intent-to-receive demands 401 with an empty body here.
        logger.warning("xero webhook refused: bad signature bytes=%s", len(body))
        return Response(b"", status=401)
    try:
        events = _xero_events(json.loads(body))
    except (ValueError, TypeError, KeyError, AttributeError):
        logger.warning("xero webhook refused: body is not a notification")
        return Response(b"", status=400)
    if not events:
        return Response(b"", status=200)  # intent-to-receive: nothing to do
    return _record("xero", body, events, None)


def _quickbooks_events(data: Any) -> tuple[list[dict[str, str]], str | None]:
    if isinstance(data, list):  # CloudEvents: each event has its own id
        events = [
            {
                "tenant": str(e["intuitaccountid"]),
                "entity": str(e["type"]).split(".")[1].capitalize(),
                "id": str(e["intuitentityid"]),
                "op": str(e["type"]).split(".")[2],
            }
            for e in data
        ]
        ids = sorted(str(e["id"]) for e in data)
        return events, "qbo-ce:" + ",".join(ids)
    events = []
    for note in data["eventNotifications"]:
        for entity in note.get("dataChangeEvent", {}).get("entities", []):
            events.append(
                {
                    "tenant": str(note["realmId"]),
                    "entity": str(entity["name"]),
                    "id": str(entity["id"]),
                    "op": str(entity.get("operation", "")).lower(),
                }
            )
    return events, None


def _xero_events(data: Any) -> list[dict[str, str]]:
    return [
        {
            "tenant": str(e["tenantId"]),
            "entity": str(e["eventCategory"]).capitalize(),
            "id": str(e["resourceId"]),
            "op": str(e.get("eventType", "")).lower(),
        }
        for e in data["events"]
    ]


def _record(
    ledger: str, body: bytes, events: list[dict[str, str]], key_source: str | None
) -> Response:
    """Store the delivery once; enqueue its processing only the first time."""
    body_hash = hashlib.sha256(body).hexdigest()
    # Redeliveries repeat the body byte for byte; CloudEvents also repeat their ids.
    key_text = key_source or f"body:{body_hash}"
    delivery_key = f"{ledger}:" + hashlib.sha256(key_text.encode()).hexdigest()
    session = db()
    delivery = WebhookDelivery(
        ledger=ledger,
        delivery_key=delivery_key,
        received_at=clock.now(),
        payload_hash=body_hash,
        events=len(events),
        payload=events,
    )
    try:
        session.add(delivery)
        session.commit()
    except IntegrityError:
        session.rollback()
        existing = session.scalar(
            sa.select(WebhookDelivery.id).where(
                WebhookDelivery.delivery_key == delivery_key
            )
        )
        logger.info("webhook repeated ledger=%s delivery=%s", ledger, existing)
        return Response(b"", status=200)
    logger.info(
        "webhook recorded ledger=%s delivery=%s events=%s",
        ledger,
        delivery.id,
        len(events),
    )
    try:
        care().jobs.enqueue_webhook(delivery.id)
    except Exception:
        # Forget the delivery so the ledger's retry records and enqueues it again,
        # rather than being taken for a duplicate of one nobody will process.
        logger.exception(
            "webhook not enqueued ledger=%s delivery=%s", ledger, delivery.id
        )
        session.execute(
            sa.delete(WebhookDelivery).where(WebhookDelivery.id == delivery.id)
        )
        session.commit()
        return Response(b"", status=503)
    return Response(b"", status=200)
