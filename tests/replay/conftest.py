"""Running `care replay` as a user would: a subprocess, one JSON line on stdout.

Each run gets its own data folder and an embedded Redis (REDIS_URL is removed: the
replay flushes its Redis, which must not be one shared with other runs); the database
is the test's own (`database_url`: SQLite, or a fresh PostgreSQL database in CI).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
TIMEOUT = 120  # seconds; each shipped scenario replays in 20-40 s


@pytest.fixture
def replay(tmp_path: Path, database_url: str) -> Callable[[str], dict[str, Any]]:
    """A function: replay scenarios/NAME.json and return its parsed `--json` line."""

    def run(name: str, scenario: Path | None = None) -> dict[str, Any]:
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env["DATABASE_URL"] = database_url
        command = [
            sys.executable,
            "-m",
            "app.cli",
            "replay",
            str(scenario or SCENARIOS / f"{name}.json"),
            "--json",
            "--data",
            str(tmp_path / f"replay-{name}"),
        ]
        done = _run(command, env)
        assert done.returncode == 0, done.stderr[-3000:]
        lines = done.stdout.strip().splitlines()
        assert len(lines) == 1, done.stdout[-2000:]
        result: dict[str, Any] = json.loads(lines[0])
        return result

    return run


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `command`; past TIMEOUT (or on pytest's own timeout) stop it with SIGTERM.

    subprocess.run's SIGKILL on a timeout left the replay's RQ workers and its
    embedded redis-server running after the test (they run in their own
    sessions); on SIGTERM the replay stops them itself.
    """
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.terminate()
        stdout, stderr = process.communicate(timeout=60)
        pytest.fail(f"replay still running after {TIMEOUT} s:\n{stderr[-3000:]}")
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=60)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def by_id(items: list[dict[str, Any]], key: str = "id") -> dict[str, dict[str, Any]]:
    """Records keyed by their ledger id."""
    return {str(item[key]): item for item in items}
