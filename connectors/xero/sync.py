"""Pulling one Xero organisation page by page (Accounting API 2.0).

A full pull takes open invoices, and the paid invoices, payments and credits of the
last 24 months (by the organisation's local date), with the largest page Xero allows
(1000) and its Statuses filter, so it costs ceil(N / 1000) calls per stage. After it,
each sync asks only for what changed since the last one started (If-Modified-Since,
less a small overlap), so its cost follows the number of changes. Every page carries
a cursor; handing back the cursor of page k resumes at page k+1.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from connectors.records import Company, PaymentKind, SyncPage
from connectors.xero import mapping
from connectors.xero.client import XeroClient
from connectors.xero.dates import if_modified_since, where_date
from connectors.xero.errors import XeroFixError

logger = logging.getLogger(__name__)

PAGE_SIZE = 1000  # Xero's largest page for these endpoints
WINDOW_MONTHS = 24
# Re-read what changed just before the last sync started: the ledger's clock and
# ours differ a little, and a write may land while a page is being read.
OVERLAP = timedelta(minutes=2)
CURSOR_VERSION = 1
# Re-reads of a stage whose list shrank while it was paged (see `_shrank`).
MAX_REREADS = 2


@dataclass(frozen=True)
class Stream:
    """One Xero list endpoint and the records it feeds."""

    name: str
    method: str  # AccountingApi method
    items: str  # the list's key in the response body
    id_key: str
    target: str  # the SyncPage list the records go to
    build: Callable[[dict[str, Any], str, str], Any]  # (obj, home, web_base)


def _invoice(obj: dict[str, Any], home: str, web: str) -> Any:
    return mapping.invoice(obj, home_currency=home, web_base=web)


STREAMS = {
    s.name: s
    for s in (
        Stream(
            "contacts",
            "get_contacts",
            "Contacts",
            "ContactID",
            "customers",
            lambda o, h, w: mapping.customer(o),
        ),
        Stream(
            "invoices", "get_invoices", "Invoices", "InvoiceID", "invoices", _invoice
        ),
        Stream(
            "credit_notes",
            "get_credit_notes",
            "CreditNotes",
            "CreditNoteID",
            "credits",
            lambda o, h, w: mapping.credit(o, home_currency=h),
        ),
        Stream(
            "payments",
            "get_payments",
            "Payments",
            "PaymentID",
            "payments",
            lambda o, h, w: mapping.payment(o, home_currency=h),
        ),
        Stream(
            "overpayments",
            "get_overpayments",
            "Overpayments",
            "OverpaymentID",
            "payments",
            lambda o, h, w: mapping.prepaid(
                o, kind=PaymentKind.OVERPAYMENT, home_currency=h
            ),
        ),
        Stream(
            "prepayments",
            "get_prepayments",
            "Prepayments",
            "PrepaymentID",
            "payments",
            lambda o, h, w: mapping.prepaid(
                o, kind=PaymentKind.PREPAYMENT, home_currency=h
            ),
        ),
    )
}

_CREDIT_TYPES = {
    "credit_notes": 'Type=="ACCRECCREDIT"',
    "overpayments": 'Type=="RECEIVE-OVERPAYMENT"',
    "prepayments": 'Type=="RECEIVE-PREPAYMENT"',
}


def full_stages(window_from: date) -> list[tuple[str, dict[str, Any]]]:
    """The (stream, query) steps of a full pull."""
    since = where_date(window_from)
    paid = f'Type=="ACCREC" AND Date>={since}'
    stages: list[tuple[str, dict[str, Any]]] = [
        ("contacts", {"include_archived": True}),
        ("invoices", {"statuses": ["AUTHORISED"], "where": 'Type=="ACCREC"'}),
        ("invoices", {"statuses": ["PAID"], "where": paid}),
        ("payments", {"where": f'PaymentType=="ACCRECPAYMENT" AND Date>={since}'}),
    ]
    for name, kind in _CREDIT_TYPES.items():
        # Unspent credit of any age still lowers what a customer owes.
        where = f'{kind} AND (Status=="AUTHORISED" OR Date>={since})'
        stages.append((name, {"where": where}))
    return stages


def incremental_stages() -> list[tuple[str, dict[str, Any]]]:
    """The (stream, query) steps of an incremental pull: every status, changes only."""
    return [
        ("contacts", {"include_archived": True}),
        ("invoices", {"where": 'Type=="ACCREC"'}),
        ("payments", {"where": 'PaymentType=="ACCRECPAYMENT"'}),
        *((name, {"where": kind}) for name, kind in _CREDIT_TYPES.items()),
    ]


@dataclass
class Cursor:
    """Where a sync stands; `to_json` is what SyncPage.cursor carries."""

    mode: str  # "full" or "incremental"
    stage: int = 0
    page: int = 1
    since: datetime | None = None  # If-Modified-Since of this incremental run
    started: datetime | None = None  # None: the run has not begun
    window_from: date | None = None
    home_currency: str | None = None
    count: int | None = None  # the stage's itemCount when its page 1 was read
    shrank: bool = False  # the stage's list lost items while it was being paged
    rereads: int = 0

    @classmethod
    def from_json(cls, raw: dict[str, object] | None) -> Cursor:
        """Read a saved cursor; None (or {"mode": "full"}) starts a full pull."""
        if not raw:
            return cls(mode="full")
        if raw.get("v", CURSOR_VERSION) != CURSOR_VERSION or raw.get("mode") not in (
            "full",
            "incremental",
        ):
            raise XeroFixError(f"not a Xero sync cursor: {raw!r}")
        try:
            return cls(
                mode=str(raw["mode"]),
                stage=int(raw.get("stage", 0)),  # type: ignore[call-overload]
                page=int(raw.get("page", 1)),  # type: ignore[call-overload]
                since=_instant(raw.get("since")),
                started=_instant(raw.get("started")),
                window_from=_day(raw.get("window_from")),
                home_currency=raw.get("home_currency") or None,  # type: ignore[arg-type]
                count=_int(raw.get("count")),
                shrank=bool(raw.get("shrank", False)),
                rereads=int(raw.get("rereads", 0)),  # type: ignore[call-overload]
            )
        except (TypeError, ValueError) as exc:
            raise XeroFixError(f"unreadable Xero sync cursor: {exc}") from exc

    def to_json(self) -> dict[str, object]:
        return {
            "v": CURSOR_VERSION,
            "mode": self.mode,
            "stage": self.stage,
            "page": self.page,
            "since": self.since.isoformat() if self.since else None,
            "started": self.started.isoformat() if self.started else None,
            "window_from": self.window_from.isoformat() if self.window_from else None,
            "home_currency": self.home_currency,
            "count": self.count,
            "shrank": self.shrank,
            "rereads": self.rereads,
        }


def window_start(today: date, months: int = WINDOW_MONTHS) -> date:
    """`today` moved back `months` calendar months (29 Feb -> 28 Feb)."""
    month_index = today.year * 12 + today.month - 1 - months
    year, month = divmod(month_index, 12)
    for day in (today.day, 30, 29, 28):
        try:
            return date(year, month + 1, day)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def pages(
    client: XeroClient,
    raw_cursor: dict[str, object] | None,
    *,
    company: Callable[[], Company],
    local_today: Callable[[Company], date],
) -> Iterator[SyncPage]:
    """Pages of records from where `raw_cursor` stands; the last has done=True."""
    cursor = _begin(client, Cursor.from_json(raw_cursor), company, local_today)
    stages = _stages(cursor)
    home = cursor.home_currency or ""
    while cursor.stage < len(stages):
        name, query = stages[cursor.stage]
        stream = STREAMS[name]
        body = _fetch(client, stream, query, cursor)
        items = (body or {}).get(stream.items) or []
        page = _records(stream, items, home, client.app.web_base)
        page.full = cursor.mode == "full"
        more = _has_more(body, items, cursor.page)
        logger.info(
            "xero page tenant=%s mode=%s stream=%s page=%s items=%s",
            client.tenant_id,
            cursor.mode,
            name,
            cursor.page,
            len(items),
        )
        _shrank(cursor, body)
        if more:
            cursor.page += 1
        elif cursor.shrank and cursor.rereads < MAX_REREADS:
            logger.warning(
                "xero list shrank while paged, reading again tenant=%s stream=%s",
                client.tenant_id,
                name,
            )
            cursor.page, cursor.shrank, cursor.rereads = 1, False, cursor.rereads + 1
        else:
            cursor.stage, cursor.page = cursor.stage + 1, 1
            cursor.count, cursor.shrank, cursor.rereads = None, False, 0
        if cursor.stage >= len(stages):
            page.done = True
            page.cursor = _next_run(cursor).to_json()
        else:
            page.cursor = cursor.to_json()
        yield page


def _begin(
    client: XeroClient,
    cursor: Cursor,
    company: Callable[[], Company],
    local_today: Callable[[Company], date],
) -> Cursor:
    if cursor.started is not None:
        return cursor  # resuming a run after page k
    cursor.started = client.now()
    if cursor.mode == "full" or cursor.home_currency is None:
        org = company()
        cursor.home_currency = org.home_currency
        cursor.window_from = window_start(local_today(org))
    logger.info(
        "xero sync start tenant=%s mode=%s since=%s",
        client.tenant_id,
        cursor.mode,
        cursor.since,
    )
    return cursor


def _stages(cursor: Cursor) -> list[tuple[str, dict[str, Any]]]:
    if cursor.mode == "full":
        if cursor.window_from is None:
            raise XeroFixError("a full Xero sync cursor without its window")
        return full_stages(cursor.window_from)
    return incremental_stages()


def _fetch(
    client: XeroClient, stream: Stream, query: dict[str, Any], cursor: Cursor
) -> Any:
    # NOTE: ordered by id, which never changes: Xero's default order may follow
    # UpdatedDateUTC, and a record edited mid-pull would then jump to the end and
    # push an unchanged one across a page boundary, unread.
    order = f"{stream.id_key} ASC"
    params = dict(query, page=cursor.page, page_size=PAGE_SIZE, order=order)
    if cursor.mode == "incremental" and cursor.since is not None:
        params["if_modified_since"] = if_modified_since(cursor.since)
    method = getattr(client.accounting, stream.method)
    return client.call(f"{stream.name} page={cursor.page}", method, **params)


def _records(
    stream: Stream, items: list[dict[str, Any]], home: str, web_base: str
) -> SyncPage:
    page = SyncPage()
    out = getattr(page, stream.target)
    for obj in items:
        try:
            record = stream.build(obj, home, web_base)
        except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
            # One bad record (a date typed wrong, an enum Xero added) must not cost
            # the page: keep the rest and report it (case C06).
            ident = obj.get(stream.id_key) if isinstance(obj, dict) else None
            page.skipped.append(f"{stream.name} {ident}: {exc}")
            logger.warning(
                "xero record skipped stream=%s id=%s: %s", stream.name, ident, exc
            )
            continue
        if record is not None:
            out.append(record)
    return page


def _shrank(cursor: Cursor, body: Any) -> None:
    """Note when the stage's list got shorter since its page 1 was read.

    Paging a filtered list is by position: when an open invoice is paid mid-pull it
    leaves the AUTHORISED list, every later invoice moves back one place, and the
    first of the next page would never be read (nor re-read by the next
    incremental sync, since it did not change). A list that grew only repeats
    items (harmless upserts); one that shrank is read again from page 1.
    """
    pagination = (body or {}).get("pagination") if isinstance(body, dict) else None
    total = _int((pagination or {}).get("itemCount"))
    if total is None:
        # TODO: an answer without itemCount (older API versions) hides a shrink, and
        # an invoice paid mid-pull can then hide another until the next full pull.
        return
    if cursor.page == 1 or cursor.count is None:
        cursor.count = total
    elif total < cursor.count:
        cursor.shrank = True


def _has_more(body: Any, items: list[Any], page: int) -> bool:
    pagination = (body or {}).get("pagination") if isinstance(body, dict) else None
    if isinstance(pagination, dict) and pagination.get("pageCount") is not None:
        # Xero says how many pages there are: no empty trailing call.
        return page < int(pagination["pageCount"])
    return len(items) >= PAGE_SIZE


def _next_run(cursor: Cursor) -> Cursor:
    assert cursor.started is not None
    return Cursor(
        mode="incremental",
        since=cursor.started - OVERLAP,
        window_from=cursor.window_from,
        home_currency=cursor.home_currency,
    )


def _instant(raw: object) -> datetime | None:
    if raw in (None, ""):
        return None
    value = datetime.fromisoformat(str(raw))
    if value.tzinfo is None:
        raise ValueError(f"cursor instant without a zone: {raw!r}")
    return value


def _int(raw: object) -> int | None:
    return None if raw in (None, "") else int(raw)  # type: ignore[call-overload]


def _day(raw: object) -> date | None:
    return None if raw in (None, "") else date.fromisoformat(str(raw))
