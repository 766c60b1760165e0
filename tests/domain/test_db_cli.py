"""`care migrate` upgrades to head and steps down with --down."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from app import db
from app.cli import main
from app.db_cli import sa_safe


def _revision(url: str) -> str | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(
                sa.text("SELECT version_num FROM alembic_version")
            ).scalar()
    finally:
        engine.dispose()


def test_migrate_upgrades_then_downgrades(database_url: str) -> None:
    runner = CliRunner()
    up = runner.invoke(main, ["migrate", "--url", database_url])
    assert up.exit_code == 0, up.output
    assert "upgraded" in up.output and "to head" in up.output
    head = ScriptDirectory.from_config(
        db.alembic_config(database_url)
    ).get_current_head()
    assert _revision(database_url) == head

    down = runner.invoke(main, ["migrate", "--url", database_url, "--down", "0001"])
    assert down.exit_code == 0, down.output
    assert _revision(database_url) == "0001"


def test_printed_url_hides_the_password() -> None:
    masked = sa_safe("postgresql://care:s3cret@db.example/care")
    assert "s3cret" not in masked and "***" in masked
