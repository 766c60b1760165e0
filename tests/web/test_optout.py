"""Debtors opting out by the e-mail link (one-click POST) and by replying STOP."""

from datetime import date
from decimal import Decimal

import pytest
from twilio.request_validator import RequestValidator

from app import referrals
from app.channels.unsubscribe import make_token
from app.models import Debtor, ReferralCase


def test_one_click_unsubscribe_opts_the_debtor_out(optout_env):
    client, session, case, debtor, secret, _ = optout_env
    token = make_token(secret, f"case:{case.id}")

    answer = client.post(
        f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}
    )

    assert answer.status_code == 200
    session.refresh(debtor)
    assert debtor.opted_out is True


def test_a_forged_unsubscribe_token_is_404(optout_env):
    client, session, case, debtor, _, _ = optout_env
    token = make_token("not-our-secret", f"case:{case.id}")
    assert client.post(f"/unsubscribe/{token}").status_code == 404
    session.refresh(debtor)
    assert debtor.opted_out is False


def test_stop_reply_opts_the_number_out_and_a_forged_one_does_not(optout_env):
    client, session, case, debtor, _, settings = optout_env
    url = settings.base_url + "/webhooks/twilio/inbound"
    form = {
        "MessageSid": "SM1",
        "AccountSid": "AC1",
        "From": "+12015555604",
        "To": "+15005550006",
        "Body": "STOP",
    }
    forged = client.post(
        "/webhooks/twilio/inbound", data=form, headers={"X-Twilio-Signature": "bad"}
    )
    assert forged.status_code == 403
    session.refresh(debtor)
    assert debtor.opted_out is False

    signature = RequestValidator(settings.twilio_auth_token).compute_signature(
        url, form
    )
    answer = client.post(
        "/webhooks/twilio/inbound", data=form, headers={"X-Twilio-Signature": signature}
    )
    assert answer.status_code == 200
    session.refresh(debtor)
    assert debtor.opted_out is True


@pytest.fixture
def optout_env(database_url, clock, keyring_for_web):
    from app import config, db
    from app.web import create_app
    from tests.domain import factories as f

    db.upgrade(database_url)
    settings = config.load().with_overrides(
        database_url=database_url,
        secret_key="test-secret",
        twilio_auth_token="TESTONLY-twilio-token",
        base_url="http://127.0.0.1:5000",
    )
    sessions = db.session_factory(database_url)
    session = sessions()
    creditor = f.creditor(session)
    f.user(session, role="representative")
    conn = f.connection(session, creditor)
    debtor = f.debtor(session, conn, phones=["+1 201 555 5604"], country="US")
    f.invoice(session, debtor, due_date=date(2025, 3, 17), amount_due=Decimal("450.00"))
    referrals.sweep(session, creditor.id, date(2025, 5, 1))
    session.commit()
    case = session.query(ReferralCase).one()
    app = create_app(settings, sessions=sessions, testing=True)
    yield (
        app.test_client(),
        session,
        case,
        session.get(Debtor, debtor.id),
        "test-secret",
        settings,
    )
    session.close()


@pytest.fixture
def keyring_for_web():
    from cryptography.fernet import Fernet

    from app import crypto

    previous = crypto.install(crypto.Keyring([Fernet.generate_key().decode()]))
    yield
    crypto.install(previous)
