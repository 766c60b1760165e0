"""What program admins see of the queues: failed jobs, with why, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import redis as redis_lib
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry

from jobs.queues import QUEUES


@dataclass(frozen=True)
class FailedJob:
    id: str
    queue: str
    call: str  # e.g. "jobs.sync.sync_connection(3)"
    failed_at: datetime | None
    error: str  # the last line of the traceback


def failed_jobs(redis: redis_lib.Redis, limit: int = 100) -> list[FailedJob]:
    """The failed jobs of every CARE queue, newest first."""
    found = []
    for name in QUEUES:
        registry = FailedJobRegistry(queue=Queue(name, connection=redis))
        for job in Job.fetch_many(registry.get_job_ids(), connection=redis):
            if job is None:
                continue
            result = job.latest_result()
            trace = (result.exc_string if result is not None else "") or ""
            found.append(
                FailedJob(
                    id=job.id,
                    queue=name,
                    call=job.get_call_string() or job.func_name or job.id,
                    failed_at=job.ended_at,
                    error=(trace.strip().splitlines() or [""])[-1][:300],
                )
            )
    found.sort(
        key=lambda j: j.failed_at or datetime.min.replace(tzinfo=UTC), reverse=True
    )
    return found[:limit]
