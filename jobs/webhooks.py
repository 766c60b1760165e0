"""Webhook deliveries: each recorded once by the web layer, then turned into syncs.

A delivery names companies (QuickBooks realms, Xero tenants) and objects; the objects
are fetched by the incremental sync, never trusted from the payload, so a delivery only
says "look now". Syncs are coalesced per connection: five deliveries sync once (C25).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import sqlalchemy as sa

from app import clock
from jobs.queues import DEFAULT, enqueue_unique
from jobs.runtime import runtime

logger = logging.getLogger(__name__)


def companies_in(ledger: str, payload: Any) -> set[str]:
    """The realm or tenant ids a webhook body names (legacy, CloudEvents or Xero)."""
    found: set[str] = set()
    if isinstance(payload, list) and all(
        isinstance(e, dict) and "tenant" in e for e in payload
    ):
        # The web layer's normalised events: {"tenant", "entity", "id", "op"}.
        return {str(e["tenant"]) for e in payload}
    if ledger == "quickbooks":
        events = payload if isinstance(payload, list) else []
        for event in events:  # CloudEvents: a JSON array
            if isinstance(event, dict) and event.get("intuitaccountid"):
                found.add(str(event["intuitaccountid"]))
        if isinstance(payload, dict):  # the legacy format
            for note in payload.get("eventNotifications") or []:
                if isinstance(note, dict) and note.get("realmId"):
                    found.add(str(note["realmId"]))
    elif isinstance(payload, dict):
        for event in payload.get("events") or []:
            if isinstance(event, dict) and event.get("tenantId"):
                found.add(str(event["tenantId"]))
    return found


def enqueue_webhook(delivery_id: int, payload: Any = None) -> str | None:
    """Queue the processing of a recorded delivery (the web layer calls this)."""
    rt = runtime()
    return enqueue_unique(
        rt.redis,
        DEFAULT,
        process_webhook,
        f"webhook:{delivery_id}",
        delivery_id,
        payload,
    )


def process_webhook(delivery_id: int, payload: Any = None) -> list[int]:
    """Queue an incremental sync of each connection the delivery names."""
    from app.models import LedgerConnection, WebhookDelivery
    from jobs.sync import enqueue_sync

    rt = runtime()
    with rt.sessions.begin() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.processed:
            return []
        if payload is None:
            payload = delivery.payload
        if isinstance(payload, (bytes, str)):
            payload = json.loads(payload)
        companies = companies_in(delivery.ledger, payload)
        query = sa.select(LedgerConnection.id).where(
            LedgerConnection.ledger == delivery.ledger,
            LedgerConnection.status == "connected",
        )
        if companies:
            query = query.where(LedgerConnection.external_id.in_(companies))
        else:
            # Without the body we cannot tell whose books changed: look at all.
            logger.warning("webhook without companies delivery=%s", delivery_id)
        connection_ids = session.scalars(query).all()
        delivery.processed = True
        delivery.processed_at = clock.now()
    for connection_id in connection_ids:
        enqueue_sync(connection_id)
    logger.info(
        "webhook processed delivery=%s syncs=%s", delivery_id, list(connection_ids)
    )
    return list(connection_ids)
