"""`care migrate`: bring the database schema up to date (or step it down)."""

from __future__ import annotations

import logging

import click

from app import config, crypto, db

logger = logging.getLogger(__name__)


@click.command("migrate")
@click.option(
    "--url", default="", help="Database URL (default: DATABASE_URL or SQLite)."
)
@click.option("--down", "down", default="", metavar="REV", help="Downgrade to REV.")
@click.option(
    "--rotate-keys",
    is_flag=True,
    help="Then re-encrypt stored tokens under the newest CARE_ENCRYPTION_KEYS key.",
)
def migrate(url: str, down: str, rotate_keys: bool) -> None:
    """Upgrade the database to the newest revision, or down to --down REV."""
    url = url or config.load().database_url
    target = sa_safe(url)
    if down:
        db.downgrade(url, down)
        click.echo(f"downgraded {target} to {down}")
    else:
        db.upgrade(url)
        click.echo(f"upgraded {target} to head")
    if rotate_keys:
        engine = db.make_engine(url)
        try:
            with db.session_scope(db.session_factory(engine)) as session:
                count = crypto.rotate(session)
        finally:
            engine.dispose()
        click.echo(f"re-encrypted {count} stored secrets under the newest key")


def sa_safe(url: str) -> str:
    """`url` with any password masked, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
