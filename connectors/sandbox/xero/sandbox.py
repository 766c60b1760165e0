"""The Xero sandbox controller: state, test and demo controls, and its server."""

from __future__ import annotations

import gc
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from app import clock as clock_mod
from app.clock import Clock
from connectors.sandbox.server import Faults, RequestLog, ServerThread
from connectors.sandbox.xero import wire
from connectors.sandbox.xero.app import create_app
from connectors.sandbox.xero.books import Books
from connectors.sandbox.xero.convert import Converter
from connectors.sandbox.xero.dates import to_ms_date
from connectors.sandbox.xero.errors import XeroError
from connectors.sandbox.xero.limits import RateLimits
from connectors.sandbox.xero.parties import organisation
from connectors.sandbox.xero.state import ID_KEYS, Ids, Tenant
from connectors.sandbox.xero.tokens import Client, Identity
from connectors.sandbox.xero.webhooks import (
    CATEGORIES,
    Delivery,
    IntentResult,
    WebhookSender,
)

if TYPE_CHECKING:
    from connectors.sandbox.generator import GeneratedBooks

logger = logging.getLogger(__name__)

DEFAULT_CLIENT_ID = "care-sandbox-xero"
DEFAULT_CLIENT_SECRET = "care-sandbox-xero-secret"
DEFAULT_REDIRECT_URIS = ("http://127.0.0.1:5000/connect/xero/callback",)
DEFAULT_WEBHOOK_KEY = "care-sandbox-xero-webhook-key"
DEFAULT_SCOPE = (
    "openid",
    "profile",
    "email",
    "offline_access",
    "accounting.transactions",
    "accounting.contacts",
    "accounting.settings",
)
PUBLIC_API_BASE = "https://api.xero.com/api.xro/2.0"
SELECTIONS_KEPT = 8


class XeroSandbox:
    """A local Xero: organisations, OAuth, the Accounting API, webhooks, faults."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        redirect_uris: Iterable[str] = DEFAULT_REDIRECT_URIS,
        webhook_key: str = DEFAULT_WEBHOOK_KEY,
        webhook_url: str | None = None,
        rate_limits: bool = True,
        refresh_grace: bool = False,
        seed: int = 0,
        app_name: str = "CARE",
    ) -> None:
        self._clock = clock
        self.seed = seed
        self.ids = Ids(seed)
        self.client = Client(client_id, client_secret, tuple(redirect_uris), app_name)
        self.tenants: dict[str, Tenant] = {}
        self.identity = Identity(ids=self.ids, refresh_grace=refresh_grace)
        self.faults = Faults(rate_limits=rate_limits, seed=seed)
        self.log = RequestLog()
        self.limits = RateLimits()
        self.webhooks = WebhookSender(
            webhook_url, webhook_key, seed, api_base=PUBLIC_API_BASE
        )
        # One lock over all state: the threaded server answers calls concurrently,
        # and a payment touches an invoice, a payment and the webhook queue at once.
        self.lock = threading.RLock()
        self.base_url: str | None = None
        self.app = create_app(self)
        self._server: ServerThread | None = None
        self.selections: OrderedDict[tuple[Any, ...], list[dict[str, Any]]] = (
            OrderedDict()
        )

    # --- time ---------------------------------------------------------------------

    def now(self) -> datetime:
        """The sandbox's clock: the one handed in, else the process clock."""
        return (self._clock or clock_mod.get_clock()).now()

    # --- organisations and connections --------------------------------------------

    def add_organisation(
        self, organisation: dict[str, Any], tenant_id: str | None = None
    ) -> str:
        """Add and connect an organisation (Organisation JSON); its tenant id."""
        org = wire.decimals(dict(organisation))
        if not org.get("Name"):
            raise ValueError("an organisation needs a Name")
        tenant = (tenant_id or org.get("OrganisationID") or self.ids.new()).lower()
        org.setdefault("OrganisationID", tenant)
        org.setdefault("BaseCurrency", "USD")
        org.setdefault("Timezone", "UTC")
        with self.lock:
            if tenant in self.tenants:
                raise ValueError(f"tenant {tenant} already exists")
            self.tenants[tenant] = Tenant(id=tenant, organisation=org)
            self.identity._connect_rows({tenant: org["Name"]}, self.now())
        logger.info("xero sandbox organisation added tenant=%s", tenant)
        return tenant

    def connect(
        self, tenant_id: str, connection: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """(Re)connect a tenant; `connection` replaces its /connections row verbatim."""
        tenant = self._tenant(tenant_id)
        with self.lock:
            if connection is not None:
                self.identity.connections[tenant.id] = dict(connection)
            else:
                self.identity._connect_rows({tenant.id: tenant.name}, self.now())
            return dict(self.identity.connections[tenant.id])

    def disconnect(self, tenant_id: str) -> None:
        """Remove a tenant's connection: calls naming it then get 403."""
        with self.lock:
            self.identity.connections.pop(tenant_id.lower(), None)

    def consent_tenants(self) -> dict[str, str]:
        """Tenants an authorization consents to: all of them (auto-consent)."""
        return {t.id: t.name for t in self.tenants.values()}

    # --- data ---------------------------------------------------------------------

    def load(
        self, tenant_id: str, data: dict[str, list[dict[str, Any]]], notify: bool = True
    ) -> None:
        """Put objects in Xero's own JSON into a tenant, replacing by id.

        Keys are collection names ("Invoices", "Contacts", "Payments", "CreditNotes",
        "Overpayments", "Prepayments"). Objects are stored as given (no totals are
        recomputed: this is how a support case is reproduced); an object without
        UpdatedDateUTC gets the clock's now. Each one emits the webhook an API write
        would (unless `notify` is False): CREATE when its id is new, UPDATE otherwise.
        """
        self._load(tenant_id, data, exact=False, notify=notify)

    def _load(
        self,
        tenant_id: str,
        data: dict[str, list[dict[str, Any]]],
        exact: bool,
        notify: bool,
    ) -> None:
        """`load`; `exact` when the data already holds Decimals (no copy needed)."""
        tenant = self._tenant(tenant_id)
        unknown = set(data) - set(ID_KEYS)
        if unknown:
            raise ValueError(f"unknown Xero collections: {sorted(unknown)}")
        # Floats from a plain json.load become Decimals (a copy, which also keeps the
        # caller's dicts from being shared with the sandbox).
        stamp: Any = (lambda obj: obj) if exact else wire.decimals
        with self.lock:
            changes: list[tuple[str, str, str]] = []
            for collection, items in data.items():
                key = ID_KEYS[collection]
                objects = tenant.collection(collection)
                for raw in items:
                    obj = stamp(raw)
                    if not obj.get(key):
                        raise ValueError(f"a {collection} object has no {key}")
                    obj_id = str(obj[key]).lower()
                    obj.setdefault("UpdatedDateUTC", _ms(self.now()))
                    event = "UPDATE" if obj_id in objects else "CREATE"
                    objects[obj_id] = obj
                    changes.append((collection, obj_id, event))
            tenant.revision += 1
            if notify:
                self.publish(tenant.id, changes)
        logger.info(
            "xero sandbox loaded tenant=%s objects=%s",
            tenant.id,
            sum(len(v) for v in data.values()),
        )

    def load_generated(self, books: GeneratedBooks) -> str:
        """Add the generated company as an organisation and load its books; its id."""
        # NOTE: building ~10 dicts per invoice makes the cyclic collector rescan an
        # ever larger heap (100,000 invoices took 23 s instead of 13 s); nothing here
        # makes cycles, so it is paused for the load and restored after.
        paused = gc.isenabled()
        gc.disable()
        try:
            return self._load_generated(books)
        finally:
            if paused:
                gc.enable()

    def _load_generated(self, books: GeneratedBooks) -> str:
        now = self.now()
        tenant_id = self.add_organisation(
            organisation(books.company, now), books.company.id
        )
        converter = Converter(books.company, now)
        data = converter.convert(
            books.customers, books.invoices, books.payments, books.credits
        )
        with self.lock:
            self.tenants[tenant_id].rates.update(converter.rates(books.invoices))
        # A company's books predate any webhook subscription: no events for them.
        self._load(tenant_id, data, exact=True, notify=False)
        return tenant_id

    def set_rate(self, tenant_id: str, currency: str, rate: Decimal | str) -> None:
        """Set the CurrencyRate (`currency` units per base unit) for new documents."""
        with self.lock:
            self._tenant(tenant_id).rates[currency.upper()] = Decimal(str(rate))

    def objects(self, tenant_id: str, collection: str) -> list[dict[str, Any]]:
        """A tenant's objects of one collection, as stored (for tests to inspect)."""
        with self.lock:
            return list(self._tenant(tenant_id).collection(collection).values())

    def history(self, tenant_id: str, object_id: str) -> list[dict[str, Any]]:
        """An object's history records, oldest first."""
        with self.lock:
            return list(self._tenant(tenant_id).history.get(object_id.lower(), []))

    # --- test and demo controls ---------------------------------------------------

    def pay_invoice(
        self,
        tenant_id: str,
        invoice_id: str,
        amount: Decimal | str,
        on: date,
        account_code: str = "090",
        reference: str = "",
    ) -> dict[str, Any]:
        """Record a payment as a bookkeeper would in Xero (webhooks included)."""
        body = {
            "Invoice": {"InvoiceID": invoice_id},
            "Account": {"Code": account_code},
            "Date": on.isoformat(),
            "Amount": Decimal(str(amount)),
            "Reference": reference,
        }
        return self._write(tenant_id, lambda books: books.create_payment(body))

    def save_invoice(self, tenant_id: str, invoice: dict[str, Any]) -> dict[str, Any]:
        """Create or update an invoice as the Xero UI would; the stored invoice."""
        body = wire.decimals(invoice)
        return self._write(
            tenant_id, lambda books: books.save_invoice(body, update=True)
        )

    def _write(self, tenant_id: str, action: Any) -> dict[str, Any]:
        tenant = self._tenant(tenant_id)
        with self.lock:
            books = Books(tenant, self.now(), self.ids, "Sandbox bookkeeper")
            try:
                result: dict[str, Any] = action(books)
            except XeroError:
                books.rollback()
                raise
            self.publish(tenant.id, books.changes)
            return result

    def issue_tokens(
        self, scope: Iterable[str] = DEFAULT_SCOPE, tenants: Iterable[str] | None = None
    ) -> dict[str, Any]:
        """A token response as if the user had just consented (tests and the demo)."""
        with self.lock:
            chosen = self.consent_tenants()
            if tenants is not None:
                wanted = {t.lower() for t in tenants}
                chosen = {k: v for k, v in chosen.items() if k in wanted}
            issuer = self.base_url or "https://identity.xero.com"
            return self.identity.grant_directly(
                self.client, list(scope), chosen, self.now(), issuer
            )

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working now (401 TokenExpired)."""
        with self.lock:
            now = self.now()
            for held in self.identity.access.values():
                if datetime.fromisoformat(held["expires"]) > now:
                    held["expires"] = now.isoformat()

    def revoke_all(self) -> None:
        """Revoke every grant, as a user disconnecting the app in Xero would."""
        with self.lock:
            for grant in self.identity.grants.values():
                grant["revoked"] = True

    def probe_intent_to_receive(self, url: str | None = None) -> IntentResult:
        """Xero's intent-to-receive handshake against `url` (default: webhook_url)."""
        return self.webhooks.probe_intent_to_receive(url)

    def deliver_webhooks(self) -> list[Delivery]:
        """Send queued events and retry due deliveries, by the sandbox clock."""
        return self.webhooks.deliver(self.now())

    def publish(self, tenant_id: str, changes: Iterable[tuple[str, str, str]]) -> None:
        """Queue webhook events for changed objects (called with the lock held)."""
        tenant = self.tenants[tenant_id]
        now = self.now()
        for collection, obj_id, event in changes:
            if collection not in CATEGORIES:
                continue
            data = None
            if collection == "CreditNotes":
                note = tenant.collection(collection).get(obj_id, {})
                data = {"Type": note.get("Type"), "Status": note.get("Status")}
            self.webhooks.emit(tenant_id, collection, obj_id, event, now, data)

    # --- persistence --------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """All state as JSON-ready data (Decimals kept; write it with `wire.dumps`)."""
        with self.lock:
            return {
                "version": 1,
                "seed": self.seed,
                "ids_issued": self.ids.issued,
                "tenants": [t.dump() for t in self.tenants.values()],
                "identity": self.identity.dump(),
                "webhook_sequence": self.webhooks.sequence,
            }

    @classmethod
    def restore(cls, state: dict[str, Any], **kw: Any) -> XeroSandbox:
        """A sandbox holding `state` from `dump()`; `kw` as for the constructor."""
        state = wire.decimals(state)
        if state.get("version") != 1:
            raise ValueError(
                f"unknown Xero sandbox dump version {state.get('version')!r}"
            )
        kw.setdefault("seed", state.get("seed", 0))
        sandbox = cls(**kw)
        sandbox.ids.issued = int(state.get("ids_issued", 0))
        for data in state.get("tenants", []):
            tenant = Tenant.restore(data)
            sandbox.tenants[tenant.id] = tenant
        identity = dict(state.get("identity", {}))
        identity["refresh_grace"] = kw.get(
            "refresh_grace", identity.get("refresh_grace", False)
        )
        sandbox.identity = Identity.restore(identity, sandbox.ids)
        sandbox.webhooks.sequence = int(state.get("webhook_sequence", 0))
        return sandbox

    # --- serving ------------------------------------------------------------------

    def start(self, port: int = 0, host: str = "127.0.0.1") -> ServerThread:
        """Serve on `host:port` in a daemon thread (port 0: a free one)."""
        server = ServerThread(self.app, port=port, host=host)
        self.base_url = server.url
        self.webhooks.api_base = f"{server.url}/api.xro/2.0"
        self._server = server.start()
        return server

    def remember_selection(self, key: tuple[Any, ...], chosen: list[Any]) -> None:
        """Keep a list GET's selection for its next pages (a few, newest kept)."""
        self.selections[key] = chosen
        while len(self.selections) > SELECTIONS_KEPT:
            self.selections.popitem(last=False)

    def stop(self) -> None:
        """Stop the server `start()` began, if any."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def _tenant(self, tenant_id: str) -> Tenant:
        tenant = self.tenants.get(tenant_id.lower())
        if tenant is None:
            raise KeyError(f"no Xero sandbox tenant {tenant_id}")
        return tenant


def _ms(instant: datetime) -> str:
    return to_ms_date(instant)
