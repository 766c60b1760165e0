"""The demo's story: people, two creditors connecting, then 45 days of the program.

Each simulated day the clock moves in four six-hour steps; at each the tick runs (it
starts what is due by the clock: sweeps at 06:00 local, outreach in the debtors'
business hours, the month's fee bills), webhooks are delivered and then delivered
again, and the demo waits until the workers are idle. Debtors pay some referred
invoices in the sandbox ledgers, as they would in the real ones. On day 1 the sweeps
are run again, and on the first day with an e-mail to send a worker is SIGKILLed in
the middle of sending it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import requests
import sqlalchemy as sa

from app import clock as clock_mod
from app.demo.stack import QBO_VERIFIER, XERO_WEBHOOK_KEY, Stack
from app.money import quantize
from jobs import faults

logger = logging.getLogger(__name__)

TICKS_PER_DAY = 4
PAY_CHANCE = 0.05  # of each open referred invoice, each day


@dataclass
class Person:
    email: str
    password: str
    role: str


@dataclass
class Demo:
    stack: Stack
    days: int = 45
    progress: Callable[[str], None] = print
    people: list[Person] = field(default_factory=list)
    creditors: dict[str, int] = field(default_factory=dict)  # ledger -> creditor id
    connections: dict[str, int] = field(default_factory=dict)
    faults_seen: dict[str, Any] = field(default_factory=dict)
    payments: list[dict[str, Any]] = field(default_factory=list)
    redelivered: int = 0
    waited: int = 0  # simulated minutes spent waiting for the ledgers' call limits
    # Deliveries already sent twice; the sandboxes keep them, so their ids hold.
    _redelivered: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._random = random.Random(self.stack.seed)

    def run(self) -> None:
        from jobs.runtime import runtime

        self.rt = runtime()
        self._people()
        for ledger in ("quickbooks", "xero"):
            self._connect(ledger)
        self.progress("full syncs running")
        self.stack.idle(timeout=600)
        self._consent()
        for day in range(self.days + 1):
            self._day(day)
        self.progress("final sync")
        from jobs.sync import enqueue_sync

        for connection_id in self.connections.values():
            enqueue_sync(connection_id)
        self.stack.idle()

    # -- set-up ------------------------------------------------------------------

    def _people(self) -> None:
        from app.models import User

        with self.rt.sessions.begin() as session:
            for email, name, role in (
                ("admin@care.example", "Program Admin", "program_admin"),
                ("ana.reyes@care.example", "Ana Reyes", "representative"),
                ("tama.ngata@care.example", "Tama Ngata", "representative"),
            ):
                password = secrets.token_urlsafe(9)
                user = User(email=email, name=name, role=role)
                user.set_password(password)
                session.add(user)
                self.people.append(Person(email, password, role))

    def _connect(self, ledger: str) -> None:
        """Install from the marketplace: a browser follows the real OAuth redirects."""
        from app.models import LedgerConnection

        browser = requests.Session()
        answer = browser.get(f"{self.stack.base_url}/connect/{ledger}", timeout=60)
        if answer.status_code != 200 or "/connect/" in answer.url:
            raise RuntimeError(f"connecting {ledger} ended at {answer.url}")
        with self.rt.sessions() as session:
            row = session.scalars(
                sa.select(LedgerConnection).where(LedgerConnection.ledger == ledger)
            ).one()
            self.creditors[ledger], self.connections[ledger] = row.creditor_id, row.id
        self.progress(
            f"{ledger} connected through the web app: creditor {row.creditor_id}"
        )

    def _consent(self) -> None:
        """Creditors hold SMS consent for some debtors (recorded in their CRM)."""
        from app.models import Debtor

        with self.rt.sessions.begin() as session:
            debtors = session.scalars(sa.select(Debtor).order_by(Debtor.id)).all()
            for debtor in debtors:
                debtor.sms_consent = bool(debtor.phones) and debtor.id % 2 == 0

    # -- a day -------------------------------------------------------------------

    def _day(self, day: int) -> None:
        started, waited = time.monotonic(), self.waited
        for step in range(TICKS_PER_DAY):
            if day or step:
                self.stack.clock.advance(timedelta(hours=24 // TICKS_PER_DAY))
            self._tick(day)
        if day == 1:
            self._sweep_again()
        self._pay(day)
        local = clock_mod.now().date()
        limits = self.waited - waited
        self.progress(
            f"day {day:2d} ({local}) done in {time.monotonic() - started:.1f} s"
            + (f", {limits} min waiting for call limits" if limits else "")
        )

    def _tick(self, day: int) -> None:
        from jobs.tick import tick

        kill = "send" not in self.faults_seen and self._emails_due()
        if kill:
            faults.arm(self.rt.redis, "send")
        tick()
        if kill:
            self._kill_mid_send()
        self._webhooks()
        self.stack.idle()
        self.waited += self.stack.catch_up(
            list(self.connections.values()), self.stack.idle
        )
        self._webhooks()
        self.stack.idle()

    def _emails_due(self) -> bool:
        from app.models import OutreachStep

        with self.rt.sessions() as session:
            return bool(
                session.scalar(
                    sa.select(sa.func.count())
                    .select_from(OutreachStep)
                    .where(
                        OutreachStep.channel == "email",
                        OutreachStep.state == "scheduled",
                        OutreachStep.due_at <= clock_mod.now(),
                    )
                )
            )

    def _kill_mid_send(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pid = faults.held_pid(self.rt.redis, "send")
            if pid:
                self.stack.kill(pid)
                faults.disarm(self.rt.redis, "send")
                self.faults_seen["send"] = {"killed_pid": pid}
                self.progress(f"SIGKILLed worker process {pid} in the middle of a send")
                return
            time.sleep(0.05)
        faults.disarm(self.rt.redis, "send")  # no e-mail was in the debtors' hours

    def _sweep_again(self) -> None:
        from jobs.sweep import enqueue_sweep

        for creditor_id in self.creditors.values():
            enqueue_sweep(creditor_id)
        self.stack.idle()
        for creditor_id in self.creditors.values():
            enqueue_sweep(creditor_id)
        self.stack.idle()
        self.faults_seen["sweep_rerun"] = True

    def _webhooks(self) -> None:
        """Deliver what the sandboxes queued, then redeliver all of it once more."""
        qbo, xero = self.stack.qbo, self.stack.xero
        qbo.deliver_pending()
        xero.deliver_webhooks()
        sent = [
            ("quickbooks", d.body)
            for d in qbo.notifier.deliveries
            if d.delivered and id(d) not in self._redelivered
        ] + [
            ("xero", d.body)
            for d in xero.webhooks.deliveries
            if d.done and id(d) not in self._redelivered
        ]
        for ledger, body in sent:
            self._redeliver(ledger, body)
        for d in [*qbo.notifier.deliveries, *xero.webhooks.deliveries]:
            self._redelivered.add(id(d))

    def _redeliver(self, ledger: str, body: bytes) -> None:
        key = QBO_VERIFIER if ledger == "quickbooks" else XERO_WEBHOOK_KEY
        header = "intuit-signature" if ledger == "quickbooks" else "x-xero-signature"
        signature = base64.b64encode(
            hmac.new(key.encode(), body, hashlib.sha256).digest()
        ).decode()
        answer = requests.post(
            f"{self.stack.base_url}/webhooks/{ledger}",
            data=body,
            headers={header: signature, "Content-Type": "application/json"},
            timeout=30,
        )
        if answer.status_code != 200:
            raise RuntimeError(f"redelivered {ledger} webhook got {answer.status_code}")
        self.redelivered += 1

    # -- debtors paying ----------------------------------------------------------

    def _pay(self, day: int) -> None:
        from app.models import CaseInvoice, Creditor, Invoice, LedgerConnection

        with self.rt.sessions() as session:
            rows = session.execute(
                sa.select(Invoice, LedgerConnection.ledger, Creditor.timezone)
                .join(CaseInvoice, CaseInvoice.invoice_id == Invoice.id)
                .join(LedgerConnection, LedgerConnection.id == Invoice.connection_id)
                .join(Creditor, Creditor.id == Invoice.creditor_id)
                .where(Invoice.status == "open", Invoice.amount_due > 0)
                .order_by(Invoice.id)
            ).all()
        for invoice, ledger, tz in rows:
            if self._random.random() >= PAY_CHANCE:
                continue
            # What the ledger says is owed now: CARE's mirror may be a sync behind.
            owed = self._owed_in_ledger(ledger, invoice.ledger_id)
            if owed <= 0:
                continue
            amount = owed
            if self._random.random() < 0.25:  # some pay part of what they owe
                amount = quantize(owed / 2, invoice.currency)
            on = clock_mod.now().astimezone(ZoneInfo(tz)).date()
            if ledger == "quickbooks":
                self.stack.qbo.pay_invoice(
                    self.stack.realm, invoice.ledger_id, amount, on=on
                )
            else:
                self.stack.xero.pay_invoice(
                    self.stack.tenant, invoice.ledger_id, amount, on
                )
            self.payments.append(
                {
                    "ledger": ledger,
                    "invoice": invoice.ledger_id,
                    "amount": str(amount),
                    "currency": invoice.currency,
                    "on": on.isoformat(),
                    "day": day,
                }
            )

    def _owed_in_ledger(self, ledger: str, invoice_id: str) -> Decimal:
        if ledger == "quickbooks":
            found = self.stack.qbo.get(self.stack.realm, "Invoice", invoice_id) or {}
            return Decimal(str(found.get("Balance") or 0))
        for found in self.stack.xero.objects(self.stack.tenant, "Invoices"):
            if found.get("InvoiceID") == invoice_id:
                if found.get("Status") != "AUTHORISED":
                    return Decimal(0)
                return Decimal(str(found.get("AmountDue") or 0))
        return Decimal(0)
