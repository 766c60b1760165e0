"""Queues by concern, and enqueueing a job at most once per logical id.

RQ does not de-duplicate custom job ids: enqueueing the same id twice leaves two queue
entries pointing at one job hash whose arguments were overwritten (rq/rq#1701, shared
case C25). So CARE keeps its own pointer from a logical id (`sync:12`) to the RQ job
that currently stands for it, and checks and enqueues under one short Redis lock:

- no job, or the last one finished or failed: enqueue a new one;
- one waiting (queued, scheduled, deferred): do nothing, it will see the latest state;
- one running: ask for exactly one follow-up run, started when the running one ends.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import redis as redis_lib
from rq import Queue, Retry
from rq.job import Job, JobStatus

logger = logging.getLogger(__name__)

SYNC, OUTREACH, LEDGER, DEFAULT = "sync", "outreach", "ledger", "default"
QUEUES = (SYNC, OUTREACH, LEDGER, DEFAULT)

WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
POINTER_TTL = 24 * 3600  # a pointer left by a killed worker expires within a day

F = TypeVar("F", bound=Callable[..., Any])


def pointer_key(logical_id: str) -> str:
    return f"care:unique:{logical_id}"


def rerun_key(logical_id: str) -> str:
    return f"care:unique:{logical_id}:rerun"


def enqueue_unique(
    redis: redis_lib.Redis,
    queue_name: str,
    func: Callable[..., Any],
    logical_id: str,
    *args: Any,
    retry: Retry | None = None,
    job_timeout: int | None = None,
) -> str | None:
    """Enqueue `func(*args)` unless a job for `logical_id` already waits or runs.

    Returns the RQ id of the job that will do the work, or None when a follow-up of a
    running job was requested instead.
    """
    with redis.lock(f"care:enqueue:{logical_id}", timeout=10, blocking_timeout=10):
        current = _current_job(redis, logical_id)
        if current is not None and current.get_status(refresh=True) in WAITING:
            logger.info("already queued logical=%s job=%s", logical_id, current.id)
            return current.id
        if current is not None and current.get_status() == JobStatus.STARTED:
            redis.set(rerun_key(logical_id), 1, ex=POINTER_TTL)
            logger.info("follow-up requested logical=%s job=%s", logical_id, current.id)
            return None
        return _enqueue(redis, queue_name, func, logical_id, args, retry, job_timeout)


def finish_unique(redis: redis_lib.Redis, logical_id: str) -> str | None:
    """Called as a unique job ends: start the one follow-up it owes, if any."""
    with redis.lock(f"care:enqueue:{logical_id}", timeout=10, blocking_timeout=10):
        if not redis.delete(rerun_key(logical_id)):
            redis.delete(pointer_key(logical_id))
            return None
        current = _current_job(redis, logical_id)
        if current is None:
            redis.delete(pointer_key(logical_id))
            return None
        retry = None
        if current.retries_left:
            retry = Retry(
                max=current.retries_left, interval=current.retry_intervals or 0
            )
        timeout = int(current.timeout) if current.timeout else None
        return _enqueue(
            redis,
            current.origin,
            current.func,
            logical_id,
            tuple(current.args),
            retry,
            timeout,
        )


def unique_job(logical_id_of: Callable[..., str]) -> Callable[[F], F]:
    """Decorate a job function so that, as it ends, it starts any follow-up owed."""

    def wrap(func: F) -> F:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            from rq import get_current_job

            try:
                return func(*args, **kwargs)
            finally:
                job = get_current_job()
                if job is not None:
                    finish_unique(job.connection, logical_id_of(*args, **kwargs))

        return run  # type: ignore[return-value]

    return wrap


def _current_job(redis: redis_lib.Redis, logical_id: str) -> Job | None:
    raw = redis.get(pointer_key(logical_id))
    if raw is None:
        return None
    try:
        job_id = raw.decode() if isinstance(raw, bytes) else str(raw)
        return Job.fetch(job_id, connection=redis)
    except Exception:  # noqa: BLE001 - an expired or deleted job hash
        return None


def _enqueue(
    redis: redis_lib.Redis,
    queue_name: str,
    func: Callable[..., Any],
    logical_id: str,
    args: tuple[Any, ...],
    retry: Retry | None,
    job_timeout: int | None,
) -> str:
    # RQ ids allow letters, digits, _ and - only.
    safe = "".join(c if c.isalnum() or c in "_-" else "-" for c in logical_id)
    job_id = f"{safe}-{uuid.uuid4().hex[:8]}"
    queue = Queue(queue_name, connection=redis)
    job = queue.enqueue(
        func, *args, job_id=job_id, retry=retry or None, job_timeout=job_timeout
    )
    redis.set(pointer_key(logical_id), job.id, ex=POINTER_TTL)
    logger.info("enqueued logical=%s job=%s queue=%s", logical_id, job.id, queue_name)
    return job.id
