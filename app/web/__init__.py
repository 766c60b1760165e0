"""The web add-on: a Flask application factory and its blueprints.

Pages are rendered on the server; htmx (vendored under static/vendor) polls the few
fragments that change while a page is open. Every database read of tenant data goes
through `app.db.scoped`, so an id from another creditor is simply not found (404).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask, g
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session, sessionmaker

from app import clock, config, crypto, db
from app.config import Settings
from app.web import formatting, jobs_bridge, security

logger = logging.getLogger(__name__)

csrf = CSRFProtect()

BLUEPRINTS = (
    "app.web.auth:bp",
    "app.web.connect:bp",
    "app.web.dashboard:bp",
    "app.web.invoices:bp",
    "app.web.cases:bp",
    "app.web.work_queue:bp",
    "app.web.rules_page:bp",
    "app.web.insights_page:bp",
    "app.web.settings_page:bp",
    "app.web.admin:bp",
    "app.web.live:bp",
    "app.web.webhooks:bp",
    "app.web.assets:bp",
    "app.web.optout:bp",
)


def create_app(
    settings: Settings | None = None,
    *,
    sessions: sessionmaker[Session] | None = None,
    enqueue: jobs_bridge.Enqueuer | None = None,
    testing: bool = False,
) -> Flask:
    """The CARE web application for `settings` (default: read from the environment)."""
    settings = settings or config.load()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key or crypto.DEV_SECRET_KEY,
        TESTING=testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=_secure_cookies(settings),
        SESSION_COOKIE_NAME="care_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,  # logos and webhook bodies are small
    )
    if sessions is None:
        sessions = db.session_factory(db.make_engine(settings.database_url))
    if settings.clock == "redis":
        # The demo's simulated clock lives in Redis so the web app, the workers
        # and the sandboxes agree on "now" (gunicorn workers included).
        from app.redis_client import connect

        clock.set_clock(
            clock.RedisClock(connect(settings.redis_url, settings.data_dir))
        )
    app.extensions["care"] = CareState(
        settings, sessions, enqueue or jobs_bridge.Jobs()
    )

    csrf.init_app(app)
    formatting.install(app)
    security.install(app)
    for target in BLUEPRINTS:
        module_name, attr = target.split(":")
        module = __import__(module_name, fromlist=[attr])
        app.register_blueprint(getattr(module, attr))
    csrf.exempt("app.web.webhooks.quickbooks")
    csrf.exempt("app.web.webhooks.xero")
    # The signed token (unsubscribe) and Twilio's signature are the proof here.
    csrf.exempt("app.web.optout.unsubscribe")
    csrf.exempt("app.web.optout.twilio_inbound")

    app.teardown_appcontext(_close_session)
    _security_headers(app)
    logger.info("web app ready base_url=%s", settings.base_url)
    return app


class CareState:
    """What the blueprints share: settings, the session maker, the job queue."""

    def __init__(
        self, settings: Settings, sessions: sessionmaker[Session], jobs: Any
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.jobs = jobs


def _secure_cookies(settings: Settings) -> bool:
    # A browser drops Secure cookies on plain http, so only the local development
    # address may go without; anything else (a real host) must be https.
    return not settings.base_url.startswith(("http://127.0.0.1", "http://localhost"))


def _close_session(exc: BaseException | None) -> None:
    session = g.pop("db", None)
    if session is not None:
        if exc is not None:
            session.rollback()
        session.close()


def _security_headers(app: Flask) -> None:
    @app.after_request
    def headers(response: Any) -> Any:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self';"
            " script-src 'self'; frame-ancestors 'self'",
        )
        return response
