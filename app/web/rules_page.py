"""Editing a creditor's referral rules, with errors per field and a live preview."""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from app import audit, clock, referrals
from app.rules import Rules, RulesError, Tier, creditor_rules, rules_to_dict
from app.web import labels, memo
from app.web import preview as preview_module
from app.web.security import (
    ADMIN,
    EVERYONE,
    PROGRAM,
    current_creditor,
    db,
    requires,
    who,
)

logger = logging.getLogger(__name__)
bp = Blueprint("rules", __name__)

INTS = ("window_start_days", "window_end_days")
AMOUNTS = ("min_amount_due", "min_debtor_total")
LISTS = ("excluded_customers", "excluded_tags", "excluded_currencies")
FLAGS = ("partly_paid_qualify", "credits_hold", "auto_refer")
FIELDS = (*INTS, *AMOUNTS, *LISTS, *FLAGS, "tier")


def from_form(form: Any) -> dict[str, Any]:
    """The rules fields this page edits, as the JSON `parse_rules` reads."""
    data: dict[str, Any] = {}
    for name in INTS:
        raw = (form.get(name) or "").strip()
        data[name] = int(raw) if raw.lstrip("-").isdigit() else raw
    for name in AMOUNTS:
        raw = (form.get(name) or "").strip()
        if raw or name == "min_amount_due":
            data[name] = raw
        else:
            data[name] = None
    for name in LISTS:
        raw = form.get(name) or ""
        separators = raw.replace(",", "\n") if name == "excluded_currencies" else raw
        data[name] = [v.strip() for v in separators.splitlines() if v.strip()]
    for name in FLAGS:
        data[name] = form.get(name) == "on"
    data["tier"] = form.get("tier") or "first_party"
    return data


def _validate(data: dict[str, Any]) -> tuple[Rules | None, dict[str, str]]:
    creditor = current_creditor()
    merged = {**(creditor.rules or {}), **data}
    try:
        return creditor_rules(merged, creditor.cadence, creditor.fee_rate), {}
    except RulesError as exc:
        return None, exc.errors


def _values(rules: Rules) -> dict[str, Any]:
    data = rules_to_dict(rules)
    return {name: data[name] for name in FIELDS}


@bp.get("/rules")
@requires(*EVERYONE)
def edit() -> str:
    rules = referrals.rules_of(current_creditor())
    return render_template(
        "rules/edit.html",
        values=_values(rules),
        errors={},
        tiers=[t.value for t in Tier],
    )


@bp.post("/rules")
@requires(ADMIN, PROGRAM)
def save() -> Response | tuple[str, int]:
    data = from_form(request.form)
    rules, errors = _validate(data)
    if rules is None:
        shown = {
            **data,
            **{k: "\n".join(v) for k, v in data.items() if isinstance(v, list)},
        }
        return render_template(
            "rules/edit.html",
            values=shown,
            errors=errors,
            tiers=[t.value for t in Tier],
        ), 422
    creditor = current_creditor()
    before = dict(creditor.rules or {})
    creditor.rules = {
        **before,
        **{k: v for k, v in rules_to_dict(rules).items() if k in FIELDS},
    }
    audit.record(
        db(),
        who=who(),
        creditor_id=creditor.id,
        entity="creditor",
        entity_id=creditor.id,
        action="rules",
        why="referral rules edited",
        detail={
            "before": {k: before.get(k) for k in FIELDS},
            "after": {k: creditor.rules[k] for k in FIELDS},
        },
    )
    db().commit()
    logger.info("rules saved creditor=%s", creditor.id)
    flash("Rules saved. The next daily sweep uses them.")
    return redirect(url_for("rules.edit"))


@bp.post("/rules/preview")
@requires(ADMIN, PROGRAM, creditor=True)
def preview() -> str | tuple[str, int]:
    """What the rules in the form would do today (changes nothing).

    TODO: the first preview after a sync reads and evaluates the whole open book
    (about 2-6 s at 100,000 invoices here); later ones reuse the facts (app.web.memo).
    """
    rules, errors = _validate(from_form(request.form))
    if rules is None:
        return render_template("rules/_preview.html", result=None, errors=errors), 200
    creditor = current_creditor()
    today = clock.local_today(creditor.timezone)
    version = memo.version_key(db(), creditor.id)

    def facts_of(excluded: frozenset[str]) -> Any:
        # Typing in the form previews again and again: the book is read once.
        key = ("facts", creditor.id, excluded) + version
        return memo.remember(
            key, lambda: preview_module.open_facts(db(), creditor, excluded), large=True
        )

    result = preview_module.preview(db(), creditor, rules, today, facts_of)
    return render_template(
        "rules/_preview.html", result=result, errors={}, labels=labels, today=today
    )
