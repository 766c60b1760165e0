"""The QuickBooks Online sandbox controller: companies, tokens, faults, Flask app."""

from __future__ import annotations

import copy
import logging
import random
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from app import clock as clock_mod
from app.clock import Clock
from connectors.sandbox.quickbooks import api, books, oauth, openid, wire
from connectors.sandbox.quickbooks.convert import (
    SERVICES_ITEM,
    default_chart,
    to_qbo,
)
from connectors.sandbox.quickbooks.documents import flatten
from connectors.sandbox.quickbooks.gate import build_app
from connectors.sandbox.quickbooks.state import Change, Realm
from connectors.sandbox.quickbooks.tokens import (
    ACCESS_LIFETIME,
    REFRESH_LIFETIME,
    Grant,
    TokenAuthority,
)
from connectors.sandbox.quickbooks.webhooks import Notifier
from connectors.sandbox.server import (
    Faults,
    InFlight,
    RequestLog,
    ServerThread,
    WindowLimiter,
)

logger = logging.getLogger(__name__)

MINUTE_LIMIT = 500  # per realm (Intuit "Limits and throttles")
CONCURRENT_LIMIT = 10  # in flight per realm and app
# TODO: Intuit also caps 10 requests a second per realm and 40 batch calls a minute;
# neither is enforced, so a client that bursts harmlessly here can still meet 429s
# from Intuit. (A frozen simulated clock would make a per-second window fire at once.)
DEFAULT_REDIRECT = "http://127.0.0.1:5000/connect/quickbooks/callback"
DEFAULT_SCOPE = "com.intuit.quickbooks.accounting"


class Quirks:
    """QuickBooks-only fault controls, beside the shared `Faults`."""

    def __init__(self) -> None:
        self.page_overrun = 0  # extra rows past MAXRESULTS on every query page (C10 d)


class QuickBooksSandbox:
    """A local QuickBooks Online: build it, load companies, then `start()` it."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        client_id: str = "care-sandbox-qbo",
        client_secret: str = "TESTONLY-qbo-client-secret",  # noqa: S107 (a test value)
        redirect_uris: tuple[str, ...] | list[str] = (DEFAULT_REDIRECT,),
        verifier_token: str = "TESTONLY-qbo-verifier-token",  # noqa: S107
        webhook_url: str | None = None,
        webhook_format: str = "cloudevents",
        rate_limits: bool = True,
        seed: int = 0,
    ) -> None:
        self.clock = clock
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = tuple(redirect_uris)
        self.verifier_token = verifier_token
        self.seed = seed
        self.realms: dict[str, Realm] = {}
        self.tokens = TokenAuthority(seed)
        self.faults = Faults(rate_limits=rate_limits, seed=seed)
        self.quirks = Quirks()
        self.log = RequestLog()
        self.minute = WindowLimiter(MINUTE_LIMIT, timedelta(minutes=1))
        self.in_flight = InFlight(CONCURRENT_LIMIT)
        self.notifier = Notifier(
            webhook_url,
            verifier_token,
            self.now,
            lambda realm_id: self.realms[realm_id].timezone,
            webhook_format,
            seed,
        )
        self.consent_realm_id: str | None = None
        self._random = random.Random(f"qbo-realms-{seed}")
        self.signer = openid.Signer()
        self._lock = threading.Lock()
        self._server: ServerThread | None = None
        self.app = build_app(self)

    # --- time ------------------------------------------------------------------

    def now(self) -> datetime:
        """The sandbox's instant: the clock passed in, else the product's clock."""
        return (self.clock or clock_mod).now()

    # --- companies -------------------------------------------------------------

    def add_company(
        self,
        company_info: dict[str, Any],
        preferences: dict[str, Any] | None = None,
        realm_id: str | None = None,
        *,
        timezone: str | None = None,
        chart: bool = True,
    ) -> str:
        """Add a company from its CompanyInfo (and Preferences) JSON; returns the realm.

        The time zone is `timezone`, else CompanyInfo.DefaultTimeZone, else
        America/Los_Angeles (Intuit's own). `chart` adds the default accounts and the
        "Services" item a new QBO company starts with.
        """
        with self._lock:
            if realm_id is None:
                realm_id = str(
                    self._random.randrange(9130000000000000, 9139999999999999)
                )
            if not str(realm_id).isdigit():
                raise ValueError(f"a realm id is a string of digits, got {realm_id!r}")
            if realm_id in self.realms:
                raise ValueError(f"realm {realm_id} already exists")
            tz = (
                timezone or company_info.get("DefaultTimeZone") or "America/Los_Angeles"
            )
            info = {
                "CompanyName": "Sandbox Company",
                **company_info,
                "DefaultTimeZone": tz,
            }
            realm = Realm(str(realm_id), info, preferences or {}, tz, self.now)
            self.realms[realm.realm_id] = realm
        if chart:
            self.load(realm.realm_id, default_chart(realm.home_currency), notify=False)
        logger.info("qbo sandbox company added realm=%s", realm.realm_id)
        return realm.realm_id

    def realm(self, realm_id: str) -> Realm:
        """The realm `realm_id`, or the fault QBO answers for an unknown company."""
        realm = self.realms.get(str(realm_id))
        if realm is None:
            raise wire.QboFault(
                "6190",
                "Invalid Company Status",
                f"Company {realm_id} does not exist or is not active",
            )
        return realm

    def consent_realm(self) -> str | None:
        """The company the auto-consent screen connects: set, else the first."""
        if self.consent_realm_id:
            return self.consent_realm_id
        return next(iter(self.realms), None)

    def load(
        self,
        realm_id: str,
        data: dict[str, Any],
        notify: bool = True,
        *,
        owned: bool = False,
    ) -> list[Change]:
        """Put objects in QBO's JSON into a company, replacing by Id.

        `data` is `{entity: [objects]}` or API answers as saved (see `documents`).

        `{"Id": .., "status": "Deleted"}` deletes; "ExchangeRate" entries
        (SourceCurrencyCode, Rate, AsOfDate) fill the rate table. Each change is sent
        to the webhook like an API write would be (unless `notify` is False).
        `owned` says the caller hands the dicts over (no copy is taken).
        """
        realm = self.realm(realm_id)
        changes: list[Change] = []
        with realm.lock:
            for entity, objects in flatten(data).items():
                for raw in objects:
                    change = self._load_one(
                        realm, entity, raw if owned else _exact(raw)
                    )
                    if change is not None:
                        changes.append(change)
        if notify:
            self.notify(changes)
        return changes

    def _load_one(
        self, realm: Realm, entity: str, raw: dict[str, Any]
    ) -> Change | None:
        if entity == "ExchangeRate":
            rate = Decimal(str(raw["Rate"]))
            day = str(raw.get("AsOfDate") or realm.today().isoformat())
            realm.exchange_rates.setdefault(raw["SourceCurrencyCode"], {})[day] = rate
            return None
        if entity in ("CompanyInfo", "Preferences"):
            raw["Id"] = "1"  # one per company, whatever Id the file gives
            zone = raw.get("DefaultTimeZone")
            if entity == "CompanyInfo" and zone:
                ZoneInfo(str(zone))  # an unknown zone fails the load, not a later write
                realm.timezone = str(zone)
        if "Id" not in raw:
            raise ValueError(f"{entity} objects to load need an Id: {raw!r}")
        object_id = str(raw["Id"])
        if raw.get("status") == "Deleted":
            if realm.get(entity, object_id) is None:
                realm.put(entity, {"Id": object_id})  # deleted before we ever saw it
            realm.remove(entity, object_id)
            return realm.change(entity, object_id, "Delete")
        known = realm.get(entity, object_id) is not None
        _server_defaults(realm, entity, raw)
        realm.put(entity, realm.stamped(entity, raw))
        return realm.change(entity, object_id, "Update" if known else "Create")

    def load_generated(self, generated: Any) -> str:
        """Load the shared generator's `GeneratedBooks`; returns the realm id."""
        info, preferences, data = to_qbo(generated)
        realm_id = self.add_company(
            info, preferences, generated.company.id, timezone=generated.company.timezone
        )
        self.load(realm_id, data, notify=False, owned=True)
        return realm_id

    def get(self, realm_id: str, entity: str, object_id: str) -> dict[str, Any] | None:
        """A stored object as the API would return it (a copy), or None."""
        realm = self.realm(realm_id)
        with realm.lock:
            found = realm.get(entity, str(object_id))
            return copy.deepcopy(found) if found is not None else None

    # --- test and demo controls ------------------------------------------------

    def issue_tokens(self, realm_id: str, scope: str = DEFAULT_SCOPE) -> dict[str, Any]:
        """A token response for a new grant on `realm_id`, as if a person consented."""
        self.realm(realm_id)
        grant, access = self.tokens.grant_for(
            self.client_id, realm_id, scope, self.now()
        )
        return {
            "token_type": "bearer",
            "access_token": access,
            "refresh_token": grant.refresh_token,
            "expires_in": int(ACCESS_LIFETIME.total_seconds()),
            "x_refresh_token_expires_in": int(REFRESH_LIFETIME.total_seconds()),
            "realm_id": realm_id,
        }

    def expire_access_tokens(self) -> int:
        """Expire every live access token now; returns how many there were."""
        return self.tokens.expire_access_tokens(self.now())

    def revoke(self, token: str) -> bool:
        """Revoke the grant a refresh or access token belongs to (as a disconnect)."""
        return self.tokens.revoke(token)

    def grants(self) -> list[Grant]:
        """Every grant issued, revoked ones included."""
        return list(self.tokens.grants.values())

    def pay_invoice(
        self,
        realm_id: str,
        invoice_id: str,
        amount: Decimal | str,
        on: date | None = None,
    ) -> str:
        """Record a customer payment against one invoice, as a person would in QBO."""
        realm = self.realm(realm_id)
        invoice = realm.get("Invoice", str(invoice_id))
        if invoice is None:
            raise ValueError(f"realm {realm_id} has no invoice {invoice_id}")
        body = {
            "CustomerRef": {"value": invoice["CustomerRef"]["value"]},
            "TotalAmt": Decimal(str(amount)),
            "TxnDate": (on or realm.today()).isoformat(),
            "Line": [
                {
                    "Amount": Decimal(str(amount)),
                    "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}],
                }
            ],
        }
        payment, changes = books.create(realm, "Payment", body)
        self.notify(changes)
        return str(payment["Id"])

    def write(
        self, realm_id: str, entity: str, body: dict[str, Any], operation: str = ""
    ) -> dict[str, Any]:
        """Change the books as a person in the QBO screens would (webhooks included)."""
        realm = self.realm(realm_id)
        obj, changes = api._write(realm, entity, copy.deepcopy(body), operation, "")
        self.notify(changes)
        return copy.deepcopy(obj)

    def notify(self, changes: list[Change]) -> None:
        self.notifier.notify(changes)

    def deliver_pending(self) -> int:
        """Deliver webhooks now due (by the clock); returns how many succeeded."""
        return self.notifier.deliver_pending()

    # --- OpenID ------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        return self.signer.jwks()

    def id_token(self, grant: Grant, base: str) -> str:
        """The id_token of a code exchange with the openid scope, signed RS256."""
        claims = openid.id_token_claims(
            client_id=self.client_id,
            issuer=base + oauth.ISSUER_PATH,
            subject=f"sandbox-user-{grant.grant_id}",
            realm_id=grant.realm_id,
            issued=int(self.now().timestamp()),
        )
        return self.signer.sign(claims)

    def rotate_signing_key(self) -> str:
        """Sign id_tokens with a new key (a new kid) from now on; returns the kid."""
        return self.signer.rotate()

    def userinfo(self, grant: Grant) -> dict[str, Any]:
        realm = self.realms.get(grant.realm_id)
        email = (
            (realm.company_info.get("Email") or {}).get("Address") if realm else None
        )
        return {
            "sub": f"sandbox-user-{grant.grant_id}",
            "email": email or "owner@sandbox.example",
            "emailVerified": True,
            "givenName": "Sandbox",
            "familyName": "Owner",
        }

    # --- persistence -------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """All state as JSON-ready data (amounts as Decimal; use `wire.dumps`)."""
        return {
            "realms": {rid: realm.dump() for rid, realm in self.realms.items()},
            "tokens": self.tokens.dump(),
            "consent_realm": self.consent_realm_id,
            "signing_keys": self.signer.dump(),
        }

    @classmethod
    def restore(cls, state: dict[str, Any], **kw: Any) -> QuickBooksSandbox:
        """A sandbox holding `state` from `dump()`; `kw` as for the constructor."""
        sandbox = cls(**kw)
        for realm_id, data in state.get("realms", {}).items():
            sandbox.realms[realm_id] = Realm.restore(data, sandbox.now)
        sandbox.tokens.load(state.get("tokens", {}))
        sandbox.consent_realm_id = state.get("consent_realm")
        sandbox.signer = openid.Signer(state.get("signing_keys"))
        return sandbox

    # --- serving -----------------------------------------------------------------

    def start(
        self, port: int = 0, *, webhooks_in_background: bool = True
    ) -> ServerThread:
        """Serve on 127.0.0.1 in a daemon thread (port 0 picks a free one)."""
        self._server = ServerThread(self.app, port).start()
        if webhooks_in_background and self.notifier.url:
            self.notifier.start()
        return self._server

    def stop(self) -> None:
        self.notifier.stop()
        if self._server is not None:
            self._server.stop()
            self._server = None


def _server_defaults(realm: Realm, entity: str, obj: dict[str, Any]) -> None:
    """Fill what QBO itself sets on every stored object, where a payload left it out.

    Support-case payloads are often abridged; QBO never stores an invoice without
    TxnDate, lines or Balance, nor a payment without TxnDate, so neither does this.
    """
    if entity in ("Customer", "Vendor"):
        obj.setdefault("Active", True)
    if entity not in ("Invoice", "CreditMemo", "Payment", "Bill"):
        return
    if "TxnDate" not in obj:  # asking the clock costs a Redis call in the demo
        obj["TxnDate"] = realm.today().isoformat()
    lines = obj.get("Line")
    if entity == "Payment":
        obj.setdefault("Line", [])
        if "TotalAmt" in obj and "UnappliedAmt" not in obj:
            applied = sum(Decimal(str(line.get("Amount") or 0)) for line in obj["Line"])
            obj["UnappliedAmt"] = Decimal(str(obj["TotalAmt"])) - applied
        return
    if "TotalAmt" not in obj and lines:
        obj["TotalAmt"] = sum(
            Decimal(str(line.get("Amount") or 0))
            for line in lines
            if line.get("DetailType") != "SubTotalLineDetail"
        )
    if not lines and "TotalAmt" in obj and entity != "Bill":
        obj["Line"] = [
            {
                "Amount": obj["TotalAmt"],
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": dict(SERVICES_ITEM)},
            }
        ]
    if entity in ("Invoice", "Bill") and "TotalAmt" in obj:
        obj.setdefault("Balance", obj["TotalAmt"])  # nothing paid on it yet


def _exact(value: Any) -> Any:
    """A copy of JSON-like `value`, every float turned into the Decimal it reads as."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact(v) for v in value]
    return value


__all__ = ["QuickBooksSandbox", "Quirks"]
