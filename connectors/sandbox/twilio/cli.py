"""`care sandbox twilio`: run the Twilio stand-in on its own."""

from __future__ import annotations

import json
import threading

import click

from connectors.sandbox.twilio.sandbox import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_FROM,
    TwilioSandbox,
)


@click.command("twilio")
@click.option("--port", default=8103, show_default=True, help="Port on 127.0.0.1.")
@click.option("--account-sid", default=DEFAULT_ACCOUNT_SID, show_default=True)
@click.option("--auth-token", default=DEFAULT_AUTH_TOKEN, show_default=True)
@click.option(
    "--number",
    "numbers",
    multiple=True,
    default=(DEFAULT_FROM,),
    show_default=True,
    help="A sender number of the account (repeatable).",
)
@click.option(
    "--inbound-url",
    default="",
    help="Where inbound messages (STOP, START, replies) are POSTed, signed. Default:"
    " none.",
)
@click.option(
    "--advanced-opt-out/--no-advanced-opt-out",
    default=False,
    show_default=True,
    help="Add OptOutType to inbound forms, as Twilio's Advanced Opt-Out does.",
)
def twilio(
    port: int,
    account_sid: str,
    auth_token: str,
    numbers: tuple[str, ...],
    inbound_url: str,
    advanced_opt_out: bool,
) -> None:
    """The Twilio Messages API stand-in, with signed callbacks and STOP handling."""
    sandbox = TwilioSandbox(
        account_sid=account_sid,
        auth_token=auth_token,
        numbers=numbers,
        inbound_url=inbound_url,
        advanced_opt_out=advanced_opt_out,
    )
    server = sandbox.start(port)
    click.echo(
        json.dumps(
            {
                "TWILIO_BASE_URL": server.url,
                "TWILIO_ACCOUNT_SID": account_sid,
                "TWILIO_AUTH_TOKEN": auth_token,
                "TWILIO_FROM": numbers[0],
            }
        )
    )
    click.echo(
        f"Twilio sandbox on {server.url}: POST /_sandbox/inbound (From, Body) to"
        " simulate a reply, POST /_sandbox/messages/<sid>/status (status) for a"
        " delivery report. Ctrl-C stops it."
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sandbox.stop()
