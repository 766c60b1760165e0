"""The invoice list, one-click and bulk referral, approval and the deep link.

World A's open invoices on 2025-05-01 (New York): 640.00 due 45 days ago, 75.50 due
10 days ago, 1,200.00 due 130 days ago, and 410.00 due 2025-03-20 (42 days) already
in case C-a.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app.models import CaseInvoice, Creditor, LedgerWrite, ReferralCase
from app.web import listing
from tests.web.conftest import choose_creditor, count, csrf_token, sign_in


def test_due_ranges_per_bucket_worked_by_hand() -> None:
    today = date(2025, 5, 1)
    assert listing.due_range("current", today) == (date(2025, 5, 1), None)
    assert listing.due_range("1-30", today) == (date(2025, 4, 1), date(2025, 4, 30))
    assert listing.due_range("31-60", today) == (date(2025, 3, 2), date(2025, 3, 31))
    assert listing.due_range("91-120", today) == (date(2025, 1, 1), date(2025, 1, 30))
    assert listing.due_range("120+", today) == (None, date(2024, 12, 31))


def test_bucket_counts_and_filtered_list(as_admin_a, world, sessions) -> None:
    with sessions() as session:
        counts = listing.bucket_counts(session, world.a.creditor_id, date(2025, 5, 1))
    assert counts == {
        "current": 0,
        "1-30": 1,
        "31-60": 2,
        "61-90": 0,
        "91-120": 0,
        "120+": 1,
    }
    page = as_admin_a.get("/invoices?bucket=31-60").get_data(as_text=True)
    assert "$640.00" in page and "$410.00" in page
    assert "$75.50" not in page and "$1,200.00" not in page
    assert "2 invoice(s)" in page


def test_sorting_and_paging(app, world, sessions) -> None:
    with sessions() as session:
        query = listing.Query(sort="amount", descending=True, size=2)
        first = listing.page(session, world.a.creditor_id, query, date(2025, 5, 1))
        second = listing.page(
            session,
            world.a.creditor_id,
            listing.Query(sort="amount", descending=True, size=2, page=2),
            date(2025, 5, 1),
        )
    amounts = [str(r.invoice.amount_due) for r in first.rows + second.rows]
    assert amounts == ["1200.0000", "640.0000", "410.0000", "75.5000"]
    assert (first.total, first.pages) == (4, 2)
    late = [r.days_late for r in first.rows]
    assert late == [130, 45]


def test_search_treats_wildcards_literally(app, world, sessions) -> None:
    with sessions() as session:
        none = listing.page(
            session, world.a.creditor_id, listing.Query(search="%"), date(2025, 5, 1)
        )
        named = listing.page(
            session,
            world.a.creditor_id,
            listing.Query(search="other"),
            date(2025, 5, 1),
        )
    assert none.total == 0
    assert [r.debtor_name for r in named.rows] == ["alpha Other Customer"]


def test_unknown_filter_is_a_clear_400(as_admin_a) -> None:
    response = as_admin_a.get("/invoices?bucket=200-300")
    assert response.status_code == 400
    assert "unknown aging bucket" in response.get_data(as_text=True)


def test_refer_button_opens_a_case_and_queues_the_ledger_note(
    as_admin_a, world, sessions
) -> None:
    invoice_id = world.a.invoice_ids[0]
    token = csrf_token(as_admin_a, "/invoices")
    response = as_admin_a.post(
        f"/invoices/{invoice_id}/refer", data={"csrf_token": token}
    )
    assert response.status_code == 302 and "/cases/" in response.location
    with sessions() as session:
        link = session.scalar(
            sa.select(CaseInvoice).where(CaseInvoice.invoice_id == invoice_id)
        )
        assert link is not None and link.amount_at_referral == 640
        case = session.get(ReferralCase, link.case_id)
        assert case is not None and case.state == "active"
        note = session.scalar(sa.select(LedgerWrite).where(LedgerWrite.kind == "note"))
        assert note is not None and f"/cases/{case.id}" in note.payload["text"]
    # Referring it again changes nothing.
    as_admin_a.post(f"/invoices/{invoice_id}/refer", data={"csrf_token": token})
    assert count(sessions, CaseInvoice, CaseInvoice.invoice_id == invoice_id) == 1


def test_bulk_refer_groups_invoices_by_debtor(as_admin_a, world, sessions) -> None:
    token = csrf_token(as_admin_a, "/invoices")
    ids = world.a.invoice_ids[:2]
    response = as_admin_a.post(
        "/invoices/refer",
        data={"invoice_ids": [str(i) for i in ids], "csrf_token": token},
    )
    assert response.status_code == 302
    with sessions() as session:
        cases = set(
            session.scalars(
                sa.select(CaseInvoice.case_id).where(CaseInvoice.invoice_id.in_(ids))
            )
        )
    assert len(cases) == 1  # both invoices are the same debtor's


def test_approval_first_proposes_then_approve_starts(
    as_admin_a, world, sessions
) -> None:
    with sessions.begin() as session:
        creditor = session.get(Creditor, world.a.creditor_id)
        creditor.rules = {"auto_refer": False}
    token = csrf_token(as_admin_a, "/invoices")
    as_admin_a.post(
        f"/invoices/{world.a.invoice_ids[0]}/refer", data={"csrf_token": token}
    )
    with sessions() as session:
        case_id = session.scalar(
            sa.select(CaseInvoice.case_id).where(
                CaseInvoice.invoice_id == world.a.invoice_ids[0]
            )
        )
        assert session.get(ReferralCase, case_id).state == "proposed"
    listed = as_admin_a.get("/referrals/proposed").get_data(as_text=True)
    assert f"C-{case_id}" in listed
    response = as_admin_a.post(f"/cases/{case_id}/approve", data={"csrf_token": token})
    assert response.status_code == 302
    with sessions() as session:
        assert session.get(ReferralCase, case_id).state == "active"


def test_deep_link_shows_then_refers(app, world, sessions) -> None:
    with sessions() as session:
        from app.models import Invoice

        invoice = session.get(Invoice, world.a.invoice_ids[0])
        ledger_id = invoice.ledger_id
    path = f"/refer/quickbooks/{world.a.external_id}/{ledger_id}"
    anonymous = app.test_client().get(path)
    assert anonymous.status_code == 302 and "next=" in anonymous.location

    client = sign_in(app.test_client(), world.a.admin)
    page = client.get(path)
    assert page.status_code == 200 and "Refer to pre-collections" in page.get_data(
        as_text=True
    )
    token = csrf_token(client, path)
    response = client.post(path, data={"csrf_token": token})
    assert response.status_code == 302 and "/cases/" in response.location
    assert (
        count(sessions, CaseInvoice, CaseInvoice.invoice_id == world.a.invoice_ids[0])
        == 1
    )


def test_viewer_sees_invoices_but_no_refer_button(app, world) -> None:
    client = sign_in(app.test_client(), world.a.viewer)
    page = client.get("/invoices").get_data(as_text=True)
    assert "$640.00" in page
    assert 'name="invoice_ids"' not in page and "formaction" not in page


def test_representative_lands_on_the_work_queue(app, world) -> None:
    client = sign_in(app.test_client(), world.rep)
    response = client.get("/")
    assert response.status_code == 302 and response.location.endswith("/queue")
    choose_creditor(client, world.a.creditor_id)
    assert client.get("/").location.endswith("/dashboard")


def test_double_clicked_refer_makes_one_case(app, world, sessions) -> None:
    import threading

    first = sign_in(app.test_client(), world.a.admin)
    token = csrf_token(first, "/invoices")
    twin = app.test_client()
    cookie = first.get_cookie("care_session")
    twin.set_cookie("care_session", cookie.value, domain=cookie.domain)
    invoice_id = world.a.invoice_ids[0]
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def click(client) -> None:
        barrier.wait()
        answer = client.post(
            f"/invoices/{invoice_id}/refer", data={"csrf_token": token}
        )
        codes.append(answer.status_code)

    threads = [threading.Thread(target=click, args=(c,)) for c in (first, twin)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert codes == [302, 302]
    assert count(sessions, CaseInvoice, CaseInvoice.invoice_id == invoice_id) == 1
    with sessions() as session:
        debtor_cases = session.scalars(
            sa.select(ReferralCase.id).where(
                ReferralCase.creditor_id == world.a.creditor_id,
                ReferralCase.state == "active",
            )
        ).all()
    assert len(debtor_cases) == 2  # the world's own case and this debtor's one
    assert count(sessions, LedgerWrite, LedgerWrite.kind == "note") == 1
