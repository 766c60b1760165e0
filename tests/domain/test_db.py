"""Engines and sessions: URL handling, commit and rollback."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from app import db
from app.models import Creditor
from tests.domain import factories


def test_heroku_style_postgres_url_is_accepted() -> None:
    engine = db.make_engine("postgres://care@db.example/care")
    try:
        assert engine.url.drivername.startswith("postgresql")
    finally:
        engine.dispose()


def test_an_empty_url_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no database URL"):
        db.make_engine("")


def test_session_scope_commits_on_success(
    factory: sessionmaker[Session], clock: object
) -> None:
    with db.session_scope(factory) as session:
        factories.creditor(session, name="Kept Ltd")
    with factory() as session:
        names = session.scalars(sa.select(Creditor.name)).all()
    assert names == ["Kept Ltd"]


def test_session_scope_rolls_back_on_error(
    factory: sessionmaker[Session], clock: object
) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with db.session_scope(factory) as session:
            factories.creditor(session, name="Lost Ltd")
            raise RuntimeError("boom")
    with factory() as session:
        assert session.scalars(sa.select(Creditor)).all() == []


def test_sqlite_file_in_a_missing_folder_is_created(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'deep' / 'er' / 'care.db'}"
    db.upgrade(url)
    assert (tmp_path / "deep" / "er" / "care.db").exists()
