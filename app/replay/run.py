"""Running a scenario through the demo's stack, and what it shows at the end.

The order is the real one: the sandbox ledger holds the company's books before CARE
knows it; a browser connects it through the web app's OAuth redirects; the workers
run the first full sync; the creditor's rules are saved; at 06:00 in the company's
zone the tick starts the day's sweep. Each `then` step runs days (the clock moves in
six-hour steps and the tick, webhooks and workers run at each, as in `care demo`,
and the periodic sync once a day) or changes the books (by webhook and sync, as the
ledger would show it).
"""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
import sqlalchemy as sa
from rq import Queue
from rq.registry import FailedJobRegistry, FinishedJobRegistry

from app.demo.stack import Stack
from app.money import quantize
from app.replay.scenario import ID_KEYS, Scenario, Step
from jobs.queues import QUEUES

logger = logging.getLogger(__name__)

# TODO: a replay spends most of its 20-40 s starting two worker processes and
# polling RQ between six-hour ticks; a scenario of many days (or many invoices) runs
# minutes. Skipping ticks with nothing due would make long replays cheap.
START_AT = dtime(5, 0)  # local: the company's books are connected before the sweep
SWEEP_AT = dtime(6, 0)  # local: jobs.tick starts each creditor's sweep after this
TICKS_PER_DAY = 4
IDLE_TIMEOUT = 120.0  # seconds of wall time for the workers to drain one step
SETTLE = 0.1  # seconds the workers must stay idle before a step counts as done


class ReplayError(RuntimeError):
    """The replay could not go on: a connect or sync failed (the message says which)."""


@dataclass
class Replay:
    """One scenario's run; `run()` returns the result `care replay --json` prints."""

    scenario: Scenario
    data_dir: Path
    progress: Callable[[str], None] = lambda _text: None
    workers: int = 2
    api_calls: list[dict[str, Any]] = field(default_factory=list)
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    sync_errors: list[dict[str, str]] = field(default_factory=list)
    jobs_finished: set[str] = field(default_factory=set)
    jobs_failed: set[str] = field(default_factory=set)

    def run(self) -> dict[str, Any]:
        """Start the stack, play every step, gather the figures, stop the stack."""
        began = time.monotonic()
        scenario = self.scenario
        zone = ZoneInfo(scenario.timezone)
        self.stack = Stack(
            data_dir=self.data_dir,
            start_day=scenario.today,
            seed=0,
            workers=self.workers,
            ledgers=(scenario.ledger,),
            populate=self._populate,
            start_at=datetime.combine(scenario.today, START_AT, zone).astimezone(UTC),
        )
        _refuse_shared_state()
        self.progress(f"starting the {scenario.ledger} sandbox, web app and workers")
        self.stack.start()
        try:
            from jobs.runtime import runtime

            self.rt = runtime()
            self._calls_before = 0
            self._connect()
            self._wait("connect and first sync")
            self._check_sync()
            self._store_rules()
            self._measure("connect and first sync")
            self._morning(zone)
            self._measure(f"sweep on {scenario.today}")
            for index, step in enumerate(scenario.then):
                self.progress(f"then[{index}]: {step.label}")
                if step.days:
                    for _ in range(step.days):
                        self._day()
                else:
                    self._change(step)
                self._measure(f"then[{index}]: {step.label}")
            result = self._result()
        finally:
            self.stack.stop()
        result["seconds"] = round(time.monotonic() - began, 1)
        return result

    # -- set-up ------------------------------------------------------------------

    def _populate(self, stack: Stack) -> None:
        """Load the scenario's company and books into the one sandbox ledger."""
        scenario = self.scenario
        if scenario.ledger == "quickbooks":
            data = dict(scenario.data)
            prefs = (data.pop("Preferences", None) or [{}])[0]
            prefs = {
                **prefs,
                "CurrencyPrefs": {
                    "MultiCurrencyEnabled": _several_currencies(scenario),
                    **(prefs.get("CurrencyPrefs") or {}),
                    "HomeCurrency": {"value": scenario.home_currency},
                },
            }
            info = {"CompanyName": "Replay Company", **scenario.company}
            self.company_id = stack.qbo.add_company(
                info, prefs, timezone=scenario.timezone
            )
            stack.qbo.consent_realm_id = self.company_id
            # The books predate CARE's subscription: no webhooks for them.
            stack.qbo.load(self.company_id, data, notify=False)
        else:
            org = {
                "Name": "Replay Organisation",
                "BaseCurrency": scenario.home_currency,
                "Timezone": "UTC",
                **scenario.company,
            }
            self.company_id = stack.xero.add_organisation(org)
            stack.xero.load(self.company_id, scenario.data, notify=False)
        logger.info(
            "replay books loaded ledger=%s company=%s",
            scenario.ledger,
            self.company_id,
        )

    def _connect(self) -> None:
        """A browser follows the web app's OAuth redirects, as a creditor would."""
        from app.models import LedgerConnection

        ledger = self.scenario.ledger
        browser = requests.Session()
        answer = browser.get(f"{self.stack.base_url}/connect/{ledger}", timeout=60)
        if answer.status_code != 200 or "/connect/" in answer.url:
            raise ReplayError(f"connecting {ledger} ended at {answer.url}")
        with self.rt.sessions() as session:
            row = session.scalars(
                sa.select(LedgerConnection).where(LedgerConnection.ledger == ledger)
            ).one()
            self.creditor_id, self.connection_id = row.creditor_id, row.id
        self.progress(f"connected through the web app: creditor {self.creditor_id}")

    def _check_sync(self) -> None:
        from app.models import LedgerConnection

        with self.rt.sessions() as session:
            row = session.get(LedgerConnection, self.connection_id)
            assert row is not None
            state, error = row.sync_state, row.sync_error
        if state != "idle" or error:
            raise ReplayError(f"the first sync ended {state}: {error}")

    def _store_rules(self) -> None:
        """Save the scenario's rules on the creditor, as the rules page would."""
        from app.models import Creditor
        from app.rules import creditor_rules

        rules = dict(self.scenario.rules)
        fee_rate = rules.pop("fee_rate", None)
        cadences = rules.pop("cadences", None)
        with self.rt.sessions.begin() as session:
            creditor = session.get(Creditor, self.creditor_id)
            assert creditor is not None
            creditor.rules = rules
            if cadences is not None:
                creditor.cadence = cadences
            if fee_rate is not None:
                # The fee rate has its own column, which wins over the rules JSON.
                creditor.fee_rate = Decimal(str(fee_rate))
            creditor_rules(creditor.rules, creditor.cadence, creditor.fee_rate)
            self.zone = creditor.timezone
        if self.zone != self.scenario.timezone:
            raise ReplayError(
                f"CARE took the company's zone as {self.zone}, "
                f"the scenario says {self.scenario.timezone}"
            )

    # -- time --------------------------------------------------------------------

    def _morning(self, zone: ZoneInfo) -> None:
        """Move to 06:00 on `today` in the company's zone and run that tick."""
        at = datetime.combine(self.scenario.today, SWEEP_AT, zone)
        self.stack.clock.set(at.astimezone(UTC))
        self._tick()

    def _day(self) -> None:
        for n in range(TICKS_PER_DAY):
            self.stack.clock.advance(timedelta(hours=24 // TICKS_PER_DAY))
            self._tick(periodic_sync=n == 0)

    def _tick(self, periodic_sync: bool = False) -> None:
        from jobs.sync import sync_all
        from jobs.tick import tick

        tick()
        self._webhooks()
        self._wait("tick")
        self.stack.catch_up([self.connection_id], lambda: self._wait("catch-up"))
        if periodic_sync:
            # The scheduler's periodic sync (every 15 minutes in production), once
            # a simulated day at midday, after the morning's sends: a change whose
            # webhook never came is first met by the send-time read (C23), as it
            # can be for real. Webhooks carry every other change at once.
            sync_all()
            self._webhooks()
            self._wait("periodic sync")

    def _change(self, step: Step) -> None:
        """Store the step's objects in the ledger, then let CARE see the change."""
        data = self._touched(step.data)
        if self.scenario.ledger == "quickbooks":
            self.stack.qbo.load(self.company_id, data, notify=step.webhooks)
        else:
            self.stack.xero.load(self.company_id, data, notify=step.webhooks)
        self._webhooks()
        self._wait("webhooks and syncs")
        self.stack.catch_up([self.connection_id], lambda: self._wait("catch-up"))

    def _touched(
        self, data: dict[str, list[dict[str, Any]]]
    ) -> dict[str, list[dict[str, Any]]]:
        """The step's objects stamped as changed now, as the ledger stamps an edit.

        A scenario copied from saved API answers carries their old update times;
        kept, an incremental sync (QBO's CDC, Xero's If-Modified-Since) would rightly
        skip the change, which is not what the case is about.
        """
        touched: dict[str, list[dict[str, Any]]] = {}
        if self.scenario.ledger == "quickbooks":
            stamp = self.stack.qbo.realm(self.company_id).stamp()
            for name, items in data.items():
                touched[name] = [
                    {
                        **o,
                        "MetaData": {
                            **(o.get("MetaData") or {}),
                            "LastUpdatedTime": stamp,
                        },
                    }
                    for o in items
                ]
        else:
            for name, items in data.items():
                # The sandbox stamps an object without UpdatedDateUTC with its now.
                touched[name] = [
                    {
                        k: v
                        for k, v in self._whole(name, o).items()
                        if k != "UpdatedDateUTC"
                    }
                    for o in items
                ]
        return touched

    def _whole(self, collection: str, obj: dict[str, Any]) -> dict[str, Any]:
        """A Xero deletion stub over the stored object: Xero keeps a deleted one whole.

        `{"InvoiceID": .., "Status": "DELETED"}` alone would replace the invoice with
        an object of no Type, which no ACCREC query finds; Xero lists it DELETED.
        """
        if obj.get("Status") not in ("DELETED", "VOIDED"):
            return obj
        key = ID_KEYS["xero"][collection]
        wanted = str(obj[key]).lower()
        for stored in self.stack.xero.objects(self.company_id, collection):
            if str(stored.get(key, "")).lower() == wanted:
                return {**stored, **obj}
        return obj

    def _webhooks(self) -> None:
        if self.scenario.ledger == "quickbooks":
            self.stack.qbo.deliver_pending()
        else:
            self.stack.xero.deliver_webhooks()

    def _wait(self, what: str) -> None:
        """Wait until the workers are idle, and stay idle for a moment."""
        deadline = time.monotonic() + IDLE_TIMEOUT
        while True:
            try:
                self.stack.idle(timeout=max(deadline - time.monotonic(), 0.1))
            except TimeoutError as exc:
                raise ReplayError(f"{what}: {exc}") from exc
            # A job a worker has just popped from its queue is in no registry for a
            # few milliseconds, until the worker marks it started: idle twice.
            time.sleep(SETTLE)
            if not self.stack.busy():
                break
        self._collect_jobs()

    # -- figures -----------------------------------------------------------------

    def _collect_jobs(self) -> None:
        """Read RQ's registries now: finished jobs expire from them after a while."""
        for name in QUEUES:
            queue = Queue(name, connection=self.stack.redis)
            self.jobs_finished.update(FinishedJobRegistry(queue=queue).get_job_ids())
            self.jobs_failed.update(FailedJobRegistry(queue=queue).get_job_ids())

    def _measure(self, label: str) -> None:
        """API calls CARE made to the ledger during one step (the sandbox's log)."""
        log = self.stack.qbo.log if self.scenario.ledger == "quickbooks" else None
        if log is None:
            log = self.stack.xero.log
            total = log.count("/api.xro/")
        else:
            total = log.count("/v3/")
        self.api_calls.append({"step": label, "calls": total - self._calls_before})
        self._calls_before = total
        # Each invoice as CARE saw it when the step ended: the final state alone
        # hides what the referral looked like before a payment came in.
        from app.models import LedgerConnection

        with self.rt.sessions() as session:
            self.snapshots.append({"step": label, "invoices": _invoices(session)})
            row = session.get(LedgerConnection, self.connection_id)
            if row is not None and row.sync_state == "failed":
                # Kept, not raised: a payload that breaks the sync may be the case.
                self.sync_errors.append({"step": label, "error": row.sync_error or ""})

    def _result(self) -> dict[str, Any]:
        from app.models import (
            CaseInvoice,
            Debtor,
            Effect,
            FeeAccrual,
            Invoice,
            LedgerWrite,
            OutreachStep,
            ReferralCase,
        )

        scenario = self.scenario
        with self.rt.sessions() as session:
            invoices = _invoices(session)
            referred: dict[int, list[dict[str, Any]]] = defaultdict(list)
            for link, ledger_id in session.execute(
                sa.select(CaseInvoice, Invoice.ledger_id)
                .join(Invoice, Invoice.id == CaseInvoice.invoice_id)
                .order_by(CaseInvoice.id)
            ):
                referred[link.case_id].append(
                    {
                        "id": ledger_id,
                        "currency": link.currency,
                        "amount_at_referral": str(
                            quantize(link.amount_at_referral, link.currency)
                        ),
                        "referred_at": _iso(link.referred_at),
                        "removed_reason": link.removed_reason,
                    }
                )
            cases = [
                {
                    "id": case.id,
                    "debtor": debtor_id,
                    "debtor_name": debtor_name,
                    "state": case.state,
                    "currency": case.currency,
                    "amount_referred": str(
                        quantize(case.amount_referred, case.currency)
                    ),
                    "amount_due": str(quantize(case.amount_due, case.currency)),
                    "amount_collected": str(
                        quantize(case.amount_collected, case.currency)
                    ),
                    "invoices": referred[case.id],
                }
                for case, debtor_id, debtor_name in session.execute(
                    sa.select(ReferralCase, Debtor.ledger_id, Debtor.name)
                    .join(Debtor, Debtor.id == ReferralCase.debtor_id)
                    .order_by(ReferralCase.id)
                )
            ]
            sent: dict[int, list[str]] = defaultdict(list)
            for step_id, target in session.execute(
                sa.select(Effect.step_id, Effect.target)
                .where(Effect.state == "sent")
                .order_by(Effect.id)
            ):
                if step_id is not None:
                    sent[step_id].append(target)
            outreach = [
                {
                    "case": step.case_id,
                    "step": step.step_number,
                    "channel": step.channel,
                    "state": step.state,
                    "due_at": _iso(step.due_at),
                    "done_at": _iso(step.done_at),
                    "outcome": step.outcome,
                    "sent_to": sent[step.id],
                    "subject": step.subject,
                    "content_path": step.content_path,
                }
                for step in session.scalars(
                    sa.select(OutreachStep).order_by(
                        OutreachStep.case_id, OutreachStep.step_number
                    )
                )
            ]
            writes = [
                {
                    "kind": write.kind,
                    "target": write.target,
                    "amount": (write.payload or {}).get("amount"),
                    "currency": (write.payload or {}).get("currency"),
                    "state": write.state,
                }
                for write in session.scalars(
                    sa.select(LedgerWrite).order_by(LedgerWrite.id)
                )
            ]
            fees: dict[str, Decimal] = defaultdict(Decimal)
            collected: dict[str, Decimal] = defaultdict(Decimal)
            for currency, amount, fee in session.execute(
                sa.select(
                    FeeAccrual.currency,
                    FeeAccrual.collected_amount,
                    FeeAccrual.fee_amount,
                )
            ):
                fees[currency] += fee
                collected[currency] += amount
        self._collect_jobs()
        return {
            "scenario": scenario.name,
            "ledger": scenario.ledger,
            "today": scenario.today.isoformat(),
            "company": {
                "id": self.company_id,
                "timezone": scenario.timezone,
                "home_currency": scenario.home_currency,
            },
            "invoices": invoices,
            "cases": cases,
            "outreach": outreach,
            "ledger_writes": writes,
            "fees": {c: str(quantize(v, c)) for c, v in sorted(fees.items())},
            "collected": {c: str(quantize(v, c)) for c, v in sorted(collected.items())},
            "jobs": sorted(self.jobs_finished | self.jobs_failed),
            "jobs_failed": sorted(self.jobs_failed),
            "sync_errors": self.sync_errors,
            "api_calls": self.api_calls,
            "snapshots": self.snapshots,
            "received": self._received(),
        }

    def _received(self) -> dict[str, list[dict[str, str]]]:
        """What the SMTP server and the Twilio stand-in got: the outside's view."""
        return {
            "email": [
                {
                    "to": str(m["To"]),
                    "subject": str(m["Subject"]),  # RFC 2047 words decoded
                    "message_id": str(m["Message-ID"]),
                }
                for m in self.stack.mail.messages
            ],
            "sms": [{"to": m.to, "body": m.body} for m in self.stack.twilio.outbound()],
        }


def _invoices(session: Any) -> list[dict[str, Any]]:
    """Every mirrored invoice with CARE's latest decision on it."""
    from app.models import Invoice

    return [
        {
            "id": inv.ledger_id,
            "number": inv.number,
            "currency": inv.currency,
            "amount_due": str(quantize(inv.amount_due, inv.currency)),
            "home_currency": inv.home_currency,
            "home_amount_due": (
                None
                if inv.home_amount_due is None or inv.home_currency is None
                else str(quantize(inv.home_amount_due, inv.home_currency))
            ),
            "days_late": inv.days_late,
            "decision": inv.decision,
            "reason": inv.reason,
            "status": inv.status,
            "due_date": inv.due_date.isoformat() if inv.due_date else None,
            "evaluated_on": (
                inv.evaluated_on.isoformat() if inv.evaluated_on else None
            ),
        }
        for inv in session.scalars(sa.select(Invoice).order_by(Invoice.id))
    ]


def _refuse_shared_state() -> None:
    """Refuse a REDIS_URL or DATABASE_URL that already holds data.

    The stack empties its Redis and writes a creditor into its database; pointed
    by a leftover environment at a real deployment's servers, it would wipe its
    queues and add a stranger to its books.
    """
    from app.redis_client import connect

    redis_url = os.environ.get("REDIS_URL", "")
    if redis_url and connect(redis_url).dbsize():
        raise ReplayError(
            "REDIS_URL's database is not empty; unset REDIS_URL (an embedded Redis "
            "is used) or point it at an empty database"
        )
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url:
        engine = sa.create_engine(database_url)
        try:
            if sa.inspect(engine).has_table("creditors"):
                with engine.connect() as conn:
                    rows = conn.execute(sa.text("SELECT count(*) FROM creditors"))
                    if rows.scalar():
                        raise ReplayError(
                            "DATABASE_URL's database holds creditors; unset "
                            "DATABASE_URL (SQLite in --data is used) or give an "
                            "empty database"
                        )
        finally:
            engine.dispose()


def _several_currencies(scenario: Scenario) -> bool:
    found = {
        (obj.get("CurrencyRef") or {}).get("value") or scenario.home_currency
        for objects in [scenario.data, *(s.data for s in scenario.then)]
        for name, items in objects.items()
        if name in ("Invoice", "Payment", "CreditMemo", "Customer")
        for obj in items
    }
    return len(found) > 1


def _iso(instant: datetime | None) -> str | None:
    return instant.astimezone(UTC).isoformat() if instant else None
