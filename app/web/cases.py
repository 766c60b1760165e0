"""Cases: the list, one case's page and timeline, its actions, its letters as PDF."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from werkzeug.wrappers import Response

from app import case_actions, cases, clock
from app.case_actions import ActionError, PlannedInstalment
from app.models import (
    CaseInvoice,
    Debtor,
    Invoice,
    OutreachStep,
    ReferralCase,
    User,
)
from app.models.cases import CASE_STATES
from app.web import labels, timeline
from app.web.security import (
    ADMIN,
    EVERYONE,
    PROGRAM,
    REP,
    care,
    creditor_id,
    current_creditor,
    db,
    owned,
    requires,
    who,
)

logger = logging.getLogger(__name__)
bp = Blueprint("cases", __name__)

PAGE_SIZE = 50


@bp.get("/cases")
@requires(*EVERYONE)
def index() -> str:
    state = request.args.get("state", "")
    if state and state not in CASE_STATES:
        abort(400)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    statement = (
        sa.select(ReferralCase, Debtor.name, User.name)
        .join(Debtor, Debtor.id == ReferralCase.debtor_id)
        .outerjoin(User, User.id == ReferralCase.representative_id)
        .where(ReferralCase.creditor_id == creditor_id())
    )
    if state:
        statement = statement.where(ReferralCase.state == state)
    total = db().scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    rows = (
        db()
        .execute(
            statement.order_by(ReferralCase.referred_at.desc(), ReferralCase.id.desc())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
        .all()
    )
    return render_template(
        "cases/index.html",
        rows=rows,
        state=state,
        page=page,
        pages=max(1, -(-int(total or 0) // PAGE_SIZE)),
        total=total,
        labels=labels,
        states=CASE_STATES,
    )


@bp.get("/cases/<int:case_id>")
@requires(*EVERYONE)
def show(case_id: int) -> str:
    case: ReferralCase = owned(ReferralCase, case_id)
    return render_template("cases/show.html", **_context(case))


@bp.get("/cases/<int:case_id>/timeline")
@requires(*EVERYONE)
def timeline_fragment(case_id: int) -> str:
    case: ReferralCase = owned(ReferralCase, case_id)
    return render_template(
        "cases/_timeline.html", case=case, events=timeline.events(db(), case)
    )


def _context(case: ReferralCase, errors: dict[str, str] | None = None) -> dict:  # type: ignore[type-arg]
    debtor = db().get(Debtor, case.debtor_id)
    invoices = (
        db()
        .execute(
            sa.select(Invoice, CaseInvoice)
            .join(CaseInvoice, CaseInvoice.invoice_id == Invoice.id)
            .where(
                CaseInvoice.case_id == case.id,
                CaseInvoice.creditor_id == case.creditor_id,
            )
            .order_by(Invoice.due_date)
        )
        .all()
    )
    rep = db().get(User, case.representative_id) if case.representative_id else None
    upcoming = (
        db()
        .scalars(
            sa.select(OutreachStep)
            .where(OutreachStep.case_id == case.id, OutreachStep.state == "scheduled")
            .order_by(OutreachStep.due_at)
            .limit(10)
        )
        .all()
    )
    return {
        "case": case,
        "debtor": debtor,
        "invoices": invoices,
        "rep": rep,
        "upcoming": upcoming,
        "events": timeline.events(db(), case),
        "labels": labels,
        "errors": errors or {},
        "today": _today(),
        "debtor_zone": (debtor.timezone if debtor else None)
        or current_creditor().timezone,
        "allowed": sorted(cases.ALLOWED.get(case.state, ())),
    }


def _today() -> date:
    return clock.local_today(current_creditor().timezone)


def _act(
    case_id: int, action: Callable[[ReferralCase], str]
) -> Response | tuple[str, int]:
    """Run `action` on the case; on bad input show the page again with the error."""
    case: ReferralCase = owned(ReferralCase, case_id)
    try:
        message = action(case)
        db().commit()
    except ActionError as exc:
        db().rollback()
        db().refresh(case)
        return render_template(
            "cases/show.html", **_context(case, {exc.field or "form": str(exc)})
        ), 422
    except cases.CaseError as exc:
        db().rollback()
        db().refresh(case)
        return render_template(
            "cases/show.html", **_context(case, {"form": str(exc)})
        ), 409
    flash(message)
    return redirect(url_for("cases.show", case_id=case.id))


def _date(name: str) -> date:
    raw = request.form.get(name, "").strip()
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ActionError("give a date as YYYY-MM-DD", name) from exc


@bp.post("/cases/<int:case_id>/call")
@requires(REP, PROGRAM)
def log_call(case_id: int) -> Response | tuple[str, int]:
    def run(case: ReferralCase) -> str:
        outcome = request.form.get("outcome", "")
        amount = due = None
        if outcome == "promise":
            amount = case_actions.parse_amount(
                request.form.get("promise_amount", ""), case.currency, "promise_amount"
            )
            due = _date("promise_due")
        case_actions.log_call(
            db(),
            case,
            who=who(),
            outcome=outcome,
            note=request.form.get("note", "")[:4000],
            today=_today(),
            promise_amount=amount,
            promise_due=due,
            dispute_reason=request.form.get("note", ""),
        )
        return "Call logged."

    return _act(case_id, run)


@bp.post("/cases/<int:case_id>/promise")
@requires(REP, PROGRAM)
def promise(case_id: int) -> Response | tuple[str, int]:
    def run(case: ReferralCase) -> str:
        amount = case_actions.parse_amount(
            request.form.get("promise_amount", ""), case.currency, "promise_amount"
        )
        case_actions.record_promise(
            db(),
            case,
            who=who(),
            amount=amount,
            due_on=_date("promise_due"),
            today=_today(),
        )
        return "Promise recorded: outreach waits for that date."

    return _act(case_id, run)


def parse_instalments(text: str) -> list[PlannedInstalment]:
    """Lines of "YYYY-MM-DD amount" into instalments."""
    found = []
    for number, line in enumerate(text.strip().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2:
            raise ActionError(
                f"line {number}: write a date and an amount", "instalments"
            )
        try:
            due = date.fromisoformat(parts[0])
        except ValueError as exc:
            raise ActionError(
                f"line {number}: {parts[0]!r} is not YYYY-MM-DD", "instalments"
            ) from exc
        from decimal import Decimal, InvalidOperation

        try:
            amount = Decimal(parts[1].replace(",", ""))
        except InvalidOperation as exc:
            raise ActionError(
                f"line {number}: {parts[1]!r} is not an amount", "instalments"
            ) from exc
        found.append(PlannedInstalment(due, amount))
    return found


@bp.post("/cases/<int:case_id>/plan")
@requires(REP, PROGRAM)
def plan(case_id: int) -> Response | tuple[str, int]:
    def run(case: ReferralCase) -> str:
        case_actions.record_plan(
            db(),
            case,
            who=who(),
            instalments=parse_instalments(request.form.get("instalments", "")),
            today=_today(),
        )
        return "Payment plan recorded."

    return _act(case_id, run)


@bp.post("/cases/<int:case_id>/dispute")
@requires(REP, PROGRAM, ADMIN)
def dispute(case_id: int) -> Response | tuple[str, int]:
    def run(case: ReferralCase) -> str:
        case_actions.open_dispute(
            db(), case, who=who(), reason=request.form.get("reason", "")
        )
        return "Dispute opened: outreach is paused."

    return _act(case_id, run)


@bp.post("/cases/<int:case_id>/dispute/resolve")
@requires(ADMIN, PROGRAM)
def resolve_dispute(case_id: int) -> Response | tuple[str, int]:
    def run(case: ReferralCase) -> str:
        case_actions.resolve_dispute(
            db(),
            case,
            who=who(),
            resolution=request.form.get("resolution", ""),
            note=request.form.get("note", ""),
        )
        return "Dispute resolved."

    return _act(case_id, run)


@bp.post("/cases/<int:case_id>/withdraw")
@requires(ADMIN, PROGRAM)
def withdraw(case_id: int) -> Response | tuple[str, int]:
    def run(case: ReferralCase) -> str:
        case_actions.withdraw(db(), case, who=who(), why=request.form.get("why", ""))
        return "Case withdrawn."

    return _act(case_id, run)


@bp.post("/cases/<int:case_id>/escalate")
@requires(REP, PROGRAM)
def escalate(case_id: int) -> Response | tuple[str, int]:
    def run(case: ReferralCase) -> str:
        case_actions.escalate(db(), case, who=who(), why=request.form.get("why", ""))
        return "Case escalated to third-party placement."

    return _act(case_id, run)


@bp.post("/cases/<int:case_id>/note")
@requires(REP, PROGRAM, ADMIN)
def note(case_id: int) -> Response | tuple[str, int]:
    def run(case: ReferralCase) -> str:
        case_actions.add_note(db(), case, who=who(), text=request.form.get("text", ""))
        return "Note added."

    return _act(case_id, run)


@bp.get("/letters/<int:step_id>.pdf")
@requires(*EVERYONE)
def letter(step_id: int) -> Response:
    """A sent letter's PDF: only the case's creditor and program staff reach it."""
    step: OutreachStep = owned(OutreachStep, step_id)
    if step.channel != "letter" or not step.content_path:
        abort(404)
    root = Path(care().settings.letters_dir).resolve()
    path = Path(step.content_path)
    path = (path if path.is_absolute() else root / path).resolve()
    # The stored path must stay inside the letters folder, whatever it says.
    if not path.is_relative_to(root) or not path.is_file():
        logger.warning("letter missing creditor=%s step=%s", step.creditor_id, step.id)
        abort(404)
    return send_file(
        path,
        mimetype="application/pdf",
        download_name=f"letter-C{step.case_id}-{step.step_number}.pdf",
        as_attachment=False,
    )
