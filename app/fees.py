"""The program's fee: a rate on money collected on a referred invoice after referral.

Rules of the fee:

- Only a payment dated after the invoice's referral date earns a fee. A payment dated
  on the referral day itself earns nothing: ledgers date payments, not time them, so
  it may have been under way before the referral, and the doubt goes to the creditor.
- Credit notes, write-offs and payments on invoices never referred earn nothing.
- The fee is in the invoice's currency, rounded half-up to its minor unit.
- Minimum and cap are per invoice and per currency: the fee on an invoice is
  ``clamp(rate * collected, minimum, cap)``, never more than the money collected,
  where `collected` is everything collected on it after referral so far. Each payment
  accrues the increase of that fee, so the accruals of an invoice always add up to the
  fee on its total collected, with no rounding drift between payments.
- Money that stops counting (a payment deleted, voided or bounced in the ledger, or
  cut so it pays less of the invoice) gets a reversal: a negative accrual of the
  fee's decrease, dated like the payment it reverses, so the invoice's accruals
  still add up to the fee on what is collected now.
- Accruals are billed once per creditor, currency and month (the month of the payment's
  date, which the ledger gives in the company's time zone), under a stable key
  ``CARE-<creditor>-<YYYYMM>-<CUR>`` that makes the ledger write idempotent. An
  accrual found after its month's bill was made, and a reversal of a billed payment,
  go on the next bill made, on a line of its own (see :func:`plan_bill`). A bill is
  never negative: accruals that net to nothing or less wait for the next bill.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from app.money import quantize
from app.rules import Rules

logger = logging.getLogger(__name__)

_ZERO = Decimal(0)


class CollectionKind(StrEnum):
    PAYMENT = "payment"
    CREDIT_NOTE = "credit_note"
    WRITE_OFF = "write_off"


class FeeBasis(StrEnum):
    """Why an accrual is what it is."""

    AFTER_REFERRAL = "after_referral"
    BEFORE_REFERRAL = "before_referral"
    NOT_REFERRED = "not_referred"
    CREDIT_NOTE = "credit_note"
    WRITE_OFF = "write_off"
    REVERSAL = "reversal"  # money that earned a fee is gone: a negative accrual


BILLED = (FeeBasis.AFTER_REFERRAL, FeeBasis.REVERSAL)


@dataclass(frozen=True, slots=True)
class FeeTerms:
    """A creditor's fee in one currency."""

    rate: Decimal
    minimum: Decimal | None = None
    cap: Decimal | None = None


def fee_terms(rules: Rules, currency: str) -> FeeTerms:
    """The fee terms of `rules` for invoices in `currency`."""
    return FeeTerms(
        rules.fee_rate, rules.fee_minimum.get(currency), rules.fee_cap.get(currency)
    )


@dataclass(frozen=True, slots=True)
class Collection:
    """Money applied to one invoice: a payment, a credit note or a write-off."""

    id: str
    creditor_id: str
    invoice_id: str
    currency: str
    amount: Decimal  # the part applied to this invoice
    received_on: date  # the ledger's date, in the company's time zone
    kind: CollectionKind = CollectionKind.PAYMENT
    referred_on: date | None = None  # the invoice's referral date; None: never


@dataclass(frozen=True, slots=True)
class Accrual:
    """The fee one collection earned (zero with the reason when it earned none)."""

    collection_id: str
    creditor_id: str
    invoice_id: str
    currency: str
    collected: Decimal
    fee: Decimal
    rate: Decimal
    accrued_on: date
    basis: FeeBasis

    @property
    def month(self) -> str:
        return self.accrued_on.strftime("%Y-%m")


def invoice_fee(collected: Decimal, terms: FeeTerms, currency: str) -> Decimal:
    """The fee on `collected` after referral on one invoice, min and cap applied."""
    if collected <= _ZERO:
        return quantize(_ZERO, currency)
    fee = quantize(collected * terms.rate, currency)
    if terms.minimum is not None:
        fee = max(fee, quantize(terms.minimum, currency))
    if terms.cap is not None:
        fee = min(fee, quantize(terms.cap, currency))
    return min(fee, quantize(collected, currency))


def accrue(
    collection: Collection, terms: FeeTerms, collected_before: Decimal = _ZERO
) -> Accrual:
    """The fee `collection` earns, given what was collected on its invoice before.

    `collected_before` is the money already collected on the invoice after referral
    (the total of the earlier accruals' `collected` that earned a fee).
    """
    basis = _basis(collection)
    currency = collection.currency
    fee = quantize(_ZERO, currency)
    if basis is FeeBasis.AFTER_REFERRAL:
        before = invoice_fee(collected_before, terms, currency)
        after = invoice_fee(collected_before + collection.amount, terms, currency)
        fee = after - before
    logger.debug(
        "fee accrued creditor=%s invoice=%s collection=%s fee=%s %s basis=%s",
        collection.creditor_id,
        collection.invoice_id,
        collection.id,
        fee,
        currency,
        basis,
    )
    return Accrual(
        collection.id,
        collection.creditor_id,
        collection.invoice_id,
        currency,
        collection.amount,
        fee,
        terms.rate,
        collection.received_on,
        basis,
    )


def _basis(collection: Collection) -> FeeBasis:
    if collection.amount < _ZERO:
        raise ValueError(
            f"collection={collection.id} has a negative amount {collection.amount};"
            " a reversal is not a collection"
        )
    if collection.kind is CollectionKind.CREDIT_NOTE:
        return FeeBasis.CREDIT_NOTE
    if collection.kind is CollectionKind.WRITE_OFF:
        return FeeBasis.WRITE_OFF
    if collection.referred_on is None:
        return FeeBasis.NOT_REFERRED
    if collection.received_on <= collection.referred_on:
        return FeeBasis.BEFORE_REFERRAL
    return FeeBasis.AFTER_REFERRAL


def reverse(
    collection: Collection, lost: Decimal, terms: FeeTerms, collected_before: Decimal
) -> Accrual:
    """The negative accrual when `lost` of `collection`'s money no longer counts.

    `collection` earned a fee when it arrived; since then the ledger deleted, voided
    or cut it. `collected_before` is what the invoice's accruals count so far, this
    collection's included. The reversal is dated like the collection.
    """
    currency = collection.currency
    if lost <= _ZERO or lost > collected_before:
        raise ValueError(
            f"collection={collection.id}: cannot reverse {lost} {currency}"
            f" of {collected_before} collected"
        )
    after = invoice_fee(collected_before - lost, terms, currency)
    fee = after - invoice_fee(collected_before, terms, currency)
    logger.debug(
        "fee reversed creditor=%s invoice=%s collection=%s lost=%s fee=%s %s",
        collection.creditor_id,
        collection.invoice_id,
        collection.id,
        lost,
        fee,
        currency,
    )
    return Accrual(
        collection.id,
        collection.creditor_id,
        collection.invoice_id,
        currency,
        -lost,
        fee,
        terms.rate,
        collection.received_on,
        FeeBasis.REVERSAL,
    )


def accrue_all(
    collections: Iterable[Collection],
    rules: Rules,
    lost: Mapping[str, Decimal] | None = None,
) -> list[Accrual]:
    """Accrue a creditor's collections in date order, invoice by invoice.

    `lost` maps a collection id to the part of it the ledger has since taken back
    (deleted, voided, bounced or cut); each gets a reversal after all the accruals.
    """
    ordered = sorted(collections, key=lambda c: (c.received_on, c.id))
    collected: dict[str, Decimal] = defaultdict(Decimal)
    accruals = []
    earned: set[str] = set()
    for collection in ordered:
        accrual = accrue(
            collection,
            fee_terms(rules, collection.currency),
            collected[collection.invoice_id],
        )
        if accrual.basis is FeeBasis.AFTER_REFERRAL:
            collected[collection.invoice_id] += collection.amount
            earned.add(collection.id)
        accruals.append(accrual)
    for collection in ordered:
        gone = (lost or {}).get(collection.id, _ZERO)
        if gone <= _ZERO or collection.id not in earned:
            continue  # money that earned nothing loses nothing
        reversal = reverse(
            collection,
            min(gone, collection.amount),
            fee_terms(rules, collection.currency),
            collected[collection.invoice_id],
        )
        collected[collection.invoice_id] += reversal.collected
        accruals.append(reversal)
    return accruals


@dataclass(frozen=True, slots=True)
class BillLine:
    """One month's fees for one creditor in one currency."""

    key: str
    creditor_id: str
    currency: str
    month: str  # YYYY-MM
    fee: Decimal
    collected: Decimal  # the money that earned the fee
    accruals: int


def bill_key(creditor_id: str, month: str, currency: str) -> str:
    """The stable key of a monthly fee bill, e.g. ``CARE-42-202505-USD``.

    NOTE: it is the bill's DocNumber in QuickBooks, which holds 21 characters at most
    (Intuit's Bill reference), so the key stays short: 21 characters up to creditor
    id 99,999.
    """
    key = f"CARE-{creditor_id}-{month.replace('-', '')}-{currency}"
    if len(key) > 21:
        # TODO: creditor ids past 99,999 need a shorter encoding (base 36, say);
        # until then their bills cannot be keyed within QuickBooks' DocNumber.
        raise ValueError(f"fee bill key {key!r} is longer than 21 characters")
    return key


def bill_lines(accruals: Iterable[Accrual]) -> list[BillLine]:
    """Net accruals per creditor, currency and month (by date alone), sorted by key.

    A summary; what a bill actually holds (late accruals, never a negative total)
    is :func:`plan_bill`'s.
    """
    fees: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    collected: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for accrual in accruals:
        if accrual.basis not in BILLED:
            continue
        group = (accrual.creditor_id, accrual.month, accrual.currency)
        fees[group] += accrual.fee
        collected[group] += accrual.collected
        counts[group] += 1
    lines = []
    for (creditor, month, currency), fee in fees.items():
        group = (creditor, month, currency)
        lines.append(
            BillLine(
                bill_key(creditor, month, currency),
                creditor,
                currency,
                month,
                quantize(fee, currency),
                quantize(collected[group], currency),
                counts[group],
            )
        )
    return sorted(lines, key=lambda line: line.key)


@dataclass(frozen=True, slots=True)
class BillPlan:
    """What one month's bill in one currency says: its lines and their total."""

    month: str
    currency: str
    amount: Decimal
    lines: tuple[tuple[str, Decimal], ...]  # (description, amount), adding up


def plan_bill(
    month: str,
    currency: str,
    accruals: Sequence[Accrual],
    labels: Mapping[str, str] | None = None,
) -> BillPlan | None:
    """The bill for `month` from unbilled accruals dated up to its end; None if <= 0.

    The month's own accruals, reversals of its own payments netted in, make one line.
    Each accrual dated in an earlier month gets a line of its own naming the invoice
    (by `labels`, its number) and the payment's date: one found after that month's
    bill was made, a reversal of a billed payment, or one carried forward. When they
    net to zero or less there is no bill: a ledger bill cannot be negative, so the
    accruals wait, unbilled, and net off the next one.
    """
    # TODO: reversal lines are negative; the sandboxes take them (only the total
    # must be positive), real QuickBooks and Xero are unverified. If a ledger
    # refuses, the write fails as a FixError and the bill waits for a person.
    labels = labels or {}
    own: list[Accrual] = []
    earlier: list[Accrual] = []
    for accrual in accruals:
        if accrual.currency != currency or accrual.month > month:
            raise ValueError(f"accrual {accrual.collection_id} is not for {month}")
        if accrual.basis in BILLED:
            (own if accrual.month == month else earlier).append(accrual)
    amount = quantize(sum((a.fee for a in own + earlier), _ZERO), currency)
    if amount <= _ZERO:
        return None

    lines = []
    own_fee = quantize(sum((a.fee for a in own), _ZERO), currency)
    if own_fee != _ZERO:
        lines.append((_month_text(month, currency, own), own_fee))
    earlier.sort(key=lambda a: (a.accrued_on, a.invoice_id, a.collection_id))
    for accrual in earlier:
        fee = quantize(accrual.fee, currency)
        if fee != _ZERO:
            lines.append((_line_text(accrual, labels), fee))
    return BillPlan(month, currency, amount, tuple(lines))


def _month_text(month: str, currency: str, own: list[Accrual]) -> str:
    net: dict[str, Decimal] = defaultdict(Decimal)
    for accrual in own:
        net[accrual.collection_id] += accrual.collected
    payments = sum(1 for amount in net.values() if amount > _ZERO)
    collected = quantize(sum(net.values(), _ZERO), currency)
    count = f"{payments} payment{'s' if payments != 1 else ''}"
    return f"CARE fee on {collected} {currency} collected in {month} ({count})"


def _line_text(accrual: Accrual, labels: Mapping[str, str]) -> str:
    invoice = labels.get(accrual.invoice_id, accrual.invoice_id)
    money = f"{quantize(abs(accrual.collected), accrual.currency)} {accrual.currency}"
    paid = accrual.accrued_on.isoformat()
    if accrual.basis is FeeBasis.REVERSAL:
        return (
            f"Reversal: invoice {invoice}, payment of {paid}: {money} taken back"
            " (deleted, voided, bounced or reduced in the ledger)"
        )
    return (
        f"Invoice {invoice}, payment of {paid}: CARE fee on {money}"
        f" (not on the {accrual.month} bill)"
    )
