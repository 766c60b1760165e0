"""`care web`: serve the web add-on (development server; gunicorn in production)."""

from __future__ import annotations

import logging

import click

logger = logging.getLogger(__name__)


@click.command("web")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to bind.")
@click.option(
    "--migrate/--no-migrate",
    default=True,
    show_default=True,
    help="Bring the database schema up to date first.",
)
def web(host: str, port: int, migrate: bool) -> None:
    """Serve the CARE web app (Flask's server: for development and the demo)."""
    from app import config, db
    from app.web import create_app

    settings = config.load()
    if migrate:
        db.upgrade(settings.database_url)
    app = create_app(settings)
    logger.info("web serving host=%s port=%s", host, port)
    app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
