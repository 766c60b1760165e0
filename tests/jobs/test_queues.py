"""C25: enqueueing the same logical job twice runs it once, or once more if running."""

import os
import subprocess
import sys
import time

from rq import Queue, SimpleWorker

from jobs.queues import enqueue_unique
from tests.jobs import work


def test_second_enqueue_while_queued_adds_nothing(redis):
    first = enqueue_unique(
        redis, "default", work.record, "test:inv1042", "inv1042", "a"
    )
    second = enqueue_unique(
        redis, "default", work.record, "test:inv1042", "inv1042", "b"
    )

    assert first == second
    assert Queue("default", connection=redis).count == 1
    SimpleWorker(["default"], connection=redis).work(burst=True)
    assert redis.lrange("runs:inv1042", 0, -1) == [b"a"]


def test_enqueue_while_running_owes_exactly_one_follow_up(redis, redis_url):
    enqueue_unique(redis, "default", work.record, "test:inv7", "inv7", "a", "go:inv7")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rq.cli",
            "worker",
            "--burst",
            "--url",
            redis_url,
            "default",
        ],
        env={**os.environ, "PYTHONPATH": os.getcwd()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(lambda: redis.llen("runs:inv7") == 1)
        # Two more webhooks arrive while the first run is still going.
        assert (
            enqueue_unique(redis, "default", work.record, "test:inv7", "inv7", "b")
            is None
        )
        assert (
            enqueue_unique(redis, "default", work.record, "test:inv7", "inv7", "c")
            is None
        )
        redis.set("go:inv7", 1)
        worker.wait(timeout=30)
    finally:
        worker.kill()

    # The follow-up re-runs the job as first enqueued; it reads the ledger's state then.
    assert redis.lrange("runs:inv7", 0, -1) == [b"a", b"a"]
    assert redis.lrange("done:inv7", 0, -1) == [b"a", b"a"]


def test_finished_job_can_be_enqueued_again(redis):
    enqueue_unique(redis, "default", work.record, "test:x", "x", "a")
    SimpleWorker(["default"], connection=redis).work(burst=True)
    enqueue_unique(redis, "default", work.record, "test:x", "x", "b")
    SimpleWorker(["default"], connection=redis).work(burst=True)
    assert redis.lrange("runs:x", 0, -1) == [b"a", b"b"]


def _wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
