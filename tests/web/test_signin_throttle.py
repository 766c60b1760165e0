"""Failed sign-ins lock the e-mail (and the address) out for a cooling period.

The clock fixture is CARE's simulated clock: the tests move it instead of sleeping.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis as redis_lib
from redis.backoff import NoBackoff
from redis.retry import Retry
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from app.web import throttle
from tests.web.conftest import PASSWORD, csrf_token

WRONG = "not-the-password"
ANOTHER = {"REMOTE_ADDR": "198.51.100.7"}


@pytest.fixture
def guard(app: Any, redis: Any) -> Iterator[throttle.SignInThrottle]:
    """The app's throttle, production limits, on an emptied Redis database."""
    found = throttle.SignInThrottle(redis, app.secret_key)
    app.extensions["care_signin"] = found
    yield found
    redis.flushdb()


@pytest.fixture
def tight(app: Any, guard: Any, redis: Any) -> throttle.SignInThrottle:
    """Four failures per address instead of twenty: each unknown e-mail costs a
    full scrypt check against the dummy hash, so fewer keep the tests quick."""
    found = throttle.SignInThrottle(redis, app.secret_key, address_limit=4)
    app.extensions["care_signin"] = found
    return found


def attempt(client: Any, email: str, password: str, **kw: Any) -> Any:
    token = csrf_token(client)
    data = {"email": email, "password": password, "csrf_token": token}
    return client.post("/login", data=data, **kw)


def fail(client: Any, email: str, times: int, **kw: Any) -> list[Any]:
    return [attempt(client, email, WRONG, **kw) for _ in range(times)]


def signed_in(client: Any) -> bool:
    return client.get("/dashboard").status_code == 200


def test_the_sixth_attempt_is_refused_even_with_the_right_password(
    app, world, guard
) -> None:
    client = app.test_client()

    misses = fail(client, world.a.admin, 5)
    refused = attempt(client, world.a.admin, PASSWORD)

    assert [r.status_code for r in misses] == [401] * 5
    assert "Try again in 15 minutes" in misses[-1].get_data(as_text=True)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "900"
    page = refused.get_data(as_text=True)
    assert "Too many failed sign-ins. Try again in 15 minutes, after 12:15 UTC." in page
    assert not signed_in(client)


def test_the_lock_lifts_after_the_cooling_period(app, world, guard, clock) -> None:
    client = app.test_client()
    fail(client, world.a.admin, 5)

    clock.advance(timedelta(minutes=14))
    still = attempt(client, world.a.admin, PASSWORD)
    clock.advance(timedelta(minutes=1))
    lifted = attempt(client, world.a.admin, PASSWORD)

    assert still.status_code == 429 and still.headers["Retry-After"] == "60"
    assert "Try again in 1 minute," in still.get_data(as_text=True)
    assert lifted.status_code == 302
    assert signed_in(client)


def test_a_success_resets_the_emails_count(app, world, guard) -> None:
    client = app.test_client()
    fail(client, world.a.admin, 4)
    assert attempt(client, world.a.admin, PASSWORD).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})

    again = fail(client, world.a.admin, 5)

    assert [r.status_code for r in again] == [401] * 5
    assert attempt(client, world.a.admin, PASSWORD).status_code == 429


def test_an_unknown_email_locks_like_a_known_one(app, world, guard) -> None:
    client = app.test_client()

    misses = fail(client, "nobody@care.invalid", 6, environ_base=ANOTHER)

    assert [r.status_code for r in misses] == [401] * 5 + [429]


def test_one_address_failing_on_many_emails_is_locked_out(app, world, tight) -> None:
    client = app.test_client()
    for n in range(tight.address_limit):
        attempt(client, f"guess{n}@care.invalid", WRONG)

    refused = attempt(client, world.a.admin, PASSWORD)
    elsewhere = attempt(
        app.test_client(),
        world.a.admin,
        PASSWORD,
        environ_base=ANOTHER,
    )

    assert refused.status_code == 429
    assert elsewhere.status_code == 302


def test_a_success_does_not_clear_the_addresss_failures(app, world, tight) -> None:
    client = app.test_client()
    for n in range(tight.address_limit - 1):
        attempt(client, f"guess{n}@care.invalid", WRONG)

    assert attempt(app.test_client(), world.b.admin, PASSWORD).status_code == 302
    last = attempt(client, "guess-last@care.invalid", WRONG)

    assert last.status_code == 401
    assert attempt(client, world.a.admin, PASSWORD).status_code == 429


def test_a_lockout_is_logged_with_the_emails_hash_not_the_address(
    app, world, guard, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="app.web")
    client = app.test_client()

    fail(client, world.a.admin, 5)

    locks = [r for r in caplog.records if "sign-in locked" in r.getMessage()]
    assert len(locks) == 1 and locks[0].levelno == logging.WARNING
    assert f"email_hash={guard.digest(world.a.admin)}" in locks[0].getMessage()
    assert not any(world.a.admin in r.getMessage() for r in caplog.records)


def test_attempts_in_flight_count_before_their_password_is_checked(
    redis, clock
) -> None:
    guard = throttle.SignInThrottle(redis, "TESTONLY-secret", email_limit=3)
    try:
        for _ in range(3):
            guard.begin("burst@care.invalid", "192.0.2.1")  # none has answered yet

        with pytest.raises(throttle.LockedError) as caught:
            guard.begin("burst@care.invalid", "192.0.2.1")

        assert caught.value.retry_after == 900
    finally:
        redis.flushdb()


def test_sign_in_stays_up_unthrottled_when_redis_is_down(app, world, caplog) -> None:
    dead = redis_lib.Redis(
        unix_socket_path="/nonexistent/redis.sock", retry=Retry(NoBackoff(), 0)
    )
    app.extensions["care_signin"] = throttle.SignInThrottle(dead, app.secret_key)

    response = attempt(app.test_client(), world.a.admin, PASSWORD)

    assert response.status_code == 302
    assert "sign-in throttle unavailable" in caplog.text


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.1"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),
        (2, "6.6.6.6, 203.0.113.9, 10.1.1.1", "203.0.113.9"),
        (1, "", "10.0.0.1"),
    ],
)
def test_client_address_is_the_one_our_first_proxy_saw(
    hops: int, forwarded: str, expected: str
) -> None:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    builder = EnvironBuilder(
        path="/login", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.1"}
    )
    request = Request(builder.get_environ())

    assert throttle.client_address(request, hops) == expected
