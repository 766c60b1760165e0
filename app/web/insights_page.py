"""The insights page: aging, referrals and recovery, DSO, CEI, fees, people.

Charts are drawn in the browser by Chart.js from JSON embedded in the page; every
chart has the same numbers in a table beside it, for screen readers and printing.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask import Blueprint, render_template

from app import clock
from app.insights import BUCKETS
from app.web import figures, memo
from app.web.security import EVERYONE, current_creditor, db, requires

bp = Blueprint("insights", __name__)


def chart_data(found: figures.Figures) -> dict[str, Any]:
    """The charts' series as JSON-safe numbers (strings keep Decimals exact)."""
    return {
        "currency": found.currency,
        "aging": {
            "labels": list(BUCKETS),
            "values": [str(found.aging.buckets[b]) for b in BUCKETS],
        },
        "referrals": {
            "labels": [m for m, _, _ in found.referred_by_month],
            "referred": [str(r) for _, r, _ in found.referred_by_month],
            "collected": [str(c) for _, _, c in found.referred_by_month],
        },
    }


@bp.get("/insights")
@requires(*EVERYONE)
def index() -> str:
    creditor = current_creditor()
    today = clock.local_today(creditor.timezone)
    key = ("insights", creditor.id, today) + memo.version_key(db(), creditor.id)
    found = memo.remember(key, lambda: figures.figures(db(), creditor, today))
    return render_template(
        "insights/index.html",
        figures=found,
        today=today,
        buckets=BUCKETS,
        chart_json=json.dumps(chart_data(found)),
        hundred=Decimal(100),
    )
