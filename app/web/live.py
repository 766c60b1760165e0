"""Fragments that htmx polls so open pages update without a reload.

Polling rather than server-sent events: a poll is one short request that any WSGI
worker answers, where an event stream would hold a gunicorn sync worker for as long
as the page stays open.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from app.db import scoped
from app.models import LedgerConnection
from app.web.security import EVERYONE, creditor_id, db, requires

bp = Blueprint("live", __name__)

BUSY = ("queued", "running", "waiting")


@bp.get("/live/sync")
@requires(*EVERYONE)
def sync_status() -> str:
    """Each connection's sync state and progress; polls fast while one is busy."""
    rows = (
        scoped(db(), LedgerConnection, creditor_id())
        .order_by(LedgerConnection.id)
        .all()
    )
    busy = any(r.sync_state in BUSY for r in rows)
    return render_template("live/_sync.html", connections=rows, busy=busy)
