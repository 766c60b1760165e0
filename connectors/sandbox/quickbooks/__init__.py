"""A local QuickBooks Online (Accounting API v3 + Intuit OAuth 2.0) for tests and demos.

The same python-quickbooks + intuit-oauth code works against it and against Intuit
by changing base URLs only::

    sandbox = QuickBooksSandbox(clock=clock, rate_limits=True, seed=0)
    realm = sandbox.load_generated(generate(seed=1, invoices=500, today=day,
                                            ledger=Ledger.QUICKBOOKS))
    server = sandbox.start()            # 127.0.0.1 on a free port; server.url
    tokens = sandbox.issue_tokens(realm)  # or the browser flow at /connect/oauth2

    auth = AuthClient(sandbox.client_id, sandbox.client_secret, redirect_uri,
                      environment=server.url + "/.well-known/openid_configuration")
    qb = QuickBooks(auth_client=auth, refresh_token=tokens["refresh_token"],
                    company_id=realm, minorversion=75)
    qb.api_url_v3 = server.url + "/v3"

Controller (`QuickBooksSandbox`), stable for connectors and tests:
    add_company(company_info, preferences=None, realm_id=None, *, timezone=None,
                chart=True) -> realm_id
    load(realm_id, {"Invoice": [...], "Customer": [...], "ExchangeRate": [...]},
         notify=True)           # QBO JSON, replace by Id; {"Id","status":"Deleted"}
    load_generated(books) -> realm_id   # connectors.sandbox.generator books
    get(realm_id, entity, id) -> dict | None
    write(realm_id, entity, body, operation="") -> dict   # as a person in QBO would
    pay_invoice(realm_id, invoice_id, amount, on=None) -> payment id
    issue_tokens(realm_id, scope=...) -> token response dict (+ realm_id)
    expire_access_tokens() -> int; revoke(token) -> bool; grants() -> list[Grant]
    deliver_pending() -> int    # webhooks due now, by the clock
    dump() -> dict; QuickBooksSandbox.restore(state, **constructor kwargs)
    start(port=0) -> ServerThread; stop()
    faults: Faults (rate_limits, error_rate, latency, stall, revoked)
    quirks.page_overrun: extra rows past MAXRESULTS (case C10 d)
    log: RequestLog (tenant = realm id; grant_type on token calls)
    minute / in_flight: the 500-a-minute and 10-at-once limiters per realm
    consent_realm_id: which company the auto-consent authorize step connects

Time comes from the clock passed in, else `app.clock.now()`.
"""

from connectors.sandbox.quickbooks.sandbox import QuickBooksSandbox, Quirks

__all__ = ["QuickBooksSandbox", "Quirks"]
