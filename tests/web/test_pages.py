"""Dashboard, insights, rules, settings and the work queue, with figures by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa

from app.models import Creditor, Debtor, OutreachStep, ReferralCase
from app.web import formatting
from app.web.work_queue import end_of_local_day, queue_for
from tests.web.conftest import csrf_token, sign_in


def test_money_and_dates_follow_the_locale() -> None:
    assert formatting.money(Decimal("1234.5"), "EUR", "de_DE") == "1.234,50\xa0€"
    assert formatting.money(Decimal("1234.5"), "USD", "en_US") == "$1,234.50"
    assert formatting.money(Decimal("1500.5"), "JPY", "ja_JP") == "￥1,501"
    assert formatting.money(Decimal("0.125"), "USD", "en_NZ") == "US$0.13"
    assert formatting.day(date(2025, 5, 1), "en_NZ") == "1 May 2025"
    assert formatting.day(date(2025, 5, 1), "de_DE") == "01.05.2025"
    assert formatting.locale_name("xx-nope") == "en_US"


def test_instant_is_shown_in_the_zone_asked_for() -> None:
    instant = datetime(2025, 5, 1, 21, 0, tzinfo=UTC)
    shown = formatting.instant(instant, "Pacific/Auckland", "en_NZ", "short")
    assert shown == "02/05/2025, 9:00\u202fam"


def test_insights_aging_worked_by_hand(as_admin_a) -> None:
    page = as_admin_a.get("/insights").get_data(as_text=True)
    # 31-60: 640.00 + 410.00; 1-30: 75.50; 120+: 1,200.00; total 2,325.50.
    assert "$1,050.00" in page and "$75.50" in page and "$1,200.00" in page
    assert "$2,325.50" in page
    assert 'id="chart-data"' in page and "chart-4.6.1.umd.min.js" in page


def test_dashboard_counts(as_admin_a) -> None:
    page = as_admin_a.get("/dashboard").get_data(as_text=True)
    assert "open invoices" in page and ">4</span>" in page
    assert "$410.00" in page  # referred in total


def test_rules_errors_are_shown_per_field(app, world, sessions) -> None:
    client = sign_in(app.test_client(), world.a.admin)
    token = csrf_token(client, "/rules")
    response = client.post(
        "/rules",
        data={
            "window_start_days": "60",
            "window_end_days": "30",
            "min_amount_due": "lots",
            "tier": "first_party",
            "csrf_token": token,
        },
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="window_end_days-error"' in body or 'id="min_amount_due-error"' in body
    assert 'aria-invalid="true"' in body
    with sessions() as session:
        assert session.get(Creditor, world.a.creditor_id).rules == {}


def test_rules_save_then_preview_uses_the_form_values(app, world, sessions) -> None:
    client = sign_in(app.test_client(), world.a.admin)
    token = csrf_token(client, "/rules")
    form = {
        "window_start_days": "40",
        "window_end_days": "150",
        "min_amount_due": "0.01",
        "tier": "first_party",
        "auto_refer": "on",
        "credits_hold": "on",
        "partly_paid_qualify": "on",
        "csrf_token": token,
    }
    preview = client.post("/rules/preview", data=form).get_data(as_text=True)
    # 40..150 days: 45 (640.00), 42 (410.00) and 130 (1,200.00) refer; 10 waits.
    assert "These <strong>3</strong> invoices would be referred" in preview
    assert "(2 not referred yet)" in preview
    assert "these <strong>0</strong> escalated" in preview
    saved = client.post("/rules", data=form)
    assert saved.status_code == 302
    with sessions() as session:
        rules = session.get(Creditor, world.a.creditor_id).rules
        assert (rules["window_start_days"], rules["window_end_days"]) == (40, 150)


def test_settings_validate_and_save(app, world, sessions) -> None:
    client = sign_in(app.test_client(), world.a.admin)
    token = csrf_token(client, "/settings")
    bad = client.post(
        "/settings",
        data={
            "locale": "xx_YY",
            "timezone": "Mars/Olympus",
            "fee_percent": "75",
            "csrf_token": token,
        },
    )
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert (
        "unknown locale" in body and "unknown time zone" in body and "0 to 50" in body
    )
    good = client.post(
        "/settings",
        data={
            "letterhead_name": "Alpha Supplies Ltd",
            "letterhead_address": "1 Quay St\nAuckland",
            "locale": "en_NZ",
            "timezone": "Pacific/Auckland",
            "fee_percent": "2.5",
            "csrf_token": token,
        },
    )
    assert good.status_code == 302
    with sessions() as session:
        creditor = session.get(Creditor, world.a.creditor_id)
        assert (creditor.locale, creditor.timezone) == ("en_NZ", "Pacific/Auckland")
        assert creditor.fee_rate == Decimal("0.025")
    preview = client.get("/settings/letter-preview.pdf")
    assert preview.mimetype == "application/pdf" and preview.data.startswith(b"%PDF")


def test_settings_are_for_creditor_admins_only(app, world) -> None:
    viewer = sign_in(app.test_client(), world.a.viewer)
    assert viewer.get("/settings").status_code == 403


def test_end_of_local_day() -> None:
    instant = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
    assert end_of_local_day(instant, "Pacific/Auckland") == datetime(
        2025, 5, 2, 12, 0, tzinfo=UTC
    )
    assert end_of_local_day(instant, "America/Chicago") == datetime(
        2025, 5, 2, 5, 0, tzinfo=UTC
    )


def test_queue_due_today_is_the_debtors_local_day(app, world, sessions, clock) -> None:
    # 2025-05-01 12:00 UTC is 2025-05-02 00:00 in Auckland, 07:00 (May 1) in Chicago.
    with sessions.begin() as session:
        case = session.get(ReferralCase, world.a.case_id)
        debtor = session.get(Debtor, case.debtor_id)
        debtor.timezone = "Pacific/Auckland"
        other = session.get(ReferralCase, world.b.case_id)
        session.get(Debtor, other.debtor_id).timezone = "America/Chicago"
        for case_id, creditor_id, due in (
            # 09:00 NZST on May 2 = 21:00 UTC May 1: today in Auckland.
            (
                world.a.case_id,
                world.a.creditor_id,
                datetime(2025, 5, 1, 21, 0, tzinfo=UTC),
            ),
            # 09:00 CDT on May 2 = 14:00 UTC May 2: tomorrow in Chicago.
            (
                world.b.case_id,
                world.b.creditor_id,
                datetime(2025, 5, 2, 14, 0, tzinfo=UTC),
            ),
        ):
            session.add(
                OutreachStep(
                    creditor_id=creditor_id,
                    case_id=case_id,
                    step_number=5,
                    channel="call",
                    due_at=due,
                    state="scheduled",
                )
            )
    with sessions() as session:
        items = {i.case.id: i for i in queue_for(session, world.rep_id, clock.now())}
    assert [what for _, what in items[world.a.case_id].due_today] == ["Call the debtor"]
    assert items[world.a.case_id].local_today == date(2025, 5, 2)
    assert items[world.b.case_id].due_today == []
    assert items[world.b.case_id].local_today == date(2025, 5, 1)


def test_queue_ranks_by_score_with_its_breakdown(app, world, sessions, clock) -> None:
    with sessions.begin() as session:
        big = session.get(ReferralCase, world.b.case_id)
        big.amount_due = Decimal("41000.00")
    with sessions() as session:
        items = queue_for(session, world.rep_id, clock.now())
    assert [i.case.id for i in items] == [world.b.case_id, world.a.case_id]
    # 42 days late: 25 x 42 / 120 = 8.75; 410.00: 6 x log10(410) = 15.68; tier 6.
    a = items[1].score
    parts = {c.name: c.points for c in a.components}
    assert parts["days_late"] == Decimal("8.75")
    assert parts["amount_due"] == Decimal("15.68")
    assert a.total == Decimal("30.43")
    client = sign_in(app.test_client(), world.rep)
    page = client.get("/queue").get_data(as_text=True)
    assert page.index("bravo Other Customer") < page.index("alpha Other Customer")
    assert "8.75 / 25" in page


def test_viewer_cannot_reach_the_queue_or_people(app, world, sessions) -> None:
    viewer = sign_in(app.test_client(), world.a.viewer)
    assert viewer.get("/queue").status_code == 403
    assert viewer.get("/admin/users").status_code == 403
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ReferralCase)) == 2


def test_grouped_aging_equals_aging_over_every_invoice(world, sessions) -> None:
    from app import insights
    from app.web import figures, preview
    from tests.domain import factories

    with sessions.begin() as session:
        creditor = session.get(Creditor, world.a.creditor_id)
        debtor = session.scalar(
            sa.select(Debtor).where(Debtor.creditor_id == creditor.id)
        )
        # Two foreign invoices due the same day, valued by the ledger in USD.
        for amount, home in (("100.00", "108.50"), ("20.00", "21.70")):
            factories.invoice(
                session,
                debtor,
                currency="EUR",
                amount_due=Decimal(amount),
                total=Decimal(amount),
                home_amount_due=Decimal(home),
                due_date=date(2025, 2, 14),
            )
    with sessions() as session:
        creditor = session.get(Creditor, world.a.creditor_id)
        today = date(2025, 5, 1)
        _rows, every = preview.open_facts(session, creditor)
        grouped = figures.aging_facts(session, creditor)
        by_invoice = insights.aging(every, today, "USD")
        by_group = insights.aging(grouped, today, "USD")
    assert by_group == by_invoice
    # 76 days late: 108.50 + 21.70 in 61-90; the rest as worked out above.
    assert by_group.buckets["61-90"] == Decimal("130.20")
    assert by_group.total == Decimal("2455.70")
    assert len(grouped) < len(every)


def test_search_finds_numbers_by_prefix_in_any_case(world, sessions) -> None:
    from app.models import Invoice
    from app.web import listing

    with sessions() as session:
        number = session.get(Invoice, world.a.invoice_ids[0]).number
        found = listing.page(
            session,
            world.a.creditor_id,
            listing.Query(search=number.lower(), status="all"),
            date(2025, 5, 1),
        )
    assert [r.invoice.number for r in found.rows][:1] == [number]


def test_insights_are_remembered_until_the_data_changes(
    as_admin_a, world, sessions
) -> None:
    from app import audit
    from app.web import memo

    first = as_admin_a.get("/insights").get_data(as_text=True)
    assert "$2,325.50" in first
    with sessions.begin() as session:
        creditor = session.get(Creditor, world.a.creditor_id)
        debtor = session.scalar(
            sa.select(Debtor).where(Debtor.creditor_id == creditor.id)
        )
        from tests.domain import factories

        factories.invoice(session, debtor, amount_due=Decimal("100.00"))
    # Same version (no sync, no audit entry): the held figures are shown.
    assert "$2,325.50" in as_admin_a.get("/insights").get_data(as_text=True)
    with sessions.begin() as session:
        audit.record(
            session,
            who="system:test",
            creditor_id=world.a.creditor_id,
            entity="creditor",
            entity_id=world.a.creditor_id,
            action="sync",
            why="a change the version sees",
        )
    assert "$2,425.50" in as_admin_a.get("/insights").get_data(as_text=True)
    calls = []
    memo.remember("k", lambda: calls.append(1), now=0.0)
    memo.remember("k", lambda: calls.append(1), now=memo.LIFETIME - 1)
    memo.remember("k", lambda: calls.append(1), now=memo.LIFETIME + 1)
    assert calls == [1, 1]


def test_sync_progress_is_shown_and_polled_while_running(
    as_admin_a, world, sessions
) -> None:
    from app.models import LedgerConnection

    idle = as_admin_a.get("/live/sync").get_data(as_text=True)
    assert "every 2s" not in idle and "sync idle" in idle
    with sessions.begin() as session:
        row = session.get(LedgerConnection, world.a.connection_id)
        row.sync_state = "running"
        row.sync_progress = {"full": True, "pages": 3, "records": 2500}
    busy = as_admin_a.get("/live/sync").get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in busy
    assert "3 page(s), 2,500 record(s) so far" in busy
    dashboard = as_admin_a.get("/dashboard").get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in dashboard


def test_preview_reads_the_book_once_while_the_rules_change(
    app, world, monkeypatch
) -> None:
    from app.web import preview

    reads = []
    real = preview.open_facts

    def counted(*args, **kwargs):
        reads.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(preview, "open_facts", counted)
    client = sign_in(app.test_client(), world.a.admin)
    token = csrf_token(client, "/rules")
    form = {"min_amount_due": "0.01", "tier": "first_party", "csrf_token": token}
    wide = client.post(
        "/rules/preview",
        data={**form, "window_start_days": "40", "window_end_days": "150"},
    ).get_data(as_text=True)
    usual = client.post(
        "/rules/preview",
        data={**form, "window_start_days": "30", "window_end_days": "120"},
    ).get_data(as_text=True)
    # 40..150: 45, 42 and 130 days refer. 30..120: 45 and 42 refer, 130 escalates.
    assert "These <strong>3</strong> invoices" in wide
    assert "These <strong>2</strong> invoices" in usual
    assert "these <strong>1</strong> escalated" in usual
    assert reads == [1]
