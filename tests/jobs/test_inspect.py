from rq import Queue, SimpleWorker

from jobs.inspect import failed_jobs


def boom(connection_id: int) -> None:
    raise RuntimeError(f"ledger refused connection {connection_id}")


def test_failed_jobs_are_listed_with_their_error(redis):
    Queue("sync", connection=redis).enqueue(boom, 7)
    SimpleWorker(["sync"], connection=redis).work(burst=True)

    [failed] = failed_jobs(redis)

    assert failed.queue == "sync"
    assert "boom(7)" in failed.call
    assert failed.error == "RuntimeError: ledger refused connection 7"
