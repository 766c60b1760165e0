"""The demo's figures, each checked against the outside world.

CARE's own tables say what it did; the sandbox ledgers, the SMTP server, the Twilio
stand-in and the letters folder say what actually happened. Duplicate effects are
counted only from the outside: messages received twice (same Message-ID), texts sent
twice (same number and body), letters written twice for one key, a note or a bill
present twice in a ledger. Every figure that both sides know is compared, and a
mismatch is reported (and fails `care demo`).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from app.demo.scenario import Demo
from app.money import minor_unit, quantize

BILL_PREFIX = "CARE-"  # app.fees.bill_key
NOTE_TAG = re.compile(r"\[CARE:([^\]]+)\]")
XERO_TAG = re.compile(r"\[(note:[^\]]+)\]")


def figures(demo: Demo) -> tuple[dict[str, Any], list[str]]:
    """The summary (the `--json` line) and the list of cross-check failures."""
    from app.models import (
        CaseInvoice,
        Effect,
        FeeAccrual,
        FeeBill,
        Invoice,
        LedgerConnection,
        LedgerWrite,
        OutreachStep,
        ReferralCase,
    )

    stack = demo.stack
    problems: list[str] = []
    with demo.rt.sessions() as session:
        invoices = session.scalar(sa.select(sa.func.count()).select_from(Invoice))
        referred = session.scalar(sa.select(sa.func.count()).select_from(CaseInvoice))
        escalated_invoices = session.scalar(
            sa.select(sa.func.count())
            .select_from(Invoice)
            .where(Invoice.decision == "escalate")
        )
        escalated_cases = session.scalar(
            sa.select(sa.func.count())
            .select_from(ReferralCase)
            .where(ReferralCase.state == "escalated")
        )
        outreach = dict(
            session.execute(
                sa.select(OutreachStep.channel, sa.func.count())
                .where(OutreachStep.state == "sent")
                .group_by(OutreachStep.channel)
            ).all()
        )
        effects = dict(
            session.execute(
                sa.select(Effect.channel, sa.func.count())
                .where(Effect.state == "sent")
                .group_by(Effect.channel)
            ).all()
        )
        collected: dict[str, Decimal] = defaultdict(Decimal)
        fees: dict[str, Decimal] = defaultdict(Decimal)
        counts: Counter[str] = Counter()
        for currency, amount, fee in session.execute(
            sa.select(
                FeeAccrual.currency, FeeAccrual.collected_amount, FeeAccrual.fee_amount
            )
        ):
            collected[currency] += amount
            fees[currency] += fee
            counts[currency] += 1
        writes: dict[str, Counter[str]] = defaultdict(Counter)
        write_keys: dict[str, list[str]] = defaultdict(list)
        for ledger, kind, key in session.execute(
            sa.select(
                LedgerConnection.ledger, LedgerWrite.kind, LedgerWrite.idempotency_key
            )
            .join(LedgerConnection, LedgerConnection.id == LedgerWrite.connection_id)
            .where(LedgerWrite.state == "done")
        ):
            writes[ledger][kind] += 1
            write_keys[kind].append(key)
        failed_writes = session.execute(
            sa.select(
                LedgerWrite.kind, LedgerWrite.target, LedgerWrite.last_error
            ).where(LedgerWrite.state == "failed")
        ).all()
        unwritten_bills = session.scalar(
            sa.select(sa.func.count())
            .select_from(FeeBill)
            .where(FeeBill.amount > 0, FeeBill.state != "written")
        )
        rates = dict(
            session.execute(
                sa.select(FeeAccrual.currency, sa.func.max(FeeAccrual.rate)).group_by(
                    FeeAccrual.currency
                )
            ).all()
        )

    duplicates: Counter[str] = Counter()
    duplicates["email"] = stack.mail.duplicates()
    texts = Counter((m.to, m.body) for m in stack.twilio.outbound())
    duplicates["sms"] = sum(n - 1 for n in texts.values() if n > 1)
    letters = list((stack.data_dir / "letters").rglob("*.pdf"))
    stems = Counter(re.sub(r"-[0-9a-f]{12}$", "", p.stem) for p in letters)
    duplicates["letter"] = sum(n - 1 for n in stems.values() if n > 1)
    qbo_notes, qbo_bills = _quickbooks_writes(stack)
    xero_notes, xero_bills = _xero_writes(stack)
    duplicates["note"] = sum(n - 1 for n in (qbo_notes + xero_notes).values() if n > 1)
    duplicates["fee_bill"] = sum(
        n - 1 for n in (qbo_bills + xero_bills).values() if n > 1
    )

    _same(
        problems,
        "emails received vs sent",
        len(stack.mail.messages),
        effects.get("email", 0),
    )
    _same(
        problems,
        "texts at Twilio vs sent",
        len(stack.twilio.outbound()),
        effects.get("sms", 0),
    )
    _same(problems, "letters on disk vs sent", len(letters), effects.get("letter", 0))
    _same(
        problems,
        "notes in QuickBooks vs written",
        len(qbo_notes),
        writes["quickbooks"]["note"],
    )
    _same(problems, "notes in Xero vs written", len(xero_notes), writes["xero"]["note"])
    _same(
        problems,
        "fee bills in the ledgers vs written",
        len(qbo_bills) + len(xero_bills),
        writes["quickbooks"]["fee_bill"] + writes["xero"]["fee_bill"],
    )
    for currency, fee in fees.items():
        # Fees round per payment, so the total may differ from rate x total collected
        # by up to one minor unit per accrual.
        rate = rates.get(currency) or Decimal("0.01")
        expected = quantize(collected[currency] * rate, currency)
        if abs(expected - fee) > minor_unit(currency) * counts[currency]:
            problems.append(
                f"fees {currency}: {fee} is not {rate} of {collected[currency]}"
            )

    for kind, target, error in failed_writes:
        problems.append(f"{kind} write for {target} failed: {error}")
    if unwritten_bills:
        problems.append(f"{unwritten_bills} fee bill(s) made but not in the ledger")

    api_calls = {
        "quickbooks": stack.qbo.log.count("/v3/"),
        "xero": stack.xero.log.count("/api.xro/"),
    }
    summary = {
        "invoices_synced": invoices,
        "referred": referred,
        "escalated": escalated_invoices,
        "escalated_cases": escalated_cases,
        "outreach": {
            c: int(outreach.get(c, 0)) for c in ("letter", "email", "sms", "call")
        },
        "collected": {c: str(quantize(v, c)) for c, v in sorted(collected.items())},
        "fees": {c: str(quantize(v, c)) for c, v in sorted(fees.items())},
        "ledger_writes": {
            ledger: {k: int(writes[ledger][k]) for k in ("note", "fee_bill", "payment")}
            for ledger in ("quickbooks", "xero")
        },
        "api_calls": api_calls,
        "duplicate_effects": int(sum(duplicates.values())),
        "duplicates_by_kind": dict(duplicates),
        "payments_by_debtors": len(demo.payments),
        "webhooks_redelivered": demo.redelivered,
        "faults": demo.faults_seen,
        "authorization_code_grants": {
            "quickbooks": stack.qbo.log.count(grant_type="authorization_code"),
            "xero": stack.xero.log.count(grant_type="authorization_code"),
        },
        "letters_dir": str(stack.data_dir / "letters"),
        "cross_check_failures": problems,
    }
    for ledger, grants in summary["authorization_code_grants"].items():
        _same(problems, f"{ledger} authorization_code grants", grants, 1)
    return summary, problems


def _quickbooks_writes(stack: Any) -> tuple[Counter[str], Counter[str]]:
    realm = stack.qbo.realm(stack.realm)
    notes: Counter[str] = Counter()
    for invoice in realm.all("Invoice"):
        notes.update(NOTE_TAG.findall(str(invoice.get("PrivateNote") or "")))
    bills = Counter(
        str(b.get("DocNumber"))
        for b in realm.all("Bill")
        if str(b.get("DocNumber", "")).startswith(BILL_PREFIX)
    )
    return notes, bills


def _xero_writes(stack: Any) -> tuple[Counter[str], Counter[str]]:
    notes: Counter[str] = Counter()
    bills: Counter[str] = Counter()
    for invoice in stack.xero.objects(stack.tenant, "Invoices"):
        if invoice.get("Type") == "ACCPAY":
            reference = str(
                invoice.get("Reference") or invoice.get("InvoiceNumber") or ""
            )
            if reference.startswith(BILL_PREFIX) and invoice.get("Status") != "VOIDED":
                bills[reference] += 1
            continue
        for record in stack.xero.history(stack.tenant, invoice["InvoiceID"]):
            notes.update(XERO_TAG.findall(str(record.get("Details") or "")))
    return notes, bills


def _same(problems: list[str], what: str, outside: int, inside: int) -> None:
    if outside != inside:
        problems.append(f"{what}: {outside} outside, {inside} in CARE")
