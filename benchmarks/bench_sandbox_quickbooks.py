"""How fast the QuickBooks sandbox loads generated books and serves them to the SDK.

    .venv/bin/python benchmarks/bench_sandbox_quickbooks.py [--invoices 100000]

Prints seconds for: generating the books, loading them into the sandbox, and listing
every live invoice through python-quickbooks in pages of 1,000 over HTTP.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, date, datetime

from intuitlib.client import AuthClient
from quickbooks import QuickBooks
from quickbooks.objects.invoice import Invoice

from app.clock import SimulatedClock
from connectors.records import Ledger
from connectors.sandbox.generator import generate
from connectors.sandbox.quickbooks import QuickBooksSandbox

TODAY = date(2025, 5, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")  # plain http, locally

    started = time.perf_counter()
    books = generate(
        seed=args.seed, invoices=args.invoices, today=TODAY, ledger=Ledger.QUICKBOOKS
    )
    generated = time.perf_counter()
    clock = SimulatedClock(datetime(2025, 5, 1, 19, 0, tzinfo=UTC))
    sandbox = QuickBooksSandbox(clock=clock, rate_limits=False)
    realm = sandbox.load_generated(books)
    loaded = time.perf_counter()

    server = sandbox.start(webhooks_in_background=False)
    auth = AuthClient(
        sandbox.client_id,
        sandbox.client_secret,
        sandbox.redirect_uris[0],
        environment=server.url + "/.well-known/openid_configuration",
    )
    qb = QuickBooks(
        auth_client=auth,
        refresh_token=sandbox.issue_tokens(realm)["refresh_token"],
        company_id=realm,
        minorversion=75,
    )
    qb.api_url_v3 = server.url + "/v3"
    listed = 0
    start = 1
    page_started = time.perf_counter()
    while True:
        page = Invoice.where(
            "", order_by="Id", start_position=start, max_results=1000, qb=qb
        )
        listed += len(page)
        if len(page) < 1000:
            break
        start += 1000
    paged = time.perf_counter()
    sandbox.stop()

    print(f"invoices generated  {args.invoices:>8}  {generated - started:6.2f} s")
    print(f"loaded into sandbox {args.invoices:>8}  {loaded - generated:6.2f} s")
    print(
        f"listed through SDK  {listed:>8}  {paged - page_started:6.2f} s"
        f"  ({listed / (paged - page_started):,.0f} invoices/s)"
    )


if __name__ == "__main__":
    main()
