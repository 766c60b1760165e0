"""A whole company's receivables, generated from a seed: `generate()`."""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.money import quantize
from connectors.records import (
    Company,
    Credit,
    Customer,
    Invoice,
    InvoiceStatus,
    Ledger,
    Payment,
)
from connectors.sandbox.generator.catalog import (
    COUNTRIES,
    HARD_CUSTOMERS,
    HOME_COUNTRY,
    SUFFIXES,
    TRADES,
)
from connectors.sandbox.generator.documents import DocumentMaker
from connectors.sandbox.generator.ids import IdMaker
from connectors.sandbox.generator.people import (
    CustomerDraft,
    hard_drafts,
    random_draft,
    reserve_hard_names,
)
from connectors.sandbox.generator.plans import forced_plans, random_plan
from connectors.sandbox.generator.settlement import Journal

logger = logging.getLogger(__name__)

INVOICES_PER_CUSTOMER = 6  # a small business's customers average a few invoices each


@dataclass
class GeneratedBooks:
    """One company's customers and receivables, as ledger-neutral records."""

    company: Company
    customers: list[Customer]
    invoices: list[Invoice]
    payments: list[Payment]  # kind payment/overpayment/prepayment, with applications
    credits: list[Credit]
    disputed: set[str]  # invoice ids a debtor disputes (ledger has no such flag)
    # Customer id -> IANA zone the debtor lives in; the ledgers keep no such field,
    # but calls and texts must respect the debtor's local hours.
    customer_timezones: dict[str, str] = field(default_factory=dict)


def generate(
    *,
    seed: int,
    invoices: int,
    today: date,
    ledger: Ledger,
    home_currency: str = "USD",
    timezone: str | None = None,
) -> GeneratedBooks:
    """Books with `invoices` invoices aged against `today`; same input, same books.

    `today` is the company's local date. Raises ValueError for a negative count, a
    home currency outside catalog.HOME_COUNTRY or an unknown zone, and TypeError
    for a `seed`, `today` or `ledger` of the wrong type.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    home_currency, country, tz = _check(
        invoices, today, ledger, home_currency, timezone
    )
    rng = random.Random(seed)
    ids = IdMaker(ledger, seed)
    company_id = ids.company_id()

    drafts = _customers(rng, ids, invoices, home_currency, country)
    journal = Journal(
        rng=rng, ids=ids, ledger=ledger, today=today, company_tz=ZoneInfo(tz)
    )
    maker = DocumentMaker(
        journal=journal, home_currency=home_currency, customers=drafts
    )
    plans = forced_plans()[:invoices]
    for plan in plans:
        maker.add(plan)
    for _ in range(invoices - len(plans)):
        maker.add(random_plan(rng))

    company = Company(
        ledger=ledger,
        id=company_id,
        name=_company_name(rng, country),
        home_currency=home_currency,
        timezone=tz,
        country=country,
        multi_currency=any(i.currency != home_currency for i in maker.invoices),
    )
    customers = _finish_customers(rng, drafts, maker, ZoneInfo(tz))
    logger.info(
        "generated books ledger=%s company=%s seed=%s invoices=%s customers=%s",
        ledger,
        company_id,
        seed,
        len(maker.invoices),
        len(customers),
    )
    return GeneratedBooks(
        company=company,
        customers=customers,
        invoices=maker.invoices,
        payments=journal.payments,
        credits=journal.credits,
        disputed=maker.disputed,
        customer_timezones={d.ledger_id: d.timezone for d in drafts},
    )


def _check(
    invoices: int,
    today: date,
    ledger: Ledger,
    home_currency: str,
    timezone: str | None,
) -> tuple[str, str, str]:
    if isinstance(invoices, bool) or not isinstance(invoices, int) or invoices < 0:
        raise ValueError(f"invoices must be a whole number >= 0, got {invoices!r}")
    if isinstance(today, datetime) or not isinstance(today, date):
        raise TypeError(f"today must be a date in the company's zone, got {today!r}")
    if not isinstance(ledger, Ledger):
        raise TypeError(f"ledger must be a connectors.records.Ledger, got {ledger!r}")
    home = home_currency.upper()
    if home not in HOME_COUNTRY:
        known = ", ".join(sorted(HOME_COUNTRY))
        raise ValueError(f"home_currency {home_currency!r} is not one of {known}")
    country = HOME_COUNTRY[home]
    tz = timezone or _default_zone(ledger, country)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"timezone {tz!r} is not an IANA zone name") from exc
    return home, country, tz


def _default_zone(ledger: Ledger, country: str) -> str:
    # NOTE: Intuit's US samples carry Pacific offsets (-08:00/-07:00), so a US
    # QuickBooks company defaults to Los Angeles; elsewhere the country's main zone.
    if ledger is Ledger.QUICKBOOKS and country == "US":
        return "America/Los_Angeles"
    return COUNTRIES[country].timezones[0]


def _customers(
    rng: random.Random, ids: IdMaker, invoices: int, home: str, country: str
) -> list[CustomerDraft]:
    count = max(invoices // INVOICES_PER_CUSTOMER, len(HARD_CUSTOMERS) + 8)
    hard_ids = [ids.next("customer") for _ in HARD_CUSTOMERS]
    drafts = hard_drafts(rng, hard_ids, home)
    taken: set[str] = set()
    reserve_hard_names(taken)
    for _ in range(count - len(drafts)):
        drafts.append(random_draft(rng, ids.next("customer"), home, country, taken))
    return drafts


def _company_name(rng: random.Random, country: str) -> str:
    person = rng.choice(COUNTRIES[country].people)
    return f"{person} {rng.choice(TRADES)} {SUFFIXES[country][0]}"


def _finish_customers(
    rng: random.Random,
    drafts: list[CustomerDraft],
    maker: DocumentMaker,
    company_tz: ZoneInfo,
) -> list[Customer]:
    """Balances (open invoices less unapplied money) and creation times."""
    balance: dict[str, Decimal] = defaultdict(Decimal)
    owing: set[str] = set()
    first: dict[str, date] = {}
    last: dict[str, datetime] = {}

    def seen(customer_id: str, on: date | None, modified: datetime | None) -> None:
        if on is not None and (customer_id not in first or on < first[customer_id]):
            first[customer_id] = on
        if modified is not None and (
            customer_id not in last or modified > last[customer_id]
        ):
            last[customer_id] = modified

    for inv in maker.invoices:
        if inv.status is InvoiceStatus.OPEN:
            balance[inv.customer_id] += inv.amount_due
            owing.add(inv.customer_id)
        seen(inv.customer_id, inv.issue_date, inv.last_modified)
    for pay in maker.journal.payments:
        balance[pay.customer_id] -= pay.unapplied
        seen(pay.customer_id, pay.date, pay.last_modified)
    for cred in maker.journal.credits:
        balance[cred.customer_id] -= cred.remaining
        seen(cred.customer_id, cred.date, cred.last_modified)

    customers = []
    hard = len(HARD_CUSTOMERS)
    for n, d in enumerate(drafts):
        # Some settled customers are made inactive (Xero: archived), as books collect.
        active = n < hard or d.ledger_id in owing or balance[d.ledger_id] != 0
        active = active or rng.random() >= 0.1
        opened = first.get(d.ledger_id, maker.journal.today - timedelta(days=365))
        opened -= timedelta(days=rng.randint(0, 60))
        # Set up before opening hours, so before any record written that day.
        created = datetime.combine(opened, time(7, 30), tzinfo=company_tz)
        created = created.astimezone(UTC)
        customers.append(
            Customer(
                ledger_id=d.ledger_id,
                name=d.name,
                contact_name=d.contact_name,
                emails=d.emails,
                phones=d.phones,
                address=d.address,
                tags=d.tags,
                currency=d.currency,
                balance=quantize(balance[d.ledger_id], d.currency),
                active=active,
                created=created,
                last_modified=max(created, last.get(d.ledger_id, created)),
            )
        )
    return customers
