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
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "app.cli",
                "replay",
                str(scenario or SCENARIOS / f"{name}.json"),
                "--json",
                "--data",
                str(tmp_path / f"replay-{name}"),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        lines = done.stdout.strip().splitlines()
        assert len(lines) == 1, done.stdout[-2000:]
        result: dict[str, Any] = json.loads(lines[0])
        return result

    return run


def by_id(items: list[dict[str, Any]], key: str = "id") -> dict[str, dict[str, Any]]:
    """Records keyed by their ledger id."""
    return {str(item[key]): item for item in items}
