"""`care sandbox quickbooks|xero`: run one sandbox ledger on its own."""

from __future__ import annotations

import click

from connectors.sandbox.quickbooks.cli import quickbooks
from connectors.sandbox.twilio.cli import twilio
from connectors.sandbox.xero.cli import xero


@click.group()
def sandbox() -> None:
    """Local stand-ins of QuickBooks Online and Xero."""


sandbox.add_command(quickbooks)
sandbox.add_command(xero)
sandbox.add_command(twilio)
