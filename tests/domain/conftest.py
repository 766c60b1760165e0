"""Fixtures for the domain tests: a migrated database, sessions and a test keyring."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.orm import Session, sessionmaker

from app import crypto, db


@pytest.fixture
def keyring() -> Iterator[crypto.Keyring]:
    """A fresh random Fernet key installed for the test."""
    ring = crypto.Keyring([Fernet.generate_key().decode()])
    previous = crypto.install(ring)
    yield ring
    crypto.install(previous)


@pytest.fixture
def database_migrated() -> bool:
    return True


@pytest.fixture
def engine(database_url: str, keyring: crypto.Keyring) -> Iterator[sa.Engine]:
    """An engine on a database migrated to head."""
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: sa.Engine) -> sessionmaker[Session]:
    return db.session_factory(engine)


@pytest.fixture
def session(factory: sessionmaker[Session], clock: object) -> Iterator[Session]:
    """A session on the migrated database, with the simulated clock installed."""
    with factory() as session:
        yield session
