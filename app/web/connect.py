"""Connecting a ledger: start the OAuth flow, take the callback once, disconnect.

The same flow signs a creditor up (from the marketplace launch URL, nobody signed
in), signs them in again (the company is already connected), or reconnects a
connection that needs it. The `state` is stored in `OAuthState` and in the signed
session cookie; a callback is honoured once: a repeated one (double click, browser
or proxy retry) goes to the dashboard without touching the token endpoint, because a
second exchange of the same code makes Intuit revoke the first tokens (C03).

Nothing from the ledger is trusted before its id_token verifies (`app.web.openid`):
a forged, expired or misdirected one ends the flow on an error page, with nothing
stored and nobody signed in.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from app import audit, clock, tokens
from app.models import Creditor, LedgerConnection, OAuthState, User
from app.models.connections import LEDGERS
from app.web import openid
from app.web.security import (
    ADMIN,
    EVERYONE,
    PROGRAM,
    care,
    db,
    login,
    owned,
    public,
    requires,
    who,
)
from connectors.base import TokenSet

logger = logging.getLogger(__name__)
bp = Blueprint("connect", __name__)

NAMES = {"quickbooks": "QuickBooks Online", "xero": "Xero"}


class ConnectError(Exception):
    """The ledger refused or failed the handshake; the message is for the person."""


@bp.get("/connect/<ledger>")
@public
def start(ledger: str) -> Response:
    """Send the person to the ledger's consent screen with a fresh single-use state."""
    if ledger not in LEDGERS:
        abort(404)
    user = g.get("user")
    creditor_id = None
    if user is not None:
        if user.role not in (ADMIN, PROGRAM):
            abort(403)
        creditor_id = g.get("creditor_id")
    settings = care().settings
    verifier = None
    if ledger == "quickbooks":
        from connectors.quickbooks import oauth as qbo

        state = tokens.issue_state(
            db(), ledger=ledger, creditor_id=creditor_id, user_id=_uid()
        )
        url = qbo.authorization_url(settings.quickbooks, state)
        session.pop("oauth_nonce", None)  # Intuit takes no nonce
    else:
        from connectors.xero import oauth as xero

        nonce = secrets.token_urlsafe(24)
        session["oauth_nonce"] = nonce
        authorization = xero.authorization(settings.xero, nonce=nonce)
        state, verifier, url = (
            authorization.state,
            authorization.code_verifier,
            authorization.url,
        )
        db().add(
            OAuthState(
                state=state,
                ledger=ledger,
                code_verifier=verifier,
                creditor_id=creditor_id,
                user_id=_uid(),
                created_at=clock.now(),
            )
        )
    db().commit()
    session["oauth_state"] = state
    logger.info("oauth started ledger=%s creditor=%s", ledger, creditor_id)
    return redirect(url)


@bp.get("/connect/<ledger>/callback")
@public
def callback(ledger: str) -> Response | tuple[str, int]:
    """The ledger sends the person back here with a code (or an error)."""
    if ledger not in LEDGERS:
        abort(404)
    state = request.args.get("state", "")
    row = db().scalar(sa.select(OAuthState).where(OAuthState.state == state))
    if row is None or row.ledger != ledger:
        logger.warning("oauth callback refused ledger=%s: unknown state", ledger)
        return _refused("This sign-in link is not one CARE started. Start again.")
    if row.used_at is not None:
        return _already_done(row)
    # Let consume_state read the row afresh: a twin callback may spend it meanwhile,
    # and an object kept in this session would still say "unused".
    db().expunge(row)
    from connectors.xero.oauth import state_matches

    if not state_matches(session.get("oauth_state"), state):
        # A state issued to another browser: someone may be pushing their own
        # company into this person's session (login CSRF).
        logger.warning(
            "oauth callback refused ledger=%s: state of another session", ledger
        )
        return _refused("This sign-in was started in another browser. Start again.")
    try:
        row = tokens.consume_state(db(), state, ledger)
        db().commit()  # the state is spent before the code is, so a twin loses here
    except tokens.OAuthStateError as exc:
        db().rollback()
        spent = db().scalar(
            sa.select(OAuthState.used_at).where(OAuthState.state == state)
        )
        if spent is not None:
            return _already_done(row)
        return _refused(f"{exc}.")
    session.pop("oauth_state", None)
    nonce = session.pop("oauth_nonce", None)

    if request.args.get("error"):
        flash(f"{NAMES[ledger]} did not connect: {request.args['error']}.")
        return redirect(
            url_for("connect.index") if g.get("user") else url_for("auth.login")
        )
    try:
        external_id, company, token_set, claims = _exchange(ledger, row, nonce)
    except ConnectError as exc:
        flash(str(exc))
        return redirect(
            url_for("connect.index") if g.get("user") else url_for("auth.login")
        )
    except openid.IdTokenError as exc:
        return _unverified(ledger, exc)

    connection = _store(ledger, row, external_id, company, token_set, claims)
    care().jobs.enqueue_sync(connection.id, full=True)
    flash(f"{NAMES[ledger]} connected: the first sync has started.")
    return redirect(url_for("dashboard.index"))


def _exchange(
    ledger: str, row: OAuthState, nonce: str | None
) -> tuple[str, str, TokenSet, dict[str, Any]]:
    """Company id, name, tokens and the verified id_token claims of the callback."""
    settings = care().settings
    code = request.args.get("code", "")
    if ledger == "quickbooks":
        from connectors.quickbooks import oauth as qbo

        realm_id = request.args.get("realmId", "")
        try:
            token_set = qbo.exchange_code(settings.quickbooks, code, realm_id)
        except Exception as exc:  # noqa: BLE001 - shown to the person, logged here
            logger.warning(
                "qbo code exchange failed realm=%s: %s", realm_id, type(exc).__name__
            )
            raise ConnectError("QuickBooks refused the connection. Try again.") from exc
        # The realmId of the callback's URL is only what the browser brought back;
        # the signed id_token says which company consented.
        claims = _verified(ledger, token_set, nonce)
        if str(claims.get("realmid") or "") != realm_id:
            raise openid.IdTokenError("it names another company than the callback")
        # TODO: the company name comes with the first sync's CompanyInfo; until then
        # the connection shows its realm id.
        return realm_id, "", token_set, claims
    from connectors.xero import oauth as xero

    try:
        token_set = xero.exchange_code(settings.xero, code, row.code_verifier or "")
    except Exception as exc:  # noqa: BLE001
        logger.warning("xero code exchange failed: %s", type(exc).__name__)
        raise ConnectError("Xero refused the connection. Try again.") from exc
    claims = _verified(ledger, token_set, nonce)
    try:
        found = xero.connections(settings.xero, token_set)
        chosen = xero.choose_tenant(found, request.args.get("tenant"))
    except xero.TenantChoiceError as exc:
        # TODO: several organisations in one consent need a chooser page that keeps
        # the tokens meanwhile; today the person is asked to consent to one only.
        raise ConnectError(
            f"Xero: {exc} Connect again and tick one organisation only."
        ) from exc
    except Exception as exc:  # noqa: BLE001
        logger.warning("xero connections failed: %s", type(exc).__name__)
        raise ConnectError("Xero refused the connection. Try again.") from exc
    return chosen.tenant_id, chosen.tenant_name or "", token_set, claims


def _verified(ledger: str, token_set: TokenSet, nonce: str | None) -> dict[str, Any]:
    """The claims of the id_token that came with `token_set`, once it verifies."""
    app = getattr(care().settings, ledger)
    return _verifier().verify(
        token_set.id_token,
        discovery=openid.discovery_url(ledger, app),
        client_id=app.client_id,
        nonce=nonce,
    )


def _verifier() -> openid.Verifier:
    # One per app, so the ledgers' keys are kept between sign-ins.
    found = current_app.extensions.get("care_openid")
    if found is None:
        found = current_app.extensions["care_openid"] = openid.Verifier()
    return found  # type: ignore[no-any-return]


def _unverified(ledger: str, exc: openid.IdTokenError) -> tuple[str, int]:
    logger.warning("oauth callback refused ledger=%s: id_token %s", ledger, exc)
    if isinstance(exc, openid.KeysUnavailableError):
        return _refused(
            f"CARE could not check the sign-in {NAMES[ledger]} sent back: its"
            " signing keys did not load. Nothing was connected. Try again in a few"
            " minutes.",
            503,
        )
    signed_out = "" if g.get("user") else " and you are not signed in"
    return _refused(
        f"CARE could not verify the sign-in {NAMES[ledger]} sent back: {exc}."
        f" Nothing was connected{signed_out}. Start again."
    )


def _store(
    ledger: str,
    row: OAuthState,
    external_id: str,
    company: str,
    token_set: TokenSet,
    claims: dict[str, Any],
) -> LedgerConnection:
    session_ = db()
    creditor_id = row.creditor_id
    user = g.get("user")
    if creditor_id is None:
        creditor_id, user = _sign_in_through_ledger(
            ledger, external_id, company, claims
        )
    actor = f"user:{user.id}" if user is not None else "system:connect"
    connection = tokens.connect(
        session_,
        creditor_id=creditor_id,
        ledger=ledger,
        external_id=external_id,
        tokens=token_set,
        who=actor,
        company_name=company,
    )
    row.connection_id = connection.id
    session_.commit()
    logger.info(
        "connected creditor=%s connection=%s ledger=%s",
        creditor_id,
        connection.id,
        ledger,
    )
    return connection


def _sign_in_through_ledger(
    ledger: str, external_id: str, company: str, claims: dict[str, Any]
) -> tuple[int, User]:
    """The creditor of this company (created on first connect) and its admin user.

    `external_id` is one the ledger vouched for: the verified id_token's `realmid`
    (QuickBooks) or the /Connections answer to the new tokens (Xero).
    """
    session_ = db()
    existing = session_.scalar(
        sa.select(LedgerConnection)
        .where(
            LedgerConnection.ledger == ledger,
            LedgerConnection.external_id == external_id,
        )
        .order_by(LedgerConnection.id)
    )
    # Xero's id_token carries the person's e-mail; Intuit's does not (userinfo has it).
    email = str(claims["email"]).lower() if claims.get("email") else None
    if existing is not None:
        creditor = session_.get(Creditor, existing.creditor_id)
    else:
        creditor = Creditor(
            name=company or f"{NAMES[ledger]} company {external_id}",
            # TODO: home currency and time zone are placeholders until the first
            # sync reads the company's settings; aging before it shows USD/UTC.
            home_currency="USD",
            timezone="UTC",
            locale="en_US",
        )
        session_.add(creditor)
        session_.flush()
    assert creditor is not None
    user = session_.scalar(
        sa.select(User)
        .where(User.creditor_id == creditor.id, User.role == ADMIN, User.active)
        .order_by(User.id)
    )
    if user is None:
        taken = email and session_.scalar(sa.select(User.id).where(User.email == email))
        user = User(
            creditor_id=creditor.id,
            email=email
            if email and not taken
            else f"owner+{ledger}-{external_id}@care.invalid",
            name=company or "Owner",
            role=ADMIN,
        )
        session_.add(user)
        session_.flush()
        audit.record(
            session_,
            who="system:connect",
            creditor_id=creditor.id,
            entity="user",
            entity_id=user.id,
            action="sign_up",
            why=f"signed up through {NAMES[ledger]} for company {external_id}",
        )
    login(user)
    return creditor.id, user


def _already_done(row: OAuthState) -> Response:
    logger.info("oauth callback repeated ledger=%s state_id=%s", row.ledger, row.id)
    flash(f"{NAMES[row.ledger]} is already connected.")
    return redirect(url_for("dashboard.index"))


def _refused(message: str, status: int = 400) -> tuple[str, int]:
    return render_template("connect/refused.html", message=message), status


def _uid() -> int | None:
    user = g.get("user")
    return user.id if user is not None else None


@bp.get("/connections")
@requires(*EVERYONE)
def index() -> str:
    from app.db import scoped
    from app.web.security import creditor_id

    rows = (
        scoped(db(), LedgerConnection, creditor_id())
        .order_by(LedgerConnection.ledger, LedgerConnection.id)
        .all()
    )
    return render_template("connect/index.html", connections=rows, names=NAMES)


@bp.post("/connections/<int:connection_id>/disconnect")
@requires(ADMIN, PROGRAM)
def disconnect(connection_id: int) -> Response:
    row: LedgerConnection = owned(LedgerConnection, connection_id)
    if request.form.get("confirm") != "yes":
        # A disconnect pauses all outreach: it takes a deliberate second step.
        flash("Tick the box to confirm the disconnect.")
        return redirect(url_for("connect.index"))
    if row.status != "disconnected" and row.refresh_token:
        _revoke(row)
    previous = row.status
    row.status = "disconnected"
    row.status_reason = "disconnected in CARE"
    row.access_token = row.refresh_token = row.id_token = None
    row.disconnected_at = clock.now()
    audit.record(
        db(),
        who=who(),
        creditor_id=row.creditor_id,
        entity="connection",
        entity_id=row.id,
        action="disconnect",
        from_state=previous,
        to_state="disconnected",
        why="disconnected by the creditor",
    )
    db().commit()
    flash(f"{NAMES[row.ledger]} disconnected. Outreach for its invoices is paused.")
    return redirect(url_for("connect.index"))


def _revoke(row: LedgerConnection) -> None:
    settings = care().settings
    try:
        if row.ledger == "quickbooks":
            from connectors.quickbooks import oauth as qbo

            qbo.revoke(settings.quickbooks, row.refresh_token or "")
        else:
            from connectors.xero import oauth as xero

            xero.revoke(settings.xero, row.refresh_token or "")
    except Exception as exc:  # noqa: BLE001 - the local disconnect goes ahead
        logger.warning(
            "revoke failed creditor=%s connection=%s: %s",
            row.creditor_id,
            row.id,
            type(exc).__name__,
        )


@bp.post("/connections/<int:connection_id>/sync")
@requires(ADMIN, PROGRAM)
def sync_now(connection_id: int) -> Response:
    row: LedgerConnection = owned(LedgerConnection, connection_id)
    if row.status != "connected":
        flash("Reconnect first: this connection cannot sync.")
        return redirect(url_for("connect.index"))
    care().jobs.enqueue_sync(row.id, full=request.form.get("full") == "1")
    flash("Sync queued.")
    return redirect(url_for("connect.index"))
