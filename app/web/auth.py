"""Signing in with a local account, signing out, and the marketplace launch URL.

Failed sign-ins are throttled per e-mail and per address (`app.web.throttle`).
"""

from __future__ import annotations

import logging
import math
from datetime import datetime

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from app import clock
from app.models import User
from app.models.connections import LEDGERS
from app.web import throttle
from app.web.security import (
    EVERYONE,
    care,
    db,
    login,
    public,
    requires,
    safe_next,
)

logger = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)

# A real hash of a random password: checking it costs the same time as a real
# user's, so a wrong e-mail and a wrong password cannot be told apart by timing.
_DUMMY = User(email="nobody@care.invalid", role="program_admin")
_DUMMY.set_password("not-a-real-password-0f1e")


@bp.get("/")
@public
def home() -> Response:
    if g.get("user") is None:
        return redirect(url_for("auth.login"))
    if g.user.role == "representative" and g.get("creditor_id") is None:
        return redirect(url_for("work_queue.index"))
    return redirect(url_for("dashboard.index"))


@bp.route("/login", methods=["GET", "POST"], endpoint="login")
@public
def login_page() -> Response | str | tuple[str, int]:
    target = safe_next(request.values.get("next"), url_for("auth.home"))
    if request.method == "GET":
        return render_template("auth/login.html", next=target, error=None)
    email = (request.form.get("email") or "").strip().lower()
    password = request.form.get("password") or ""
    guard = throttle.current()
    address = throttle.client_address(request, care().settings.proxy_hops)
    try:
        attempt = guard.begin(email, address)
    except throttle.LockedError as exc:
        return _locked(target, exc)
    user = db().scalar(sa.select(User).where(sa.func.lower(User.email) == email))
    if user is None or not user.active:
        _DUMMY.check_password(password)
        ok = False
    else:
        ok = user.check_password(password)
    if not ok or user is None:
        locked_until = guard.failed(attempt)
        logger.info("sign-in refused email_hash=%s", guard.digest(email))
        error = "E-mail or password is wrong."
        if locked_until is not None:
            error += " " + _try_again(locked_until, attempt.at)
        return render_template("auth/login.html", next=target, error=error), 401
    guard.succeeded(attempt)
    user.last_login_at = clock.now()
    db().commit()
    login(user)
    logger.info("signed in user=%s role=%s", user.id, user.role)
    return redirect(target)


def _locked(target: str, exc: throttle.LockedError) -> Response:
    error = "Too many failed sign-ins. " + _try_again(exc.until, clock.now())
    page = render_template("auth/login.html", next=target, error=error)
    response = Response(page, status=429, mimetype="text/html")
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _try_again(until: datetime, now: datetime) -> str:
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Try again in {minutes} {unit}, after {until:%H:%M} UTC."


@bp.post("/logout")
@requires(*EVERYONE, creditor=False)
def logout() -> Response:
    from flask import session

    logger.info("signed out user=%s", g.user.id)
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.login"))


@bp.get("/launch/<ledger>")
@public
def launch(ledger: str) -> Response:
    """The app's launch URL in the QuickBooks App Store / Xero App Store listing."""
    if ledger not in LEDGERS:
        abort(404)
    user = g.get("user")
    if user is not None and g.get("creditor_id") is not None:
        return redirect(url_for("dashboard.index"))
    # Signing in through the ledger: its consent screen proves the person can act
    # for the company, and the callback signs them in to that company's creditor.
    return redirect(url_for("connect.start", ledger=ledger))


@bp.get("/healthz")
@public
def health() -> Response:
    db().execute(sa.text("SELECT 1"))
    return Response("ok", mimetype="text/plain")
