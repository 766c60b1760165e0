"""`care sandbox quickbooks`: run the QuickBooks Online sandbox on its own."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import click

from app import clock as clock_mod
from app import config
from app.clock import Clock
from connectors.sandbox.quickbooks import wire
from connectors.sandbox.quickbooks.documents import flatten
from connectors.sandbox.quickbooks.sandbox import DEFAULT_REDIRECT, QuickBooksSandbox

logger = logging.getLogger(__name__)


@click.command("quickbooks")
@click.option("--port", default=8101, show_default=True, help="Port on 127.0.0.1.")
@click.option(
    "--seed",
    default=1,
    show_default=True,
    help="Seed of the generated company (same seed, same books).",
)
@click.option(
    "--invoices",
    default=500,
    show_default=True,
    help="Invoices in the generated company; 0 starts an empty company.",
)
@click.option(
    "--today",
    default=None,
    help="The generated books' today, YYYY-MM-DD; the sandbox's clock starts there"
    " at 12:00 UTC and flows. Default: today by the product's clock (CARE_CLOCK).",
)
@click.option(
    "--load",
    "load_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Load a company from a JSON file in QBO's own JSON: entity lists, or API"
    " answers saved as they came (query, read, CDC, batch; several under"
    ' "responses"), with an optional "realm_id"; or a dump() file. Default: none'
    " (use the generator).",
)
@click.option(
    "--client-id",
    default="care-sandbox-qbo",
    show_default=True,
    help="OAuth client id the sandbox accepts.",
)
@click.option(
    "--client-secret",
    default="TESTONLY-qbo-client-secret",
    show_default=True,
    help="OAuth client secret the sandbox accepts.",
)
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    default=(DEFAULT_REDIRECT,),
    show_default=True,
    help="Allowed redirect URI (repeat for several).",
)
@click.option(
    "--webhook-url",
    default=None,
    help="Where change notifications are POSTed. Default: none (no webhooks).",
)
@click.option(
    "--webhook-format",
    type=click.Choice(["cloudevents", "legacy"]),
    default="cloudevents",
    show_default=True,
    help="CloudEvents array (Intuit's current format) or legacy eventNotifications.",
)
@click.option(
    "--verifier-token",
    default="TESTONLY-qbo-verifier-token",
    show_default=True,
    help="Webhook verifier token: the HMAC key of intuit-signature.",
)
@click.option(
    "--rate-limits",
    type=click.Choice(["on", "off"]),
    default="on",
    show_default=True,
    help="500 calls a minute and 10 at once per realm, answered with the XML 429.",
)
def quickbooks(
    port: int,
    seed: int,
    invoices: int,
    today: str | None,
    load_file: Path | None,
    client_id: str,
    client_secret: str,
    redirect_uris: tuple[str, ...],
    webhook_url: str | None,
    webhook_format: str,
    verifier_token: str,
    rate_limits: str,
) -> None:
    """Local QuickBooks Online: OAuth, Accounting API v3, CDC and webhooks."""
    sandbox_clock, day = _clock(today)
    kwargs = {
        "clock": sandbox_clock,
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uris": redirect_uris,
        "verifier_token": verifier_token,
        "webhook_url": webhook_url,
        "webhook_format": webhook_format,
        "rate_limits": rate_limits == "on",
        "seed": seed,
    }
    if load_file is not None:
        sandbox = _from_file(load_file, kwargs)
    else:
        sandbox = QuickBooksSandbox(**kwargs)  # type: ignore[arg-type]
        if invoices > 0:
            _generate(sandbox, seed, invoices, day)
        else:
            sandbox.add_company({"CompanyName": "Sandbox Company"})
    server = sandbox.start(port)
    for realm_id in sandbox.realms:
        tokens = sandbox.issue_tokens(realm_id)
        click.echo(
            json.dumps(
                {
                    "realm_id": realm_id,
                    "discovery": server.url + "/.well-known/openid_configuration",
                    "api_base": server.url + "/v3",
                    "refresh_token": tokens["refresh_token"],
                }
            )
        )
    click.echo(f"QuickBooks sandbox on {server.url} (Ctrl-C stops it)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sandbox.stop()


class ShiftedClock:
    """The wall clock moved to start at `start`: flows at wall pace from there."""

    def __init__(self, start: datetime) -> None:
        self._offset = start - clock_mod.SystemClock().now()

    def now(self) -> datetime:
        return clock_mod.SystemClock().now() + self._offset


def _clock(today: str | None) -> tuple[Clock | None, date]:
    """The sandbox's clock and the books' today, from --today and CARE_CLOCK."""
    day = None
    if today:
        try:
            day = date.fromisoformat(today)
        except ValueError as exc:
            raise click.BadParameter(
                f"{today!r} is not YYYY-MM-DD", param_hint="--today"
            ) from exc
    settings = config.load()
    if settings.clock == "redis":
        # NOTE: the demo shares one simulated clock through Redis; join it.
        from app.redis_client import connect

        shared = clock_mod.RedisClock(connect(settings.redis_url, settings.data_dir))
        try:
            shared.now()
        except RuntimeError:
            start = day or clock_mod.SystemClock().now().date()
            shared.set(datetime.combine(start, time(12), UTC))
        clock_mod.set_clock(shared)
        return None, day or shared.now().date()
    if day is None or day == clock_mod.now().date():
        return None, clock_mod.now().date()
    return ShiftedClock(datetime.combine(day, time(12), UTC)), day


def _generate(sandbox: QuickBooksSandbox, seed: int, invoices: int, day: date) -> None:
    from connectors.records import Ledger
    from connectors.sandbox.generator import generate

    books = generate(seed=seed, invoices=invoices, today=day, ledger=Ledger.QUICKBOOKS)
    sandbox.load_generated(books)


def _from_file(path: Path, kwargs: dict[str, Any]) -> QuickBooksSandbox:
    data = wire.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise click.BadParameter(
            "the file must hold one JSON object", param_hint="--load"
        )
    if "realms" in data:
        return QuickBooksSandbox.restore(data, **kwargs)
    sandbox = QuickBooksSandbox(**kwargs)
    try:
        objects = flatten(data)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--load") from exc
    info = (objects.pop("CompanyInfo", None) or [{"CompanyName": "Loaded Company"}])[0]
    preferences = next(iter(objects.pop("Preferences", [])), None)
    realm_id = sandbox.add_company(info, preferences, data.get("realm_id"))
    sandbox.load(realm_id, objects, notify=False)
    return sandbox
