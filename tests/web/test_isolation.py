"""Tenant isolation: creditor A asking for B's invoice, case or letter gets 404."""

from __future__ import annotations

import sqlalchemy as sa

from app.models import CaseInvoice, Creditor, ReferralCase
from tests.domain import factories
from tests.web.conftest import choose_creditor, count, csrf_token, sign_in


def test_invoice_case_and_letter_of_another_creditor_are_not_found(
    as_admin_a, world
) -> None:
    b = world.b
    for path in (
        f"/invoices/{b.invoice_ids[0]}",
        f"/cases/{b.case_id}",
        f"/cases/{b.case_id}/timeline",
        f"/letters/{b.letter_step_id}.pdf",
        f"/refer/quickbooks/{b.external_id}/{1}",
    ):
        assert as_admin_a.get(path).status_code == 404, path
    # The creditor's own are there (so the 404s above are about ownership).
    a = world.a
    for path in (
        f"/invoices/{a.invoice_ids[0]}",
        f"/cases/{a.case_id}",
        f"/letters/{a.letter_step_id}.pdf",
    ):
        assert as_admin_a.get(path).status_code == 200, path


def test_letter_pdf_is_served_to_its_creditor_only(app, world) -> None:
    own = sign_in(app.test_client(), world.a.viewer)
    response = own.get(f"/letters/{world.a.letter_step_id}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert b"alpha letter" in response.data
    assert own.get(f"/letters/{world.b.letter_step_id}.pdf").status_code == 404


def test_state_changes_on_another_creditors_rows_are_not_found(
    as_admin_a, world, sessions
) -> None:
    token = csrf_token(as_admin_a, "/invoices")
    b = world.b
    attempts = {
        f"/invoices/{b.invoice_ids[0]}/refer": {},
        f"/cases/{b.case_id}/withdraw": {"why": "not ours"},
        f"/cases/{b.case_id}/note": {"text": "sneaky"},
        f"/cases/{b.case_id}/approve": {},
        f"/connections/{b.connection_id}/disconnect": {},
        "/invoices/refer": {
            "invoice_ids": [str(world.a.invoice_ids[0]), str(b.invoice_ids[0])]
        },
    }
    for path, data in attempts.items():
        response = as_admin_a.post(path, data={**data, "csrf_token": token})
        assert response.status_code == 404, path
    with sessions() as session:
        case = session.get(ReferralCase, b.case_id)
        assert case is not None and case.state == "active"
    # The bulk request was refused whole: A's own invoice was not referred either.
    assert (
        count(sessions, CaseInvoice, CaseInvoice.invoice_id == world.a.invoice_ids[0])
        == 0
    )


def test_search_shows_only_the_creditors_own_invoices(as_admin_a, world) -> None:
    page = as_admin_a.get("/invoices?q=Customer&status=all").get_data(as_text=True)
    assert "alpha Customer" in page
    assert "bravo" not in page


def test_program_staff_see_only_the_chosen_creditor(app, world) -> None:
    client = sign_in(app.test_client(), world.rep)
    # Nothing chosen yet: tenant pages send the person to choose.
    response = client.get(f"/cases/{world.a.case_id}")
    assert response.status_code == 302 and "/admin/creditors" in response.location
    choose_creditor(client, world.a.creditor_id)
    assert client.get(f"/cases/{world.a.case_id}").status_code == 200
    assert client.get(f"/cases/{world.b.case_id}").status_code == 404
    choose_creditor(client, world.b.creditor_id)
    assert client.get(f"/cases/{world.b.case_id}").status_code == 200
    assert client.get(f"/cases/{world.a.case_id}").status_code == 404


def test_representative_cannot_choose_a_creditor_they_do_not_work(
    app, world, sessions
) -> None:
    with sessions.begin() as session:
        stranger = factories.creditor(session, name="charlie")
        stranger_id = stranger.id
    client = sign_in(app.test_client(), world.rep)
    token = csrf_token(client, "/admin/creditors")
    response = client.post(
        "/admin/creditors/choose",
        data={"creditor_id": stranger_id, "csrf_token": token},
    )
    assert response.status_code == 404
    page = client.get("/admin/creditors").get_data(as_text=True)
    assert "charlie" not in page and "alpha" in page
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Creditor)) == 3


def test_creditor_user_cannot_switch_creditor(app, world) -> None:
    client = sign_in(app.test_client(), world.a.admin)
    token = csrf_token(client, "/dashboard")
    response = client.post(
        "/admin/creditors/choose",
        data={"creditor_id": world.b.creditor_id, "csrf_token": token},
    )
    assert response.status_code == 403
    assert client.get(f"/cases/{world.b.case_id}").status_code == 404


def test_links_naming_their_creditor_switch_program_staff_there(
    app, world, sessions
) -> None:
    with sessions.begin() as session:
        stranger = factories.creditor(session, name="delta")
        stranger_id = stranger.id
    client = sign_in(app.test_client(), world.rep)
    direct = client.get(f"/cases/{world.b.case_id}?creditor={world.b.creditor_id}")
    assert direct.status_code == 200
    # The note CARE writes on the ledger's invoice names the connection instead.
    by_note = client.get(f"/cases/{world.a.case_id}?c={world.a.connection_id}")
    assert by_note.status_code == 200
    # A creditor the representative does not work is ignored: still A's view.
    assert (
        client.get(f"/cases/{world.b.case_id}?creditor={stranger_id}").status_code
        == 404
    )


def test_creditor_users_ignore_switching_links(app, world) -> None:
    client = sign_in(app.test_client(), world.a.admin)
    response = client.get(f"/cases/{world.b.case_id}?creditor={world.b.creditor_id}")
    assert response.status_code == 404


def test_redirects_stay_on_this_site(as_admin_a, world) -> None:
    from tests.web.conftest import csrf_token as token_of

    token = token_of(as_admin_a, "/invoices")
    response = as_admin_a.post(
        "/invoices/refer",
        data={"csrf_token": token},
        headers={"Referer": "https://evil.example/phish"},
    )
    assert response.status_code == 302
    assert response.location.startswith("/invoices")
    signed_out = as_admin_a.application.test_client()
    page = signed_out.get("/login?next=//evil.example/x").get_data(as_text=True)
    assert 'value="//evil.example/x"' not in page
