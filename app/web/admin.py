"""Program staff: choose the creditor to work, manage people, see webhook intake."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from app import audit
from app.models import Creditor, User, WebhookDelivery
from app.models.tenants import CREDITOR_ROLES, ROLES
from app.web.security import (
    EVERYONE,
    PROGRAM,
    STAFF,
    care,
    db,
    requires,
    safe_next,
    who,
    workable_creditor_ids,
)

logger = logging.getLogger(__name__)
bp = Blueprint("admin", __name__)


@bp.get("/admin/creditors")
@requires(*EVERYONE, creditor=False)
def creditors() -> str | Response:
    if g.user.role not in STAFF:
        return redirect(url_for("dashboard.index"))
    ids = workable_creditor_ids(db(), g.user)
    rows = (
        db()
        .scalars(
            sa.select(Creditor).where(Creditor.id.in_(ids)).order_by(Creditor.name)
        )
        .all()
    )
    return render_template(
        "admin/creditors.html", creditors=rows, next=request.args.get("next", "")
    )


@bp.post("/admin/creditors/choose")
@requires(*STAFF, creditor=False)
def choose() -> Response:
    chosen = request.form.get("creditor_id", type=int)
    if chosen is None or chosen not in workable_creditor_ids(db(), g.user):
        abort(404)
    session["creditor_id"] = chosen
    logger.info("creditor chosen user=%s creditor=%s", g.user.id, chosen)
    return redirect(safe_next(request.form.get("next"), url_for("dashboard.index")))


# TODO: only program admins create accounts; a creditor admin cannot yet invite
# their own colleagues as viewers, so the program must do it for them.
@bp.get("/admin/users")
@requires(PROGRAM, creditor=False)
def users() -> str:
    return render_template("admin/users.html", **_users_context({}))


def _users_context(errors: dict[str, str]) -> dict[str, object]:
    rows = (
        db()
        .execute(
            sa.select(User, Creditor.name)
            .outerjoin(Creditor, Creditor.id == User.creditor_id)
            .order_by(User.role, User.email)
            .limit(500)
        )
        .all()
    )
    all_creditors = db().scalars(sa.select(Creditor).order_by(Creditor.name)).all()
    return {"rows": rows, "creditors": all_creditors, "roles": ROLES, "errors": errors}


@bp.post("/admin/users")
@requires(PROGRAM, creditor=False)
def create_user() -> Response | tuple[str, int]:
    form = request.form
    email = (form.get("email") or "").strip().lower()
    role = form.get("role") or ""
    creditor_id = form.get("creditor_id", type=int)
    errors: dict[str, str] = {}
    if "@" not in email or " " in email:
        errors["email"] = "not an e-mail address"
    if role not in ROLES:
        errors["role"] = "choose a role"
    if role in CREDITOR_ROLES and (
        creditor_id is None or db().get(Creditor, creditor_id) is None
    ):
        errors["creditor_id"] = "creditor staff belong to a creditor"
    user = User(
        email=email,
        name=(form.get("name") or "").strip()[:200],
        role=role,
        creditor_id=creditor_id,
    )
    try:
        user.set_password(form.get("password") or "")
    except ValueError as exc:
        errors["password"] = str(exc)
    if errors:
        return render_template("admin/users.html", **_users_context(errors)), 422
    try:
        db().add(user)
        db().flush()
    except IntegrityError:
        db().rollback()
        return render_template(
            "admin/users.html", **_users_context({"email": "already in use"})
        ), 422
    audit.record(
        db(),
        who=who(),
        creditor_id=creditor_id,
        entity="user",
        entity_id=user.id,
        action="create",
        why=f"account for {role}",
    )
    db().commit()
    flash(f"Account created for {email}.")
    return redirect(url_for("admin.users"))


@bp.post("/admin/users/<int:user_id>/deactivate")
@requires(PROGRAM, creditor=False)
def deactivate(user_id: int) -> Response:
    user = db().get(User, user_id)
    if user is None:
        abort(404)
    if user.id == g.user.id:
        flash("You cannot deactivate yourself.")
        return redirect(url_for("admin.users"))
    user.active = False
    audit.record(
        db(),
        who=who(),
        creditor_id=user.creditor_id,
        entity="user",
        entity_id=user.id,
        action="deactivate",
        why="deactivated by a program admin",
    )
    db().commit()
    return redirect(url_for("admin.users"))


@bp.get("/admin/webhooks")
@requires(PROGRAM, creditor=False)
def webhooks() -> str:
    rows = (
        db()
        .scalars(
            sa.select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(100)
        )
        .all()
    )
    return render_template("admin/webhooks.html", rows=rows, failed=_failed_jobs())


def _failed_jobs() -> list[Any]:
    """Failed background jobs, for program admins only (this page's role)."""
    from app.redis_client import connect
    from jobs.inspect import failed_jobs

    settings = care().settings
    try:
        return failed_jobs(connect(settings.redis_url, settings.data_dir))
    except Exception:  # noqa: BLE001 - the page still shows the deliveries
        logger.exception("failed jobs could not be read")
        return []
