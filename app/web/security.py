"""Who is signed in, which creditor they are looking at, and what their role allows.

Every view is wrapped by :func:`requires`, which records its roles on the view
function (`care_roles`) so a test can check that no state-changing route was left
without a role check. Program staff pick the creditor they work from the creditors
their role allows; creditor users are always pinned to their own creditor.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from sqlalchemy.orm import Session

from app.db import scoped
from app.models import Creditor, LedgerConnection, ReferralCase, User

logger = logging.getLogger(__name__)

ADMIN = "creditor_admin"
VIEWER = "creditor_viewer"
REP = "representative"
PROGRAM = "program_admin"
CREDITOR_USERS = (ADMIN, VIEWER)
STAFF = (REP, PROGRAM)
EVERYONE = (ADMIN, VIEWER, REP, PROGRAM)

F = TypeVar("F", bound=Callable[..., Any])


def db() -> Session:
    """The request's database session (opened on first use, closed at teardown)."""
    if "db" not in g:
        g.db = current_app.extensions["care"].sessions()
    return g.db  # type: ignore[no-any-return]


def care() -> Any:
    return current_app.extensions["care"]


def install(app: Flask) -> None:
    @app.before_request
    def load_user() -> None:
        g.user = None
        g.creditor_id = None
        user_id = session.get("uid")
        if user_id is None:
            return
        user = db().get(User, user_id)
        if user is None or not user.active:
            session.clear()
            return
        g.user = user
        if user.role in STAFF:
            _switch_from_link(user)
        g.creditor_id = _creditor_for(user)

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {"user": g.get("user"), "creditor": current_creditor_or_none()}


def login(user: User) -> None:
    """Start a fresh session for `user` (a new session id, against fixation)."""
    session.clear()
    session.permanent = True
    session["uid"] = user.id
    g.user = user
    g.creditor_id = _creditor_for(user)


def _switch_from_link(user: User) -> None:
    """Follow a link that names its creditor: `?creditor=<id>` (the work queue) or
    `?c=<connection id>` (the note CARE writes on the ledger's invoice)."""
    wanted = request.args.get("creditor", type=int)
    connection_id = request.args.get("c", type=int)
    if wanted is None and connection_id is not None:
        connection = db().get(LedgerConnection, connection_id)
        wanted = connection.creditor_id if connection is not None else None
    if wanted is not None and wanted in workable_creditor_ids(db(), user):
        session["creditor_id"] = wanted


def _creditor_for(user: User) -> int | None:
    if user.creditor_id is not None and user.role in CREDITOR_USERS:
        return user.creditor_id
    chosen = session.get("creditor_id")
    if chosen is not None and chosen in workable_creditor_ids(db(), user):
        return int(chosen)
    return None


def workable_creditor_ids(session_: Session, user: User) -> set[int]:
    """The creditors `user` may look at: their own, or those program staff work."""
    if user.role in CREDITOR_USERS:
        return {user.creditor_id} if user.creditor_id is not None else set()
    if user.role == PROGRAM:
        return set(session_.scalars(sa.select(Creditor.id)))
    ids = set(
        session_.scalars(
            sa.select(ReferralCase.creditor_id)
            .where(ReferralCase.representative_id == user.id)
            .distinct()
        )
    )
    if user.creditor_id is not None:
        ids.add(user.creditor_id)
    return ids


def requires(*roles: str, creditor: bool = True) -> Callable[[F], F]:
    """Signed-in users with one of `roles` (and, with `creditor`, a creditor)."""
    unknown = set(roles) - set(EVERYONE)
    if unknown or not roles:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def wrap(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            user = g.get("user")
            if user is None:
                return redirect(url_for("auth.login", next=_next_path()))
            if user.role not in roles:
                logger.warning(
                    "role refused user=%s role=%s path=%s",
                    user.id,
                    user.role,
                    request.path,
                )
                abort(403)
            if creditor and g.creditor_id is None:
                return redirect(url_for("admin.creditors", next=_next_path()))
            return view(*args, **kwargs)

        guarded.care_roles = tuple(roles)  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return wrap


def public(view: F) -> F:
    """Mark a view as deliberately open (sign-in, webhooks, health)."""
    view.care_public = True  # type: ignore[attr-defined]
    return view


def _next_path() -> str:
    path = request.full_path if request.query_string else request.path
    return path if request.method == "GET" else request.path


def creditor_id() -> int:
    """The creditor the request is about (set by `requires`)."""
    value = g.get("creditor_id")
    if value is None:
        abort(404)
    return int(value)


def current_creditor_or_none() -> Creditor | None:
    value = g.get("creditor_id")
    if value is None:
        return None
    if "creditor" not in g:
        g.creditor = db().get(Creditor, value)
    return g.creditor  # type: ignore[no-any-return]


def current_creditor() -> Creditor:
    found = current_creditor_or_none()
    if found is None:
        abort(404)
    return found


def owned(model: type[Any], row_id: int) -> Any:
    """Row `row_id` of `model` if it is the current creditor's; 404 otherwise."""
    row = scoped(db(), model, creditor_id()).get(row_id)
    if row is None:
        abort(404)
    return row


def who() -> str:
    """The audit actor of the signed-in person."""
    return f"user:{g.user.id}"


def back(default: str) -> str:
    """The page the form was on, when it is on this site; else `default`."""
    referrer = request.referrer or ""
    if referrer.startswith(request.host_url):
        return "/" + referrer.removeprefix(request.host_url)
    return default


def safe_next(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default` (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//"):
        if "\\" not in target:
            return target
    return default
