"""`care demo` and `care replay` empty only folders they made, and stop on SIGTERM."""

import os
import signal
import subprocess
import sys
import textwrap

import click
import pytest

from app.demo.folders import MARKER, fresh_data_dir


def test_a_folder_the_run_made_is_emptied(tmp_path):
    data = fresh_data_dir(tmp_path / "run", "demo")
    (data / "care.db").write_text("old")

    again = fresh_data_dir(data, "demo")

    assert sorted(p.name for p in again.iterdir()) == [MARKER]


def test_a_folder_with_other_files_is_refused_and_kept(tmp_path):
    (tmp_path / "thesis.tex").write_text("years of work")

    with pytest.raises(click.UsageError, match="not made by care replay"):
        fresh_data_dir(tmp_path, "replay")

    assert (tmp_path / "thesis.tex").read_text() == "years of work"


def test_another_commands_folder_and_a_file_are_refused(tmp_path):
    replay_data = fresh_data_dir(tmp_path / "replay", "replay")
    (replay_data / "notes.txt").write_text("mine")
    with pytest.raises(click.UsageError, match="not made by care demo"):
        fresh_data_dir(replay_data, "demo")
    assert (replay_data / "notes.txt").exists()

    a_file = tmp_path / "afile"
    a_file.write_text("x")
    with pytest.raises(click.UsageError, match="is a file"):
        fresh_data_dir(a_file, "demo")
    assert a_file.read_text() == "x"


def test_sigterm_runs_the_finally_that_stops_the_stack(tmp_path):
    stopped = tmp_path / "stopped"
    script = textwrap.dedent(
        f"""
        import sys, time
        from app.demo.folders import stop_on_signals
        stop_on_signals()
        try:
            print("ready", flush=True)
            time.sleep(60)
        finally:
            open({str(stopped)!r}, "w").write("yes")
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline() == "ready\n"

    os.kill(child.pid, signal.SIGTERM)

    assert child.wait(timeout=30) == 128 + signal.SIGTERM
    assert stopped.read_text() == "yes"
