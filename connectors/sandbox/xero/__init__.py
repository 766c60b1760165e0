"""A local Xero: identity (OAuth 2.0, OpenID), Accounting API 2.0 and webhooks.

Paths are Xero's own, so xero-python works unchanged, configured by base URL alone::

    sandbox = XeroSandbox(clock=clock)           # options below
    tenant = sandbox.add_organisation({"Name": "Acme", "BaseCurrency": "NZD",
                                       "Timezone": "NEWZEALANDSTANDARDTIME"})
    server = sandbox.start()                     # port 0: a free port
    TokenApi.refresh_token_url = f"{server.url}/connect/token"
    TokenApi.revoke_token_url = f"{server.url}/connect/revocation"
    AccountingApi(api_client, base_url=f"{server.url}/api.xro/2.0")
    IdentityApi(api_client, base_url=server.url)

Served: `GET /identity/connect/authorize` (auto-consent to every organisation, PKCE),
`POST /connect/token` (authorization_code, refresh_token), `POST /connect/revocation`,
`GET /.well-known/openid-configuration` (+ `/jwks`), `GET /connect/userinfo`,
`GET|DELETE /connections` (and `/Connections`), and under `/api.xro/2.0`: Invoices,
Contacts, Payments, CreditNotes (GET list and one; PUT/POST writes), Overpayments,
Prepayments (GET; PUT `.../Allocations`), `<collection>/<id>/History` (GET, PUT),
Organisation, Currencies.

The controller, `XeroSandbox(*, clock=None, client_id="care-sandbox-xero",
client_secret="care-sandbox-xero-secret",
redirect_uris=("http://127.0.0.1:5000/connect/xero/callback",),
webhook_key="care-sandbox-xero-webhook-key", webhook_url=None, rate_limits=True,
refresh_grace=False, seed=0, app_name="CARE")`:

- `app` (Flask), `log` (RequestLog), `faults` (Faults), `limits`, `webhooks`, `now()`
- `add_organisation(organisation, tenant_id=None) -> str`: add and connect a tenant
- `connect(tenant_id, connection=None)`, `disconnect(tenant_id)`
- `load(tenant_id, {"Invoices": [...], ...}, notify=True)`: Xero JSON in, replacing
  by id, emitting webhooks; `load_generated(books) -> tenant id` converts a
  `GeneratedBooks` (no webhooks: the books predate any subscription)
- `objects(tenant_id, collection)`, `history(tenant_id, object_id)`
- `pay_invoice(tenant_id, invoice_id, amount, on)`, `save_invoice(tenant_id, invoice)`,
  `set_rate(tenant_id, currency, rate)`
- `issue_tokens(scope=DEFAULT_SCOPE, tenants=None) -> dict` (a token response),
  `expire_access_tokens()`, `revoke_all()`, `faults.revoked.add(access_token)`
- `probe_intent_to_receive(url=None) -> IntentResult`, `deliver_webhooks()`
- `dump() -> dict`, `XeroSandbox.restore(state, **kw)`, `start(port=0) -> ServerThread`,
  `stop()`
"""

from connectors.sandbox.xero.sandbox import DEFAULT_SCOPE, XeroSandbox

__all__ = ["DEFAULT_SCOPE", "XeroSandbox"]
