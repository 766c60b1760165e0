"""A replay never empties a Redis or writes into a database that holds data."""

from __future__ import annotations

import pytest
import redis as redis_lib

from app import db
from app.models import Creditor
from app.replay.run import ReplayError, _refuse_shared_state


def test_a_redis_holding_keys_is_refused(
    redis: redis_lib.Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    _refuse_shared_state()  # empty: fine
    redis.set("rq:queue:default", "someone's work")
    with pytest.raises(ReplayError, match="REDIS_URL's database is not empty"):
        _refuse_shared_state()


def test_a_database_with_creditors_is_refused(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    _refuse_shared_state()  # no tables yet
    db.upgrade(database_url)
    _refuse_shared_state()  # migrated, no creditor
    sessions = db.session_factory(database_url)
    with sessions.begin() as session:
        session.add(Creditor(name="Real Co", home_currency="USD", timezone="UTC"))
    with pytest.raises(ReplayError, match="DATABASE_URL's database holds creditors"):
        _refuse_shared_state()
