"""`care worker` and `care scheduler`: the Procfile's background roles."""

from __future__ import annotations

import importlib
import logging

import click
from rq import Worker
from rq.cron import CronScheduler

from jobs.queues import QUEUES
from jobs.runtime import runtime
from jobs.schedule import PERIODIC

logger = logging.getLogger(__name__)

PRELOAD = (
    "jobs.outreach",
    "jobs.sweep",
    "jobs.sync",
    "jobs.tick",
    "jobs.webhooks",
    "jobs.writes",
    "connectors.quickbooks.connector",
    "connectors.xero.connector",
    "holidays.countries",  # every country's calendar: contact windows ask for any
)


@click.command()
@click.option("--queues", default=",".join(QUEUES), show_default=True)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--name", default=None, help="Worker name (default: host and pid).")
def worker(queues: str, burst: bool, name: str | None) -> None:
    """Run an RQ worker on CARE's queues."""
    rt = runtime()
    _warm()
    names = [q for q in queues.split(",") if q]
    Worker(names, connection=rt.redis, name=name).work(burst=burst, with_scheduler=True)


def _warm() -> None:
    """Load once here what every job would otherwise load in its own work horse.

    RQ forks a work horse per job, and whatever the horse loads dies with it: the
    job modules with the SDKs, PDF and mail libraries, babel's data, the fonts'
    character maps, the compiled templates, SQLAlchemy's configured mappers (0.17 s
    a job on their own). Loaded in the parent, each horse starts with them.
    """
    for module in PRELOAD:
        importlib.import_module(module)
    from babel.core import get_global
    from sqlalchemy.orm import configure_mappers

    import app.models  # noqa: F401 - every mapper, before configuring them
    from app.channels.layout import covered_codepoints, main_codepoints
    from app.channels.letters import load_templates

    configure_mappers()
    load_templates()
    get_global("territory_zones")
    covered_codepoints()
    main_codepoints()


@click.command()
def scheduler() -> None:
    """Trigger the periodic jobs (the tick, incremental syncs)."""
    rt = runtime()
    cron = CronScheduler(connection=rt.redis, name="care-scheduler")
    for periodic in PERIODIC:
        module_name, attr = periodic.func.rsplit(".", 1)
        func = getattr(importlib.import_module(module_name), attr)
        cron.register(
            func, periodic.queue, interval=periodic.interval, name=periodic.id
        )
    logger.info("scheduler starting periodic=%s", [p.id for p in PERIODIC])
    cron.start()
