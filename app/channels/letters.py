"""Letters to debtors as PDF: the first letter and the final one, on letterhead.

The wording lives in Jinja2 text templates (`templates/letter_*.txt`); this module
works out the figures (days late in the creditor's zone, amounts in its locale), lays
the page out and writes the file atomically under a name derived from the send's key.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import jinja2

from app.channels.layout import LetterDocument, check_renderable
from app.channels.parties import Debtor, Letterhead, Representative
from app.channels.text import format_day, format_money, locale_of, one_line, slug
from app.money import Money

logger = logging.getLogger(__name__)

LetterKind = Literal["first", "final"]
Tier = Literal["frontline", "first_party"]
KINDS: tuple[str, ...] = ("first", "final")
TIERS: tuple[str, ...] = ("frontline", "first_party")
TEMPLATES = Path(__file__).parent / "templates"
TABLE_HEADER = ("Invoice", "Due date", "Days late", "Amount due")

# Plain text into a PDF, never HTML: escaping would print "&amp;" in
# "Harlow & Finch Dental". StrictUndefined makes a missing variable an error.
_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # noqa: S701
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class InvoiceLine:
    """One overdue invoice as the letter shows it."""

    number: str  # the printed number the debtor knows, never the ledger's internal id
    due_date: date
    amount_due: Money

    def __post_init__(self) -> None:
        if not self.number.strip():
            raise ValueError("invoice number is empty")
        if self.amount_due.amount <= 0:
            raise ValueError(f"invoice {self.number}: amount due must be positive")


@dataclass(frozen=True)
class PaymentInstructions:
    """How the debtor can pay: bank details, a reference, a payment link."""

    lines: tuple[str, ...]
    pay_url: str = ""

    def __post_init__(self) -> None:
        if not any(line.strip() for line in self.lines) and not self.pay_url:
            raise ValueError("payment instructions are empty")


@dataclass(frozen=True)
class LetterInput:
    """Everything a letter shows; `as_of` is the creditor's local date of the letter."""

    debtor: Debtor
    creditor: Letterhead
    representative: Representative
    invoices: tuple[InvoiceLine, ...]
    payment: PaymentInstructions
    as_of: date  # e.g. app.clock.local_today(company.timezone)
    locale: str = "en_NZ"  # the creditor's locale, for amounts and dates
    tier: Tier = "frontline"
    program: Letterhead | None = None  # the program's letterhead, first-party tier
    reference: str = ""  # the case reference the debtor can quote
    respond_by: date | None = None  # final letter; as_of + 14 days when None
    extra: dict[str, str] = field(default_factory=dict)  # more template variables

    def __post_init__(self) -> None:
        if not self.invoices:
            raise ValueError(f"letter for {self.debtor.name!r} has no invoices")
        if self.tier not in TIERS:
            raise ValueError(f"tier must be one of {TIERS}, got {self.tier!r}")
        if self.tier == "first_party" and self.program is None:
            raise ValueError("a first-party letter needs the program's letterhead")
        locale_of(self.locale)
        for line in self.invoices:
            if line.due_date >= self.as_of:
                raise ValueError(
                    f"invoice {line.number} is not past due on {self.as_of}"
                    f" (due {line.due_date})"
                )

    @property
    def letterhead(self) -> Letterhead:
        """The creditor's letterhead in the frontline tier, the program's otherwise."""
        if self.tier == "first_party" and self.program is not None:
            return self.program
        return self.creditor


def days_late(line: InvoiceLine, as_of: date) -> int:
    """Whole calendar days from the due date to `as_of`, both creditor-local dates."""
    return (as_of - line.due_date).days


def totals(invoices: tuple[InvoiceLine, ...]) -> list[Money]:
    """The amount due per currency, in the order the currencies first appear."""
    sums: dict[str, Money] = {}
    for line in invoices:
        currency = line.amount_due.currency
        sums[currency] = sums.get(currency, Money.zero(currency)) + line.amount_due
    return list(sums.values())


def render_letter(letter: LetterInput, kind: LetterKind = "first") -> bytes:
    """The letter as PDF bytes; the same input always gives the same bytes."""
    if kind not in KINDS:
        raise ValueError(f"letter kind must be one of {KINDS}, got {kind!r}")
    blocks = list(_blocks(render_template(f"letter_{kind}.txt", letter)))
    rows = _rows(letter)
    sums = [
        ("Total", "", "", format_money(m, letter.locale))
        for m in totals(letter.invoices)
    ]
    head = letter.letterhead
    footer = _footer(letter)
    cjk = check_renderable(
        [text for _, lines in blocks for text in lines]
        + [cell for row in [*rows, *sums] for cell in row]
        + [head.name, *head.address_lines, head.phone, head.email, head.website, footer]
        + [*letter.debtor.address_lines, letter.debtor.name, letter.reference]
    )

    pdf = LetterDocument(
        title=f"Letter to {letter.debtor.name}",
        author=head.name,
        dated=letter.as_of,
        footer=footer,
        cjk=cjk,
    )
    pdf.letterhead(head)
    pdf.dated_address(
        format_day(letter.as_of, letter.locale),
        _address_block(letter.debtor),
        letter.reference,
    )
    for kind_of_block, lines in blocks:
        if kind_of_block == "heading":
            pdf.heading(lines[0])
        elif kind_of_block == "subheading":
            pdf.heading(lines[0], size=10.5)
        elif kind_of_block == "invoices":
            pdf.invoice_table(TABLE_HEADER, rows, sums)
        else:
            pdf.paragraph(lines)
    return bytes(pdf.output())


def letter_filename(key: str, kind: LetterKind = "first") -> str:
    """A deterministic, file-system-safe name for the letter sent under `key`."""
    if not key.strip():
        raise ValueError("a letter needs an idempotency key")
    digest = hashlib.sha256(f"{kind}\0{key}".encode()).hexdigest()[:12]
    return f"{slug(key, 60) or 'letter'}-{kind}-{digest}.pdf"


def write_letter(
    letter: LetterInput, folder: Path, key: str, kind: LetterKind = "first"
) -> Path:
    """Render the letter and write it under `folder` atomically; returns its path."""
    data = render_letter(letter, kind)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / letter_filename(key, kind)
    _write_atomically(target, data)
    logger.info(
        "letter written key=%s kind=%s path=%s bytes=%d", key, kind, target, len(data)
    )
    return target


def _write_atomically(target: Path, data: bytes) -> None:
    # A temp file in the same folder, synced, then renamed over the target: a crash
    # leaves either the old file or the new one, never half a PDF.
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".pdf")
    try:
        with os.fdopen(fd, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def load_templates() -> int:
    """Compile every template now (a worker does, once, before forking its jobs)."""
    names = _templates.list_templates()
    for name in names:
        _templates.get_template(name)
    return len(names)


def render_template(name: str, letter: LetterInput) -> str:
    """The text template `name` (under templates/) rendered for `letter`."""
    return _templates.get_template(name).render(template_context(letter))


def template_context(letter: LetterInput) -> dict[str, object]:
    """The variables every letter and e-mail template can use."""
    sums = [format_money(m, letter.locale) for m in totals(letter.invoices)]
    respond_by = letter.respond_by or letter.as_of + timedelta(days=14)
    payment_lines = [one_line(line) for line in letter.payment.lines if line.strip()]
    if letter.payment.pay_url:
        payment_lines.append(f"Pay online: {letter.payment.pay_url}")
    return {
        **letter.extra,
        "debtor": letter.debtor,
        "creditor": letter.creditor,
        "program": letter.program,
        "representative": letter.representative,
        "tier": letter.tier,
        "salutation": letter.debtor.contact_name or letter.debtor.name,
        "invoice_count": len(letter.invoices),
        "total_phrase": " and ".join(sums),
        "respond_by": format_day(respond_by, letter.locale),
        "payment_lines": payment_lines,
        "pay_url": letter.payment.pay_url,
        "numbers": ", ".join(one_line(line.number) for line in letter.invoices),
        "rows": [
            {"number": r[0], "due": r[1], "days_late": r[2], "amount": r[3]}
            for r in _rows(letter)
        ],
    }


def _blocks(text: str) -> Iterator[tuple[str, list[str]]]:
    """The rendered template as (kind, lines): heading, subheading, invoices, text."""
    paragraph: list[str] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        marker = _marker(line)
        if marker or not line:
            if paragraph:
                yield "text", paragraph
                paragraph = []
            if marker:
                yield marker
            continue
        paragraph.append(line)
    if paragraph:
        yield "text", paragraph


def _marker(line: str) -> tuple[str, list[str]] | None:
    if line.startswith("## "):
        return "subheading", [line[3:].strip()]
    if line.startswith("# "):
        return "heading", [line[2:].strip()]
    if line.strip() == "[[invoices]]":
        return "invoices", []
    return None


def _rows(letter: LetterInput) -> list[tuple[str, str, str, str]]:
    return [
        (
            one_line(line.number),
            format_day(line.due_date, letter.locale),
            str(days_late(line, letter.as_of)),
            format_money(line.amount_due, letter.locale),
        )
        for line in letter.invoices
    ]


def _address_block(debtor: Debtor) -> list[str]:
    lines = [debtor.name, *debtor.address_lines]
    if debtor.contact_name and debtor.contact_name != debtor.name:
        lines.insert(0, f"Attn: {debtor.contact_name}")
    return lines


def _footer(letter: LetterInput) -> str:
    if letter.tier == "first_party" and letter.program is not None:
        return f"{letter.program.name} acts for {letter.creditor.name} in this matter."
    return ""
