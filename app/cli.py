"""The `care` command: each subcommand lives beside the code it drives.

Subcommands are imported only when called, so `care sandbox` does not load the web
app and `care worker` does not load the sandboxes.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

COMMANDS = {
    "sandbox": "connectors.sandbox.cli:sandbox",
    "demo": "app.demo.cli:demo",
    "replay": "app.replay.cli:replay",
    "web": "app.web.cli:web",
    "worker": "jobs.cli:worker",
    "scheduler": "jobs.cli:scheduler",
    "migrate": "app.db_cli:migrate",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] in {"app", "jobs", "connectors"}:
                return _missing(cmd_name)
            raise
        command: click.Command = getattr(module, attr)
        return command


def _missing(name: str) -> click.Command:
    def fail() -> None:
        raise click.ClickException(f"'care {name}' is not part of this build yet")

    return click.Command(name, callback=fail, help="(not part of this build yet)")


@click.group(cls=LazyGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log at debug level.")
def main(verbose: bool) -> None:
    """CARE: pre-collections for QuickBooks Online and Xero."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


if __name__ == "__main__":
    main()
