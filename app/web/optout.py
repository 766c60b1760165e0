"""Debtors opting out: the e-mail unsubscribe link and SMS STOP replies.

The unsubscribe URL carries a token signed with SECRET_KEY naming the case; mail
clients POST to it for one-click unsubscribe (RFC 8058), so that route takes no CSRF
token: the signed token is the proof. A STOP reply arrives as Twilio's inbound webhook,
checked against X-Twilio-Signature with the account's auth token.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, Response, abort, render_template_string, request

from app import audit
from app.channels import sms
from app.channels.unsubscribe import BadUnsubscribeTokenError, read_token
from app.models import Debtor, ReferralCase
from app.web.security import care, db, public

logger = logging.getLogger(__name__)

bp = Blueprint("optout", __name__)

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Unsubscribed</title></head><body><main><h1>{{ title }}</h1>
<p>{{ text }}</p></main></body></html>"""


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@public
def unsubscribe(token: str) -> str:
    """Stop e-mail and SMS reminders about the case the token names."""
    try:
        subject = read_token(care().settings.secret_key, token)
    except BadUnsubscribeTokenError:
        abort(404)
    kind, _, raw_id = subject.partition(":")
    case = (
        db().get(ReferralCase, int(raw_id))
        if kind == "case" and raw_id.isdigit()
        else None
    )
    if case is None:
        abort(404)
    debtor = db().get(Debtor, case.debtor_id)
    if debtor is not None and not debtor.opted_out:
        debtor.opted_out = True
        audit.record(
            db(),
            who="system:unsubscribe",
            creditor_id=case.creditor_id,
            entity="debtor",
            entity_id=debtor.id,
            action="opt_out",
            why=f"unsubscribed through the link in an e-mail ({request.method})",
        )
        db().commit()
        logger.info(
            "debtor opted out creditor=%s debtor=%s", case.creditor_id, debtor.id
        )
    return render_template_string(
        PAGE,
        title="You are unsubscribed",
        text="We will not send you further reminder e-mails or texts about this"
        " account. Your account manager may still write to you by post.",
    )


@bp.post("/webhooks/twilio/inbound")
@public
def twilio_inbound() -> Response:
    """A text from a debtor: STOP opts the number out, START opts it back in."""
    settings = care().settings
    url = settings.base_url.rstrip("/") + request.path
    signature = request.headers.get("X-Twilio-Signature", "")
    if not sms.verify_signature(
        settings.twilio_auth_token, url, request.form, signature
    ):
        logger.warning("twilio inbound refused: bad signature")
        return Response(b"", status=403)
    message = sms.parse_inbound(request.form.to_dict())
    if message.action in ("opt_out", "opt_in"):
        _set_opt_out(message.from_number, message.action == "opt_out")
    return Response("<Response/>", status=200, mimetype="text/xml")


def _set_opt_out(number: str, opted_out: bool) -> None:
    # Phones are kept as the ledger wrote them; compare in E.164 where they parse.
    # TODO: this reads every debtor; a normalised phone column with an index would
    # make a STOP reply one lookup instead of a scan of all debtors.
    for debtor in db().scalars(sa.select(Debtor)):
        if not debtor.phones:
            continue
        numbers = set()
        for phone in debtor.phones or []:
            try:
                numbers.add(sms.e164(phone, debtor.country))
            except ValueError:
                continue
        if number in numbers and debtor.opted_out != opted_out:
            debtor.opted_out = opted_out
            audit.record(
                db(),
                who="system:sms",
                creditor_id=debtor.creditor_id,
                entity="debtor",
                entity_id=debtor.id,
                action="opt_out" if opted_out else "opt_in",
                why="replied STOP to a text" if opted_out else "replied START",
            )
    db().commit()
