"""What the web layer and the CLI call to put work on the queues."""

from __future__ import annotations

from jobs.outreach import enqueue_case
from jobs.sweep import enqueue_sweep
from jobs.sync import enqueue_sync
from jobs.webhooks import enqueue_webhook
from jobs.writes import enqueue_writes

__all__ = [
    "enqueue_case",
    "enqueue_sweep",
    "enqueue_sync",
    "enqueue_webhook",
    "enqueue_writes",
]
