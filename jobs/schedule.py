"""Periodic triggers, declared once with stable ids.

RQ's cron reads the server's wall clock and zone, so these only *trigger*: the tick
looks at the product's clock and dispatches what is due by it (outreach steps, the
daily sweep at each creditor's local hour, the month-end fee bills).
"""

from __future__ import annotations

from dataclasses import dataclass

from jobs.queues import DEFAULT, SYNC


@dataclass(frozen=True)
class Periodic:
    id: str
    func: str  # dotted path, imported by the scheduler
    queue: str
    interval: int  # seconds


PERIODIC = (
    Periodic(id="tick", func="jobs.tick.tick", queue=DEFAULT, interval=60),
    Periodic(id="sync-all", func="jobs.sync.sync_all", queue=SYNC, interval=900),
)
