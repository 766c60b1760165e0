"""The invoice mirror: list, detail, one-click and bulk referral, the deep link."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from app import cases, clock, referrals
from app.db import scoped
from app.models import (
    Debtor,
    Invoice,
    LedgerConnection,
    Payment,
    PaymentApplication,
    ReferralCase,
)
from app.web import labels, listing
from app.web.security import (
    ADMIN,
    EVERYONE,
    PROGRAM,
    back,
    care,
    creditor_id,
    current_creditor,
    db,
    owned,
    requires,
    who,
)

logger = logging.getLogger(__name__)
bp = Blueprint("invoices", __name__)

REFERRERS = (ADMIN, PROGRAM)
MAX_BULK = 500


def _today():  # type: ignore[no-untyped-def]
    return clock.local_today(current_creditor().timezone)


@bp.get("/invoices")
@requires(*EVERYONE)
def index() -> str | tuple[str, int]:
    args = request.args
    try:
        query = listing.Query(
            bucket=args.get("bucket", ""),
            status=args.get("status", "open"),
            decision=args.get("decision", ""),
            search=args.get("q", "")[:100],
            sort=args.get("sort", "late"),
            descending=args.get("dir", "desc") != "asc",
            page=int(args.get("page", "1") or 1),
        )
    except (listing.ListingError, ValueError) as exc:
        return render_template("error.html", message=str(exc)), 400
    today = _today()
    found = listing.page(db(), creditor_id(), query, today)
    counts = listing.bucket_counts(db(), creditor_id(), today)
    proposed = (
        scoped(db(), ReferralCase, creditor_id())
        .where(ReferralCase.state == "proposed")
        .count()
    )
    template = (
        "invoices/_table.html"
        if request.headers.get("HX-Request")
        else ("invoices/index.html")
    )
    return render_template(
        template,
        page=found,
        counts=counts,
        today=today,
        proposed=proposed,
        labels=labels,
        can_refer=_can_refer(),
    )


@bp.get("/invoices/<int:invoice_id>")
@requires(*EVERYONE)
def show(invoice_id: int) -> str:
    invoice: Invoice = owned(Invoice, invoice_id)
    return _detail(invoice)


def _detail(invoice: Invoice, deep_link: str | None = None) -> str:
    debtor = db().get(Debtor, invoice.debtor_id)
    connection = db().get(LedgerConnection, invoice.connection_id)
    case_id = listing.open_cases_of(db(), creditor_id(), [invoice.id]).get(invoice.id)
    payments = (
        db()
        .execute(
            sa.select(
                Payment.paid_on, PaymentApplication.amount, PaymentApplication.currency
            )
            .join(Payment, Payment.id == PaymentApplication.payment_id)
            .where(
                PaymentApplication.creditor_id == creditor_id(),
                PaymentApplication.invoice_id == invoice.id,
            )
            .order_by(Payment.paid_on)
        )
        .all()
    )
    today = _today()
    return render_template(
        "invoices/show.html",
        invoice=invoice,
        debtor=debtor,
        connection=connection,
        case_id=case_id,
        payments=payments,
        days_late=None if invoice.due_date is None else (today - invoice.due_date).days,
        labels=labels,
        can_refer=_can_refer(),
        deep_link=deep_link,
    )


@bp.post("/invoices/<int:invoice_id>/refer")
@requires(*REFERRERS)
def refer(invoice_id: int) -> Response:
    invoice: Invoice = owned(Invoice, invoice_id)
    touched = _refer([invoice.id], "referred by hand from the invoice screen")
    if touched:
        return redirect(url_for("cases.show", case_id=touched[0].id))
    return redirect(url_for("invoices.show", invoice_id=invoice.id))


@bp.post("/invoices/refer")
@requires(*REFERRERS)
def bulk_refer() -> Response:
    try:
        ids = sorted({int(v) for v in request.form.getlist("invoice_ids")})
    except ValueError:
        abort(400)
    if not ids:
        flash("Tick at least one invoice to refer.")
    elif len(ids) > MAX_BULK:
        flash(f"Refer at most {MAX_BULK} invoices at a time.")
    else:
        # Only the creditor's own invoices: anything else is refused whole.
        mine = scoped(db(), Invoice, creditor_id()).where(Invoice.id.in_(ids)).count()
        if mine != len(ids):
            abort(404)
        touched = _refer(ids, "referred by hand in bulk from the invoice list")
        if touched:
            flash(f"{len(ids)} invoice(s) referred into {len(touched)} case(s).")
    return redirect(back(url_for("invoices.index")))


def _refer(ids: list[int], why: str) -> list[ReferralCase]:
    for attempt in (1, 2):
        try:
            touched = referrals.refer(
                db(),
                creditor_id(),
                ids,
                who=who(),
                why=why,
                today=_today(),
                base_url=care().settings.base_url,
            )
            db().commit()
            break
        except IntegrityError:
            # A double click: the twin request added the same invoice to the case
            # a moment ago. Once more, the invoice is found there and skipped.
            db().rollback()
            if attempt == 2:
                raise
            logger.info("refer raced creditor=%s invoices=%s", creditor_id(), ids)
        except (referrals.ReferralError, cases.CaseError) as exc:
            db().rollback()
            flash(f"Not referred: {exc}")
            return []
    logger.info(
        "referred by hand creditor=%s invoices=%s cases=%s",
        creditor_id(),
        ids,
        [c.id for c in touched],
    )
    if any(c.state == "proposed" for c in touched):
        flash("Referral proposed: it starts once the creditor approves it.")
    return touched


@bp.route("/refer/<ledger>/<external_id>/<ledger_invoice_id>", methods=["GET", "POST"])
@requires(*EVERYONE)
def deep_link(ledger: str, external_id: str, ledger_invoice_id: str) -> Response | str:
    """From the ledger's invoice screen: show the invoice, refer it on POST."""
    if request.method == "POST" and not _can_refer():
        abort(403)
    connection = (
        scoped(db(), LedgerConnection, creditor_id())
        .where(
            LedgerConnection.ledger == ledger,
            LedgerConnection.external_id == external_id,
        )
        .first()
    )
    if connection is None:
        abort(404)
    invoice = (
        scoped(db(), Invoice, creditor_id())
        .where(
            Invoice.connection_id == connection.id,
            Invoice.ledger_id == ledger_invoice_id,
        )
        .first()
    )
    if invoice is None:
        abort(404)
    if request.method == "GET":
        return _detail(invoice, deep_link=request.path)
    touched = _refer([invoice.id], f"referred from the {ledger} invoice screen")
    if touched:
        return redirect(url_for("cases.show", case_id=touched[0].id))
    return redirect(url_for("invoices.show", invoice_id=invoice.id))


# The deep link answers GET for everyone who may see the invoice, but its POST
# refers: record the narrower roles the route's POST really allows.
deep_link.care_post_roles = REFERRERS  # type: ignore[attr-defined]


@bp.get("/referrals/proposed")
@requires(*EVERYONE)
def proposed() -> str:
    rows = (
        db()
        .execute(
            sa.select(ReferralCase, Debtor.name)
            .join(Debtor, Debtor.id == ReferralCase.debtor_id)
            .where(
                ReferralCase.creditor_id == creditor_id(),
                ReferralCase.state == "proposed",
            )
            .order_by(ReferralCase.referred_at, ReferralCase.id)
            .limit(500)
        )
        .all()
    )
    return render_template("invoices/proposed.html", rows=rows, labels=labels)


@bp.post("/cases/<int:case_id>/approve")
@requires(ADMIN, PROGRAM)
def approve(case_id: int) -> Response:
    case: ReferralCase = owned(ReferralCase, case_id)
    try:
        referrals.approve(db(), case.id, who=who(), today=_today())
        db().commit()
        flash(f"Case C-{case.id} approved: outreach starts now.")
    except (referrals.ReferralError, cases.CaseError) as exc:
        db().rollback()
        flash(f"Not approved: {exc}")
    return redirect(back(url_for("invoices.proposed")))


def _can_refer() -> bool:
    from flask import g

    return g.user.role in REFERRERS
