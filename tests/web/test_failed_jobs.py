"""Failed background jobs are shown to program admins, and to no one else."""

from rq import Queue, SimpleWorker

from tests.web.conftest import sign_in


def broken_sync(connection_id: int) -> None:
    raise RuntimeError(f"ledger refused connection {connection_id}")


def test_program_admin_sees_failed_jobs_others_do_not(
    app, world, redis, redis_url, monkeypatch
):
    monkeypatch.setenv("REDIS_URL", redis_url)
    Queue("sync", connection=redis).enqueue(broken_sync, 7)
    SimpleWorker(["sync"], connection=redis).work(burst=True)

    page = sign_in(app.test_client(), world.program).get("/admin/webhooks")
    assert page.status_code == 200
    assert "RuntimeError: ledger refused connection 7" in page.get_data(as_text=True)

    refused = sign_in(app.test_client(), world.a.admin).get("/admin/webhooks")
    assert refused.status_code in (403, 404)
    assert "ledger refused" not in refused.get_data(as_text=True)
