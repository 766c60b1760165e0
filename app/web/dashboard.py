"""The creditor's dashboard: headline figures, connections and the sync in progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask import Blueprint, render_template
from sqlalchemy.orm import Session

from app import clock
from app.db import scoped
from app.models import Invoice, LedgerConnection, ReferralCase
from app.models.cases import OPEN_CASE_STATES
from app.web import listing, memo
from app.web.security import EVERYONE, creditor_id, current_creditor, db, requires

bp = Blueprint("dashboard", __name__)


@dataclass
class Headline:
    currency: str
    open_invoices: int
    in_window: int
    open_cases: int
    proposed: int
    referred: Decimal
    collected: Decimal
    buckets: dict[str, int]


def headline(
    session: Session, creditor_id_: int, currency: str, today: date
) -> Headline:
    """The dashboard's numbers, each from one indexed query."""
    open_invoices = (
        scoped(session, Invoice, creditor_id_).where(Invoice.status == "open").count()
    )
    in_window = (
        scoped(session, Invoice, creditor_id_)
        .where(Invoice.status == "open", Invoice.decision == "refer")
        .count()
    )
    states = dict(
        session.execute(  # type: ignore[arg-type]
            sa.select(ReferralCase.state, sa.func.count())
            .where(ReferralCase.creditor_id == creditor_id_)
            .group_by(ReferralCase.state)
        ).all()
    )
    referred, collected = session.execute(
        sa.select(
            sa.func.sum(ReferralCase.amount_referred),
            sa.func.sum(ReferralCase.amount_collected),
        ).where(ReferralCase.creditor_id == creditor_id_)
    ).one()
    return Headline(
        currency=currency,
        open_invoices=open_invoices,
        in_window=in_window,
        open_cases=sum(states.get(s, 0) for s in OPEN_CASE_STATES if s != "proposed"),
        proposed=states.get("proposed", 0),
        referred=Decimal(referred or 0),
        collected=Decimal(collected or 0),
        buckets=listing.bucket_counts(session, creditor_id_, today),
    )


def _headline() -> Headline:
    creditor = current_creditor()
    today = clock.local_today(creditor.timezone)
    # Polled by every open dashboard: held under the data version (app.web.memo).
    key = ("headline", creditor.id, today) + memo.version_key(db(), creditor.id)
    return memo.remember(
        key, lambda: headline(db(), creditor.id, creditor.home_currency, today)
    )


@bp.get("/dashboard")
@requires(*EVERYONE)
def index() -> str:
    creditor = current_creditor()
    today = clock.local_today(creditor.timezone)
    connections = (
        scoped(db(), LedgerConnection, creditor_id())
        .order_by(LedgerConnection.id)
        .all()
    )
    return render_template(
        "dashboard/index.html",
        figures=_headline(),
        connections=connections,
        today=today,
    )


@bp.get("/dashboard/figures")
@requires(*EVERYONE)
def figures_fragment() -> str:
    return render_template("dashboard/_figures.html", figures=_headline())
