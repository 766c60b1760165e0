"""Public cases replayed through the real path; expected values from each case.

Every figure below is worked out by hand from the case (see /work/shared/cases) and
the program's rules, not read back from a run.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.replay.conftest import by_id

Replay = Callable[[str], dict[str, Any]]

pytestmark = pytest.mark.slow


def test_c15_refers_the_balance_and_bills_the_fee_on_the_payment_after(
    replay: Replay,
) -> None:
    result = replay("C15")
    # On 2025-05-01 (Los Angeles): 1200.00 less 750.00 paid is 450.00 due; due
    # 2025-03-17, so 14 + 30 + 1 = 45 days late: referred.
    at_sweep = by_id(result["snapshots"][1]["invoices"])["1501"]
    assert result["snapshots"][1]["step"] == "sweep on 2025-05-01"
    assert at_sweep["amount_due"] == "450.00"
    assert at_sweep["days_late"] == 45
    assert (at_sweep["decision"], at_sweep["reason"]) == ("refer", "in_window")
    [case] = result["cases"]
    assert case["amount_referred"] == "450.00"  # never the 1200.00 total
    assert case["invoices"][0]["amount_at_referral"] == "450.00"
    # Three days on, the debtor pays the 450.00: 2.5% of it is 11.25 (not 30.00).
    assert result["fees"] == {"USD": "11.25"}
    assert result["collected"] == {"USD": "450.00"}
    assert case["state"] == "resolved_paid"
    final = by_id(result["invoices"])["1501"]
    assert (final["amount_due"], final["status"]) == ("0.00", "paid")
    # The first letter and e-mail went out on the referral day, at 09:00 in
    # Portland (16:00 UTC); every later step was cancelled by the payment.
    sent = [s for s in result["outreach"] if s["state"] == "sent"]
    assert [(s["channel"], s["due_at"]) for s in sent] == [
        ("letter", "2025-05-01T16:00:00+00:00"),
        ("email", "2025-05-01T16:00:00+00:00"),
    ]
    assert sent[1]["sent_to"] == ["accounts@ashgrove-vet.example"]
    assert {s["outcome"] for s in result["outreach"] if s["state"] != "sent"} == {
        "paid"
    }
    # Two notes on the invoice: referred, then closed once paid.
    assert [w["kind"] for w in result["ledger_writes"]] == ["note", "note"]
    assert result["jobs"] and result["jobs_failed"] == []
    assert result["api_calls"][0]["step"] == "connect and first sync"
    assert all(c["calls"] > 0 for c in result["api_calls"])


def test_c06_pre_1970_and_zero_xero_dates_are_stored_and_flagged(
    replay: Replay,
) -> None:
    result = replay("C06")
    invoices = {i["number"]: i for i in result["invoices"]}
    assert len(invoices) == 3  # no page dropped
    assert result["company"]["timezone"] == "Pacific/Auckland"
    # 1967-06-20 to 2025-05-01 is 21135 days; 1970-01-01 to it, 20209.
    for number, due, days in (
        ("INV-0031", "1967-06-20", 21135),
        ("INV-0032", "1970-01-01", 20209),
    ):
        assert invoices[number]["due_date"] == due
        assert invoices[number]["days_late"] == days
        assert invoices[number]["decision"] == "skip"
        assert invoices[number]["reason"] == "implausible_due_date"
    # 2025-03-20 to 2025-05-01: 11 + 30 + 1 = 42 days, in the window.
    assert invoices["INV-0033"]["days_late"] == 42
    assert invoices["INV-0033"]["decision"] == "refer"
    assert invoices["INV-0033"]["amount_due"] == "410.00"
    [case] = result["cases"]
    assert [i["id"] for i in case["invoices"]] == [
        "a0000000-0000-4000-8000-000000000033"
    ]


def test_c23_paid_before_the_send_without_a_webhook_sends_nothing(
    replay: Replay,
) -> None:
    result = replay("C23")
    # Referred at 06:00 on 2025-05-02 in Auckland: due 2025-03-25, 38 days late.
    at_sweep = result["snapshots"][1]["invoices"][0]
    assert (at_sweep["days_late"], at_sweep["decision"]) == (38, "refer")
    # The payment reached Xero with no webhook: CARE made no API call for it.
    assert result["api_calls"][2] == {
        "step": "then[0]: data (1 Payments, 1 Invoices) without webhooks",
        "calls": 0,
    }
    first = [s for s in result["outreach"] if s["step"] in (1, 2)]
    assert [(s["channel"], s["state"], s["outcome"]) for s in first] == [
        ("letter", "skipped", "skipped: paid"),
        ("email", "skipped", "skipped: paid"),
    ]
    assert not any(s["sent_to"] for s in result["outreach"])
    [case] = result["cases"]
    assert case["state"] == "resolved_paid"
    # Paid on the referral day itself: the fee rule counts that as before the
    # referral (received_on <= referred_on), so nothing is billed.
    assert result["fees"] == {}


def test_c17_unapplied_credit_holds_the_invoice_back(replay: Replay) -> None:
    result = replay("C17")
    [invoice] = result["invoices"]
    # Due 2025-03-02, 2025-05-01 in Chicago: 29 + 30 + 1 = 60 days late, in the
    # window, but the 500.00 unapplied payment covers the 100.00 due.
    at_sweep = result["snapshots"][1]["invoices"][0]
    assert at_sweep["days_late"] == 60
    assert (at_sweep["decision"], at_sweep["reason"]) == (
        "skip",
        "credit_covers_balance",
    )
    assert invoice["amount_due"] == "100.00"
    assert (invoice["decision"], invoice["reason"]) == ("skip", "credit_covers_balance")
    assert result["cases"] == []
    assert result["outreach"] == []
    assert result["received"] == {"email": [], "sms": []}


def test_c18_foreign_invoice_is_referred_and_billed_in_its_own_currency(
    replay: Replay,
) -> None:
    result = replay("C18")
    at_sweep = by_id(result["snapshots"][1]["invoices"])
    eur, usd = at_sweep["2044"], at_sweep["2045"]
    # Due 2025-03-20, 2025-05-01 in New York: 11 + 30 + 1 = 42 days late.
    assert (eur["days_late"], eur["decision"]) == (42, "refer")
    assert (eur["currency"], eur["amount_due"]) == ("EUR", "2000.00")
    assert (eur["home_currency"], eur["home_amount_due"]) == ("USD", "2170.00")
    # The receivable in USD is 2170.00 + 500.00 = 2670.00, never 2000 + 500.
    home_total = sum(
        Decimal(i["home_amount_due"] or i["amount_due"]) for i in (eur, usd)
    )
    assert home_total == Decimal("2670.00")
    cases = {c["debtor"]: c for c in result["cases"]}
    [link] = cases["88"]["invoices"]
    assert (link["currency"], link["amount_at_referral"]) == ("EUR", "2000.00")
    assert cases["88"]["amount_referred"] == "2170.00"  # the case counts in USD
    # Paid in full on 2025-05-06, after the referral: 2.5% of EUR 2000.00.
    assert result["fees"] == {"EUR": "50.00"}
    assert result["collected"] == {"EUR": "2000.00"}
    assert cases["88"]["state"] == "resolved_paid"
    assert cases["89"]["state"] == "active"
    assert cases["89"]["amount_due"] == "500.00"


def test_c33_payment_applies_to_the_internal_id_not_the_printed_number(
    replay: Replay,
) -> None:
    result = replay("C33")
    invoices = by_id(result["invoices"])
    assert (invoices["1187"]["number"], invoices["1187"]["amount_due"]) == (
        "1043",
        "0.00",
    )
    assert invoices["1187"]["status"] == "paid"
    # The other customer's invoice whose Id is 1043 is untouched.
    assert (invoices["1043"]["number"], invoices["1043"]["amount_due"]) == (
        "0977",
        "75.00",
    )
    assert invoices["1043"]["status"] == "open"
    # 1% (the default rate) of the 640.00 received on 2025-05-03, after referral.
    assert result["fees"] == {"USD": "6.40"}
    cases = {c["debtor"]: c for c in result["cases"]}
    assert cases["64"]["state"] == "resolved_paid"
    assert cases["64"]["amount_collected"] == "640.00"
    assert (cases["212"]["state"], cases["212"]["amount_due"]) == ("active", "75.00")


def test_c27_nine_in_auckland_is_2100_utc_the_day_before(replay: Replay) -> None:
    result = replay("C27")
    # Due 2025-04-01: 30 days late on 2025-05-01 (too early under a 31-day rule),
    # 31 on 2025-05-02 and referred at that day's sweep.
    at_sweep = result["snapshots"][1]["invoices"][0]
    assert (at_sweep["days_late"], at_sweep["decision"], at_sweep["reason"]) == (
        30,
        "wait",
        "too_early",
    )
    first = [s for s in result["outreach"] if s["step"] in (1, 2)]
    assert [(s["channel"], s["due_at"], s["state"]) for s in first] == [
        ("letter", "2025-05-01T21:00:00+00:00", "sent"),
        ("email", "2025-05-01T21:00:00+00:00", "sent"),
    ]
    assert [m["to"] for m in result["received"]["email"]] == [
        "hello@kowhaicrafts.example"
    ]


def test_c29_missing_email_blocks_only_the_email(replay: Replay) -> None:
    result = replay("C29")
    assert {c["debtor"] for c in result["cases"]} == {"301", "302", "303", "304"}
    case_of = {c["id"]: c["debtor"] for c in result["cases"]}
    steps = {
        (case_of[s["case"]], s["channel"]): s
        for s in result["outreach"]
        if s["step"] in (1, 2)
    }
    blocked = steps[("301", "email")]
    assert (blocked["state"], blocked["outcome"]) == ("skipped", "blocked: no e-mail")
    assert blocked["sent_to"] == []
    assert steps[("301", "letter")]["state"] == "sent"  # the post still goes
    # One message to both of Brightwater's addresses, trimmed of the comma.
    received = sorted(m["to"] for m in result["received"]["email"])
    assert received == [
        "accounts@brightwater.example, owner@brightwater.example",
        "ap@cedarlane.example",
        "office@orcapoint.example",
    ]


def test_c30_non_ascii_names_survive_in_letters_and_subjects(replay: Replay) -> None:
    from pypdf import PdfReader

    result = replay("C30")
    names = [
        "Nguyễn Thị Hương – Công ty TNHH Đông Á",
        "Zoë Ørsted-Łukasiewicz",
        "株式会社さくら商事",
        "Māori Arts Collective Ōtautahi",
        "Zoë Ørsted-Łukasiewicz Ltd",  # came from the ledger decomposed (NFD)
    ]
    letters = [
        s["content_path"]
        for s in sorted(result["outreach"], key=lambda s: s["case"])
        if s["channel"] == "letter" and s["state"] == "sent"
    ]
    assert len(letters) == 5
    for name, path in zip(names, letters, strict=True):
        reader = PdfReader(path)
        text = "".join(page.extract_text() for page in reader.pages)
        assert name in text, path  # NFC as written, the NFD one included
        assert "\ufffd" not in text
        assert all(_embedded(font) for font in _fonts(reader)), path
    subjects = [m["subject"] for m in result["received"]["email"]]
    assert len(subjects) == 5
    for name in names:
        assert sum(name in s for s in subjects) >= 1, name


def _fonts(reader: Any) -> list[Any]:
    found = []
    for page in reader.pages:
        fonts = page["/Resources"].get_object().get("/Font") or {}
        found += [f.get_object() for f in fonts.get_object().values()]
    return found


def _embedded(font: Any) -> bool:
    """A font's program is in the file (TrueType, CFF or Type 1)."""
    if font.get("/Subtype") == "/Type0":
        font = font["/DescendantFonts"][0].get_object()
    descriptor = font.get("/FontDescriptor")
    if descriptor is None:
        return False
    keys = set(descriptor.get_object())
    return bool(keys & {"/FontFile", "/FontFile2", "/FontFile3"})


def test_c29_xero_empty_address_blocks_and_padded_one_is_trimmed(
    replay: Replay,
) -> None:
    result = replay("C29-xero")
    names = {c["id"]: c["debtor_name"] for c in result["cases"]}
    assert sorted(names.values()) == [
        "Raglan Roofing",
        "Tuatara Tiling",
        "Tui Landscaping Ltd",
    ]
    emails = {
        names[s["case"]]: s
        for s in result["outreach"]
        if s["channel"] == "email" and s["step"] == 2
    }
    tui = emails["Tui Landscaping Ltd"]
    assert (tui["state"], tui["outcome"], tui["sent_to"]) == (
        "skipped",
        "blocked: no e-mail",
        [],
    )
    assert emails["Tuatara Tiling"]["sent_to"] == ["ap@tuatara.example"]
    assert sorted(m["to"] for m in result["received"]["email"]) == [
        "accounts@raglanroofing.example",
        "ap@tuatara.example",
    ]


def test_c24_sweeps_every_day_but_refers_and_emails_each_once(
    replay: Replay,
) -> None:
    result = replay("C24")
    decisions = [(i["number"], i["decision"]) for i in result["invoices"]]
    # Due 2025-03-20: 42 days late on 2025-05-01, 45 on 2025-05-04.
    assert decisions[:12] == [(f"INV-24{n:02d}", "refer") for n in range(1, 13)]
    assert decisions[12:] == [("INV-2498", "wait"), ("INV-2499", "skip")]
    # The sweep ran on 1, 2, 3 and 4 May; the tick thirteen times.
    assert sum(j.startswith("sweep-") for j in result["jobs"]) == 4
    assert len(result["cases"]) == 12
    emails = result["received"]["email"]
    assert len(emails) == 12
    assert len({m["message_id"] for m in emails}) == 12
    assert len({m["to"] for m in emails}) == 12
    letters = [s for s in result["outreach"] if s["channel"] == "letter"]
    assert sum(s["state"] == "sent" for s in letters) == 12
    assert len({s["content_path"] for s in letters if s["state"] == "sent"}) == 12
