"""The creditor's settings: letterhead, locale and zone, cadence, fee rate, previews."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from app import audit, clock
from app.models import Creditor
from app.rules import RulesError, creditor_rules, rules_to_dict
from app.web.security import ADMIN, current_creditor, db, requires, who

logger = logging.getLogger(__name__)
bp = Blueprint("settings", __name__)

# TODO: no logo upload yet (the letters can print a PNG logo, but the creditor row
# has no column for one); letters go out with a text letterhead only.
MAX_FEE_RATE = Decimal("0.5")  # above half of what is collected is surely a typo
TEXT_FIELDS = {
    "letterhead_name": 200,
    "letterhead_address": 1000,
    "letterhead_email": 254,
    "letterhead_phone": 40,
}


def validate(form: Any, creditor: Creditor) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings in `form`, checked; errors keyed by field name."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, limit in TEXT_FIELDS.items():
        value = (form.get(name) or "").strip()
        if len(value) > limit:
            errors[name] = f"at most {limit} characters"
        values[name] = value or None
    email = values["letterhead_email"]
    if email and ("@" not in email or " " in email):
        errors["letterhead_email"] = "not an e-mail address"
    locale = (form.get("locale") or "").strip()
    try:
        Locale.parse(locale.replace("-", "_"))
        values["locale"] = locale.replace("-", "_")
    except (UnknownLocaleError, ValueError):
        errors["locale"] = f"unknown locale {locale!r} (try en_US, en_NZ, de_DE)"
    zone = (form.get("timezone") or "").strip()
    try:
        ZoneInfo(zone)
        values["timezone"] = zone
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = (
            f"unknown time zone {zone!r} (an IANA name, e.g. Pacific/Auckland)"
        )
    raw_rate = (form.get("fee_percent") or "").strip()
    try:
        rate = (Decimal(raw_rate) / 100).quantize(Decimal("0.00000001"))
        if not Decimal(0) <= rate <= MAX_FEE_RATE:
            raise InvalidOperation
        values["fee_rate"] = rate
    except InvalidOperation:
        errors["fee_percent"] = "a percentage from 0 to 50"
    raw_cadence = (form.get("cadence") or "").strip()
    if raw_cadence:
        try:
            cadence = json.loads(raw_cadence)
            creditor_rules(creditor.rules, cadence, creditor.fee_rate)
            values["cadence"] = cadence
        except json.JSONDecodeError as exc:
            errors["cadence"] = f"not JSON: {exc.msg} at line {exc.lineno}"
        except RulesError as exc:
            errors["cadence"] = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
    else:
        values["cadence"] = {}
    return values, errors


def _form_values(creditor: Creditor) -> dict[str, Any]:
    rules = creditor_rules(creditor.rules, creditor.cadence, creditor.fee_rate)
    return {
        **{name: getattr(creditor, name) or "" for name in TEXT_FIELDS},
        "locale": creditor.locale,
        "timezone": creditor.timezone,
        "fee_percent": (creditor.fee_rate * 100).normalize(),
        "cadence": json.dumps(
            creditor.cadence or rules_to_dict(rules)["cadences"], indent=2
        ),
    }


@bp.get("/settings")
@requires(ADMIN)
def edit() -> str:
    creditor = current_creditor()
    return render_template(
        "settings/edit.html", values=_form_values(creditor), errors={}
    )


@bp.post("/settings")
@requires(ADMIN)
def save() -> Response | tuple[str, int]:
    creditor = current_creditor()
    values, errors = validate(request.form, creditor)
    if errors:
        shown = {**_form_values(creditor), **request.form.to_dict()}
        return render_template("settings/edit.html", values=shown, errors=errors), 422
    changed = {}
    for name, value in values.items():
        if getattr(creditor, name) != value:
            changed[name] = str(value)
            setattr(creditor, name, value)
    if changed:
        audit.record(
            db(),
            who=who(),
            creditor_id=creditor.id,
            entity="creditor",
            entity_id=creditor.id,
            action="settings",
            why="settings edited",
            detail={"changed": sorted(changed)},
        )
    db().commit()
    logger.info("settings saved creditor=%s fields=%s", creditor.id, sorted(changed))
    flash("Settings saved.")
    return redirect(url_for("settings.edit"))


@bp.get("/settings/letter-preview.pdf")
@requires(ADMIN)
def letter_preview() -> Response:
    """The first (or final) letter on this letterhead, for a made-up debtor."""
    from app.channels import letters, parties
    from app.money import Money

    creditor = current_creditor()
    kind = "final" if request.args.get("kind") == "final" else "first"
    today = clock.local_today(creditor.timezone)
    address = tuple((creditor.letterhead_address or "").splitlines())
    letter = letters.LetterInput(
        debtor=parties.Debtor(
            "Example Customer Ltd", ("1 Sample Street", "Springfield")
        ),
        creditor=parties.Letterhead(
            creditor.letterhead_name or creditor.name,
            address,
            creditor.letterhead_email or "",
            creditor.letterhead_phone or "",
        ),
        representative=parties.Representative(
            "Your representative", "collections@care.example"
        ),
        invoices=(
            letters.InvoiceLine(
                "INV-0001",
                today - timedelta(days=45),
                Money(Decimal("1250.00"), creditor.home_currency),
            ),
        ),
        payment=letters.PaymentInstructions(("Pay by bank transfer quoting INV-0001",)),
        as_of=today,
        locale=creditor.locale,
        tier="frontline",
        reference="C-PREVIEW",
    )
    pdf = letters.render_letter(letter, kind)  # type: ignore[arg-type]
    return Response(pdf, mimetype="application/pdf")
