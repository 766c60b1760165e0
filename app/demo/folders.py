"""What `care demo` and `care replay` share as commands: a data folder they may
empty, and stopping cleanly when terminated."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import click

MARKER = ".care-run"


def fresh_data_dir(data: Path, command: str) -> Path:
    """Empty `data` for a new run: only a folder a run made (it holds MARKER).

    A mistyped --data (the home folder, the checkout) is refused, never wiped.
    """
    data = data.resolve()
    if data.exists() and not data.is_dir():
        raise click.UsageError(f"{data} is a file, not a folder; choose another --data")
    if data.exists() and any(data.iterdir()):
        marker = data / MARKER
        made_by = marker.read_text().split(";")[0] if marker.is_file() else ""
        if made_by != f"made by care {command}":
            raise click.UsageError(
                f"{data} is not empty and was not made by care {command}; "
                "choose another --data"
            )
        shutil.rmtree(data)
    data.mkdir(parents=True, exist_ok=True)
    (data / MARKER).write_text(f"made by care {command}; emptied at each run\n")
    return data


def stop_on_signals() -> None:
    """Turn SIGTERM and SIGHUP into SystemExit, so `finally` stops the stack.

    Workers and Redis run in their own sessions: a signal to the command alone
    would otherwise leave them running.
    """
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit)


def _exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)
