"""Engines, sessions, tenant-scoped selects and schema upgrades.

SQLite (the embedded default) gets foreign keys ON, WAL and a busy timeout so the web
app and the workers can share one file; PostgreSQL is used as configured.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 15_000  # workers wait this long for a writer's lock
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

M = TypeVar("M")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`, with SQLite set up for several processes."""
    if not url:
        raise ValueError("no database URL given")
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        engine = sa.create_engine(url, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine_or_url: Engine | str) -> sessionmaker[Session]:
    """A session maker bound to an engine (or to a new engine for a URL)."""
    engine = (
        make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    )
    # expire_on_commit=False: jobs read ids and amounts after committing.
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> Any:
    """An Alembic Config for `url`, pointing at this checkout's migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Run the Alembic migrations on `url` up to `revision`."""
    from alembic import command

    logger.info("migrate up revision=%s", revision)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Run the Alembic migrations on `url` down to `revision` ("base": empty)."""
    from alembic import command

    logger.info("migrate down revision=%s", revision)
    command.downgrade(alembic_config(url), revision)


class ScopedSelect(Generic[M]):
    """A select of one model already filtered to one creditor's rows."""

    def __init__(self, session: Session, model: type[M], creditor_id: int) -> None:
        column = getattr(model, "creditor_id", None)
        if column is None:
            raise TypeError(
                f"{model.__name__} has no creditor_id: it is not tenant data"
            )
        if not isinstance(creditor_id, int) or isinstance(creditor_id, bool):
            raise TypeError(f"creditor_id must be an int, got {creditor_id!r}")
        self.session = session
        self.model = model
        self.creditor_id = creditor_id
        self.statement: sa.Select[Any] = sa.select(model).where(column == creditor_id)

    def _with(self, statement: sa.Select[Any]) -> ScopedSelect[M]:
        clone = ScopedSelect.__new__(ScopedSelect)
        clone.session, clone.model, clone.creditor_id = (
            self.session,
            self.model,
            self.creditor_id,
        )
        clone.statement = statement
        return clone

    def where(self, *criteria: Any) -> ScopedSelect[M]:
        """Narrow further; the tenant filter always stays."""
        return self._with(self.statement.where(*criteria))

    def order_by(self, *clauses: Any) -> ScopedSelect[M]:
        return self._with(self.statement.order_by(*clauses))

    def limit(self, count: int) -> ScopedSelect[M]:
        return self._with(self.statement.limit(count))

    def offset(self, count: int) -> ScopedSelect[M]:
        return self._with(self.statement.offset(count))

    def for_update(self) -> ScopedSelect[M]:
        return self._with(self.statement.with_for_update())

    def all(self) -> Sequence[M]:
        return self.session.scalars(self.statement).all()

    def first(self) -> M | None:
        return self.session.scalars(self.statement.limit(1)).first()

    def one(self) -> M:
        return self.session.scalars(self.statement).one()

    def get(self, row_id: int) -> M | None:
        """The row with primary key `row_id` if it is this creditor's, else None."""
        pk = sa.inspect(self.model).primary_key[0]  # type: ignore[union-attr]
        return self.where(pk == row_id).first()

    def count(self) -> int:
        counted = sa.select(sa.func.count()).select_from(self.statement.subquery())
        return int(self.session.scalar(counted) or 0)


def scoped(session: Session, model: type[M], creditor_id: int) -> ScopedSelect[M]:
    """`model`'s rows that belong to `creditor_id`, and never anyone else's."""
    return ScopedSelect(session, model, creditor_id)
