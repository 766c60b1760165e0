"""The invoice list: filters, search, sorting and paging done by the database.

Aging buckets become due-date ranges on the company's local date, so the
(creditor_id, status, due_date) index answers them; a page is LIMIT/OFFSET over an
ordered, indexed query, never all rows loaded. No Flask here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.insights import BUCKETS
from app.models import CaseInvoice, Debtor, Invoice, ReferralCase
from app.models.cases import OPEN_CASE_STATES

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
SORTS = {
    "due": Invoice.due_date,
    "amount": Invoice.amount_due,
    "number": Invoice.number,
    "customer": Debtor.name,
    "late": Invoice.due_date,  # days late is today - due date: the reverse order
}
STATUSES = ("open", "paid", "voided", "all")
DECISIONS = ("refer", "wait", "escalate", "skip")


class ListingError(ValueError):
    """A filter value the list does not know."""


@dataclass(frozen=True)
class Query:
    bucket: str = ""  # one of insights.BUCKETS, or "" for every bucket
    status: str = "open"
    decision: str = ""
    search: str = ""
    sort: str = "late"
    descending: bool = True
    page: int = 1
    size: int = PAGE_SIZE

    def __post_init__(self) -> None:
        if self.bucket and self.bucket not in BUCKETS:
            raise ListingError(f"unknown aging bucket {self.bucket!r}")
        if self.status not in STATUSES:
            raise ListingError(f"unknown status {self.status!r}")
        if self.decision and self.decision not in DECISIONS:
            raise ListingError(f"unknown decision {self.decision!r}")
        if self.sort not in SORTS:
            raise ListingError(f"unknown sort {self.sort!r}")
        if self.page < 1 or not 1 <= self.size <= MAX_PAGE_SIZE:
            raise ListingError("page must be 1 or more, size 1 to 200")


@dataclass(frozen=True)
class Row:
    invoice: Invoice
    debtor_name: str
    days_late: int | None
    case_id: int | None


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    total: int
    query: Query

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.size))


def due_range(bucket: str, today: date) -> tuple[date | None, date | None]:
    """The due dates (inclusive) whose days late on `today` fall in `bucket`."""
    if bucket == "current":
        return today, None  # not late: due today or later
    if bucket == "120+":
        return None, today - timedelta(days=121)
    low, high = (int(part) for part in bucket.split("-"))
    return today - timedelta(days=high), today - timedelta(days=low)


def _conditions(creditor_id: int, query: Query, today: date) -> list[Any]:
    """The WHERE clauses of `query`, all on invoices (the index's own columns)."""
    where: list[Any] = [Invoice.creditor_id == creditor_id]
    if query.status != "all":
        where.append(Invoice.status == query.status)
    else:
        where.append(Invoice.status != "deleted")
    if query.bucket:
        start, end = due_range(query.bucket, today)
        if query.bucket == "current":
            where.append(sa.or_(Invoice.due_date >= start, Invoice.due_date.is_(None)))
        else:
            if start is not None:
                where.append(Invoice.due_date >= start)
            if end is not None:
                where.append(Invoice.due_date <= end)
    if query.decision:
        where.append(Invoice.decision == query.decision)
    text = query.search.strip()
    if text:
        # Numbers match from the start, as a range the (creditor, number) index
        # answers; customer names match anywhere, among the creditor's debtors only.
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        named = sa.select(Debtor.id).where(
            Debtor.creditor_id == creditor_id,
            Debtor.name.ilike(f"%{escaped}%", escape="\\"),
        )
        # A union of two indexed lookups: an OR across the two columns would make
        # the planner scan every invoice of the creditor instead.
        prefixes = sorted({text, text.upper()})  # "inv-1" finds "INV-1..." too
        matched = sa.union(
            *(
                sa.select(Invoice.id).where(
                    Invoice.creditor_id == creditor_id,
                    Invoice.number >= prefix,
                    Invoice.number < prefix + "\uffff",
                )
                for prefix in prefixes
            ),
            sa.select(Invoice.id).where(Invoice.debtor_id.in_(named)),
        )
        where.append(Invoice.id.in_(matched))
    return where


def page(session: Session, creditor_id: int, query: Query, today: date) -> Page:
    """One page of the creditor's invoices under `query`, with the total count."""
    where = _conditions(creditor_id, query, today)
    total = int(session.scalar(sa.select(sa.func.count(Invoice.id)).where(*where)) or 0)
    column = SORTS[query.sort]
    # Days late grows as the due date shrinks, so "most late first" is due ascending.
    descending = query.descending != (query.sort == "late")
    order = column.desc() if descending else column.asc()
    # Page through ids first (the index alone can answer that), then load the rows.
    ids = sa.select(Invoice.id).where(*where)
    if query.sort == "customer":
        ids = ids.join(Debtor, Debtor.id == Invoice.debtor_id)
    ids = (
        ids.order_by(order, Invoice.id)
        .limit(query.size)
        .offset((query.page - 1) * query.size)
    )
    wanted = list(session.scalars(ids))
    loaded = {
        inv.id: (inv, name)
        for inv, name in session.execute(
            sa.select(Invoice, Debtor.name)
            .join(Debtor, Debtor.id == Invoice.debtor_id)
            .where(Invoice.id.in_(wanted))
        )
    }
    found = [loaded[i] for i in wanted if i in loaded]
    cases = open_cases_of(session, creditor_id, wanted)
    rows = [
        Row(
            inv,
            name,
            None if inv.due_date is None else (today - inv.due_date).days,
            cases.get(inv.id),
        )
        for inv, name in found
    ]
    return Page(rows, total, query)


def bucket_counts(session: Session, creditor_id: int, today: date) -> dict[str, int]:
    """How many open invoices fall in each aging bucket (one grouped query)."""
    whens = []
    for bucket in BUCKETS:
        start, end = due_range(bucket, today)
        condition: Any = sa.true()
        if start is not None:
            condition = sa.and_(condition, Invoice.due_date >= start)
        if end is not None:
            condition = sa.and_(condition, Invoice.due_date <= end)
        whens.append((condition, bucket))
    # Grouped through a subquery: PostgreSQL will not match a GROUP BY expression
    # whose bound dates are separate parameters from the SELECT's.
    labelled = (
        sa.select(sa.case(*whens, else_="current").label("bucket"))
        .where(Invoice.creditor_id == creditor_id, Invoice.status == "open")
        .subquery()
    )
    rows = session.execute(
        sa.select(labelled.c.bucket, sa.func.count()).group_by(labelled.c.bucket)
    ).all()
    counts = dict.fromkeys(BUCKETS, 0)
    for bucket, count in rows:
        counts[bucket] = int(count)
    return counts


def open_cases_of(
    session: Session, creditor_id: int, invoice_ids: list[int]
) -> dict[int, int]:
    """The open (or escalated) case each of these invoices is in."""
    if not invoice_ids:
        return {}
    rows = session.execute(
        sa.select(CaseInvoice.invoice_id, CaseInvoice.case_id)
        .join(ReferralCase, ReferralCase.id == CaseInvoice.case_id)
        .where(
            CaseInvoice.creditor_id == creditor_id,
            CaseInvoice.invoice_id.in_(invoice_ids),
            CaseInvoice.removed_at.is_(None),
            ReferralCase.state.in_((*OPEN_CASE_STATES, "escalated")),
        )
    ).all()
    return {invoice_id: case_id for invoice_id, case_id in rows}
