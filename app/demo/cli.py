"""`care demo`: CARE's whole job on this machine, in about three minutes."""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import date
from pathlib import Path

import click

logger = logging.getLogger(__name__)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line on stdout.")
@click.option("--serve", is_flag=True, help="Leave the web app up afterwards.")
@click.option("--days", default=45, show_default=True, help="Simulated days to run.")
@click.option("--invoices", default=400, show_default=True, help="Invoices per ledger.")
@click.option(
    "--seed", default=7, show_default=True, help="Seed of the generated books."
)
@click.option(
    "--start",
    default="2025-05-01",
    show_default=True,
    help="The first simulated day (the companies' today).",
)
@click.option(
    "--data",
    default="data/demo",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Where the demo keeps its database, Redis, logs and letters (wiped first).",
)
@click.option("--port", default=0, help="Web app port (default: 5000 with --serve).")
def demo(
    as_json: bool,
    serve: bool,
    days: int,
    invoices: int,
    seed: int,
    start: str,
    data: Path,
    port: int,
) -> None:
    """Run CARE end to end on local sandbox ledgers, from sync to fee bill."""
    from app.demo.folders import fresh_data_dir, stop_on_signals
    from app.demo.report import figures
    from app.demo.scenario import Demo
    from app.demo.stack import Stack

    began = time.monotonic()

    def say(text: str) -> None:
        click.echo(text, err=True)

    data = fresh_data_dir(data, "demo")
    stop_on_signals()
    # Workers and pages log to files; the terminal shows the story.
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    stack = Stack(
        data_dir=data,
        start_day=date.fromisoformat(start),
        invoices=invoices,
        seed=seed,
        port=port or (5000 if serve else 0),
    )
    say(f"starting sandboxes, web app and workers in {data}")
    stack.start()
    try:
        story = Demo(stack, days=days, progress=say)
        story.run()
        summary, problems = figures(story)
        summary["seconds"] = round(time.monotonic() - began, 1)
        if as_json:
            click.echo(json.dumps(summary, sort_keys=True))
        else:
            _print_summary(summary, story)
        if serve:
            say(f"web app on {stack.base_url} (Ctrl-C to stop)")
            _wait()
    finally:
        stack.stop()
    if problems:
        for problem in problems:
            say(f"CROSS-CHECK FAILED: {problem}")
        sys.exit(1)


def _print_summary(summary: dict, story: object) -> None:
    out = click.echo
    out(f"invoices synced      {summary['invoices_synced']}")
    out(f"referred             {summary['referred']}")
    out(f"escalated            {summary['escalated']} invoices past 120 days")
    out(f"outreach             {summary['outreach']}")
    out(f"collected            {summary['collected']}")
    out(f"fees                 {summary['fees']}")
    out(f"ledger writes        {summary['ledger_writes']}")
    out(f"API calls            {summary['api_calls']}")
    out(f"duplicate effects    {summary['duplicate_effects']}")
    out(f"letters              {summary['letters_dir']}")
    out("sign in (http://127.0.0.1:5000 with --serve):")
    for person in story.people:  # type: ignore[attr-defined]
        out(f"  {person.role:15s} {person.email}  password {person.password}")
    out(f"took {summary['seconds']} s")


def _wait() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return
