"""`care replay SCENARIO.json`: reproduce a support case through the real path.

Exit codes: 0 the replay ran; 1 it could not run through (the OAuth connect or the
first sync failed, or workers stayed busy past the time limit; named on stderr);
2 the scenario is bad (every bad field named); 3 it ran, but a sync ended in error or
an RQ job in RQ's failed registry (the result is still printed, with `sync_errors`
and `jobs_failed`).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

logger = logging.getLogger(__name__)

EXIT_FAILED, EXIT_BAD_SCENARIO, EXIT_JOBS_FAILED = 1, 2, 3


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line on stdout.")
@click.option(
    "--data",
    default="data/replay",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Where the replay keeps its database, Redis, logs and letters (wiped first).",
)
@click.option("--workers", default=2, show_default=True, help="RQ worker processes.")
def replay(scenario: Path, as_json: bool, data: Path, workers: int) -> None:
    """Replay a scenario: sandbox books, OAuth, sync, sweep, then its steps."""
    from app.demo.folders import fresh_data_dir, stop_on_signals
    from app.replay.run import Replay, ReplayError
    from app.replay.scenario import ScenarioError, load_scenario

    def say(text: str) -> None:
        click.echo(text, err=True)

    try:
        parsed = load_scenario(scenario)
    except ScenarioError as exc:
        say(f"{scenario}: bad scenario")
        for path, message in exc.errors.items():
            say(f"  {path or '(top level)'}: {message}")
        sys.exit(EXIT_BAD_SCENARIO)

    data = fresh_data_dir(data, "replay")
    stop_on_signals()
    # Workers and pages log to files; the terminal shows the story.
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    say(f"replaying {scenario} ({parsed.ledger}, today {parsed.today}) in {data}")
    try:
        result = Replay(parsed, data, progress=say, workers=workers).run()
    except ReplayError as exc:
        say(f"replay failed: {exc}")
        sys.exit(EXIT_FAILED)
    if as_json:
        click.echo(json.dumps(result, sort_keys=True))
    else:
        _print_summary(result)
    for error in result["sync_errors"]:
        say(f"sync failed after {error['step']}: {error['error']}")
    if result["jobs_failed"]:
        say(f"RQ jobs failed: {', '.join(result['jobs_failed'])} (see {data}/logs)")
    if result["jobs_failed"] or result["sync_errors"]:
        sys.exit(EXIT_JOBS_FAILED)


def _print_summary(result: dict[str, Any]) -> None:
    out = click.echo
    company = result["company"]
    out(
        f"{result['ledger']} company {company['id']}: {company['timezone']}, "
        f"home {company['home_currency']}, today {result['today']}"
    )
    out("invoices:")
    for inv in result["invoices"]:
        out(
            f"  {inv['id']:>12} {inv['number'] or '':>10} {inv['currency']} "
            f"{inv['amount_due']:>12}  {inv['days_late']!s:>5} days  "
            f"{inv['decision'] or '-'} ({inv['reason'] or '-'}), {inv['status']}"
        )
    out(f"cases: {len(result['cases'])}")
    for case in result["cases"]:
        out(
            f"  case {case['id']} {case['debtor_name']}: {case['state']}, "
            f"{case['currency']} {case['amount_due']} due, "
            f"{case['amount_collected']} collected, invoices "
            + ", ".join(i["id"] for i in case["invoices"])
        )
    done = [s for s in result["outreach"] if s["state"] != "scheduled"]
    out(f"outreach: {len(done)} done, {len(result['outreach']) - len(done)} scheduled")
    for step in done:
        out(
            f"  case {step['case']} step {step['step']} {step['channel']}: "
            f"{step['state']} {step['outcome'] or ''}"
        )
    out(f"ledger writes: {len(result['ledger_writes'])}")
    for write in result["ledger_writes"]:
        money = f" {write['currency']} {write['amount']}" if write["amount"] else ""
        out(f"  {write['kind']} {write['target']}{money}: {write['state']}")
    fees = ", ".join(f"{c} {a}" for c, a in result["fees"].items())
    out(f"fees: {fees or 'none'}")
    received = result["received"]
    out(f"received: {len(received['email'])} e-mails, {len(received['sms'])} texts")
    out(
        "API calls: "
        + ", ".join(f"{c['step']} {c['calls']}" for c in result["api_calls"])
    )
    out(f"jobs: {len(result['jobs'])} ran, {len(result['jobs_failed'])} failed")
    out(f"took {result['seconds']} s")
