"""`care sandbox xero`: run the Xero sandbox on its own (the demo, or by hand)."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, date, datetime
from datetime import time as day_time
from pathlib import Path
from typing import Any

import click

from app import clock as clock_mod
from app import config
from app.clock import Clock
from connectors.records import Ledger
from connectors.sandbox.xero import wire
from connectors.sandbox.xero.sandbox import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URIS,
    DEFAULT_WEBHOOK_KEY,
    XeroSandbox,
)
from connectors.sandbox.xero.state import ID_KEYS

logger = logging.getLogger(__name__)
WEBHOOK_TICK_SECONDS = 1.0


@click.command()
@click.option("--port", default=8102, show_default=True, help="Port on 127.0.0.1.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--seed",
    default=0,
    show_default=True,
    help="Seed of the generated company and ids.",
)
@click.option(
    "--invoices",
    default=200,
    show_default=True,
    help="Invoices in the generated company; 0 for none.",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The books' today; the sandbox clock starts there at 12:00 UTC and flows"
    " (or joins the shared demo clock when CARE_CLOCK=redis)."
    "  [default: today, by the clock]",
)
@click.option(
    "--home-currency",
    default="USD",
    show_default=True,
    help="Generated company's currency.",
)
@click.option(
    "--load",
    "load_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="JSON file: a sandbox dump, or Xero JSON ('Organisations' plus collections"
    " such as 'Invoices' and 'Contacts', as the API returns them).  [default: none]",
)
@click.option("--client-id", default=DEFAULT_CLIENT_ID, show_default=True)
@click.option("--client-secret", default=DEFAULT_CLIENT_SECRET, show_default=True)
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    default=DEFAULT_REDIRECT_URIS,
    show_default=True,
    help="A registered redirect URI; repeat for several.",
)
@click.option(
    "--webhook-url", default=None, help="Where to POST webhooks.  [default: none (off)]"
)
@click.option("--webhook-key", default=DEFAULT_WEBHOOK_KEY, show_default=True)
@click.option(
    "--rate-limits",
    type=click.Choice(["on", "off"]),
    default="on",
    show_default=True,
    help="Answer 429 over 60/min, 5,000/day or 5 in flight per tenant.",
)
@click.option(
    "--refresh-grace",
    type=click.Choice(["on", "off"]),
    default="off",
    show_default=True,
    help="Accept a spent refresh token again for 30 minutes, as Xero may.",
)
def xero(
    port: int,
    host: str,
    seed: int,
    invoices: int,
    today: Any,
    home_currency: str,
    load_file: Path | None,
    client_id: str,
    client_secret: str,
    redirect_uris: tuple[str, ...],
    webhook_url: str | None,
    webhook_key: str,
    rate_limits: str,
    refresh_grace: str,
) -> None:
    """Run a local Xero (identity, Accounting API 2.0, webhooks) until Ctrl-C."""
    sandbox_clock, day = _clock(today.date() if today else None)
    options: dict[str, Any] = {
        "clock": sandbox_clock,
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uris": redirect_uris,
        "webhook_key": webhook_key,
        "webhook_url": webhook_url,
        "rate_limits": rate_limits == "on",
        "refresh_grace": refresh_grace == "on",
        "seed": seed,
    }
    data = wire.loads(load_file.read_text("utf-8")) if load_file else None
    if isinstance(data, dict) and "version" in data:
        sandbox = XeroSandbox.restore(data, **options)
    else:
        sandbox = XeroSandbox(**options)
        if invoices > 0:
            _generate(sandbox, seed, invoices, day, home_currency)
        if data is not None:
            load_xero_json(sandbox, data)
        if not sandbox.tenants:
            sandbox.add_organisation({"Name": "Sandbox Company"})
    server = sandbox.start(port=port, host=host)
    # One JSON line per tenant, like the QuickBooks sandbox: what a demo or a person
    # needs to connect without the browser consent step.
    for tenant in sandbox.tenants.values():
        tokens = sandbox.issue_tokens(tenants=[tenant.id])
        click.echo(
            json.dumps(
                {
                    "tenant_id": tenant.id,
                    "tenant_name": tenant.name,
                    "api_base": f"{server.url}/api.xro/2.0",
                    "identity_base": server.url,
                    "authorize_url": f"{server.url}/identity/connect/authorize",
                    "token_url": f"{server.url}/connect/token",
                    "revoke_url": f"{server.url}/connect/revocation",
                    "refresh_token": tokens["refresh_token"],
                }
            )
        )
    click.echo(f"Xero sandbox on {server.url} (Ctrl-C stops it)")
    if webhook_url:
        threading.Thread(target=_deliver_forever, args=(sandbox,), daemon=True).start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


class ShiftedClock:
    """The wall clock moved to start at `start`, flowing at wall pace from there."""

    def __init__(self, start: datetime) -> None:
        self._offset = start - clock_mod.SystemClock().now()

    def now(self) -> datetime:
        return clock_mod.SystemClock().now() + self._offset


def _clock(day: date | None) -> tuple[Clock | None, date]:
    """The sandbox's clock and the books' today, from --today and CARE_CLOCK."""
    settings = config.load()
    if settings.clock == "redis":
        # NOTE: the demo shares one simulated clock through Redis; join it, and
        # start it at --today noon UTC if nobody has set it yet.
        from app.redis_client import connect

        shared = clock_mod.RedisClock(connect(settings.redis_url, settings.data_dir))
        try:
            shared.now()
        except RuntimeError:
            start = day or clock_mod.SystemClock().now().date()
            shared.set(datetime.combine(start, day_time(12), UTC))
        clock_mod.set_clock(shared)
        return None, day or shared.now().date()
    if day is None or day == clock_mod.now().date():
        return None, clock_mod.now().date()
    return ShiftedClock(datetime.combine(day, day_time(12), UTC)), day


def _generate(
    sandbox: XeroSandbox, seed: int, invoices: int, day: date, currency: str
) -> None:
    from connectors.sandbox.generator import generate

    books = generate(
        seed=seed,
        invoices=invoices,
        today=day,
        ledger=Ledger.XERO,
        home_currency=currency,
    )
    sandbox.load_generated(books)


def load_xero_json(sandbox: XeroSandbox, data: dict[str, Any]) -> list[str]:
    """Load a file of Xero JSON: its Organisations (if any), then its collections."""
    tenants = [sandbox.add_organisation(org) for org in data.get("Organisations", [])]
    if not tenants:
        tenants = list(sandbox.tenants)
    if not tenants:
        tenants = [sandbox.add_organisation({"Name": "Sandbox Company"})]
    collections = {k: v for k, v in data.items() if k in ID_KEYS}
    if collections:
        sandbox.load(tenants[0], collections)
    return tenants


def _deliver_forever(sandbox: XeroSandbox) -> None:
    while True:
        try:
            sandbox.deliver_webhooks()
        except Exception:  # a receiver's failure must not stop later deliveries
            logger.exception("xero sandbox webhook delivery failed")
        time.sleep(WEBHOOK_TICK_SECONDS)


if __name__ == "__main__":
    xero()
