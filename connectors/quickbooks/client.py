"""The QuickBooks Online v3 client: intuit-oauth and python-quickbooks, wired for CARE.

Speaks QBO Accounting v3 at minorversion 75 through python-quickbooks 0.9.12, and the
token endpoints through intuit-oauth 1.2.6 (LEDGER-APIS.md sections 2, 3 and 7). Every
call takes a slot of the realm's shared budget, carries a live token from the
`TokenKeeper`, and turns SDK exceptions into the neutral error family.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import redis as redis_lib
import requests
from intuitlib.client import AuthClient
from intuitlib.exceptions import AuthClientError
from quickbooks import QuickBooks
from quickbooks import exceptions as qbx

from app import clock as clock_mod
from app.config import LedgerApp
from connectors.base import LedgerError, TokenSet, TokenStore, WaitError
from connectors.budget import QUICKBOOKS_LIMITS, CallBudget
from connectors.quickbooks import errors
from connectors.tokens import InvalidGrantError, TokenKeeper

logger = logging.getLogger(__name__)

MINOR_VERSION = 75
# NOTE: python-quickbooks and intuit-oauth call requests without a timeout, so a hung
# socket would hold a worker (and a concurrency slot) forever. Connect fast, read long:
# QBO queries of 1,000 rows take seconds.
TIMEOUT = (5.0, 60.0)

T = TypeVar("T")
SDK_ERRORS = (qbx.QuickbooksException, AuthClientError, requests.RequestException)


class TimedAuthClient(AuthClient):
    """intuit-oauth's AuthClient (a requests.Session) with a default timeout."""

    timeout: float | tuple[float, float] = TIMEOUT

    def request(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


class TimedQuickBooks(QuickBooks):
    """python-quickbooks' client with a timeout on every API request."""

    timeout: float | tuple[float, float] = TIMEOUT

    def process_request(  # type: ignore[no-untyped-def]
        self, request_type, url, headers="", params="", data=""
    ):
        if self.session is None:
            raise qbx.QuickbooksException("No session manager")
        headers.update({"Authorization": "Bearer " + self.session.access_token})
        return self.session.request(
            request_type,
            url,
            headers=headers,
            params=params,
            data=data,
            timeout=self.timeout,
        )


def quote(value: str) -> str:
    """`value` as a QBO query literal: single quotes, `\\'` and `\\\\` escaped (C07)."""
    if not isinstance(value, str):
        raise TypeError(f"a query literal must be a string, got {type(value).__name__}")
    if any(ord(ch) < 32 for ch in value):
        raise ValueError(f"control character in query literal {value!r}")
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def select(
    entity: str,
    where: str = "",
    *,
    order: str | None = "Id",
    start: int | None = None,
    max_results: int | None = None,
) -> str:
    """A QBO query statement; every literal in `where` must come from `quote`."""
    if not entity.isalpha():
        raise ValueError(f"not a QBO entity name: {entity!r}")
    if start is not None and start < 1:
        raise ValueError(f"STARTPOSITION is 1-based, got {start}")
    # Not SQL: a QBO query, whose literals `quote` escapes (C07).
    parts = [f"SELECT * FROM {entity}"]  # noqa: S608
    if where:
        parts.append(f"WHERE {where}")
    if order:
        parts.append(f"ORDERBY {order}")
    if start is not None:
        parts.append(f"STARTPOSITION {start}")
    if max_results is not None:
        parts.append(f"MAXRESULTS {max_results}")
    return " ".join(parts)


def dumps(body: object) -> str:
    """JSON for a QBO request body; Decimals go out as exact number literals."""
    if isinstance(body, Decimal):
        if not body.is_finite():
            raise ValueError(f"not a finite amount: {body}")
        return format(body, "f")
    if isinstance(body, float):
        raise TypeError("money is never a float; pass a Decimal")
    if isinstance(body, dict):
        items = (f"{json.dumps(str(k))}:{dumps(v)}" for k, v in body.items())
        return "{" + ",".join(items) + "}"
    if isinstance(body, list | tuple):
        return "[" + ",".join(dumps(v) for v in body) + "]"
    return json.dumps(body)


class QuickBooksClient:
    """One realm's API access: tokens, budget, timeouts and error translation."""

    def __init__(
        self,
        app: LedgerApp,
        realm_id: str,
        store: TokenStore,
        redis: redis_lib.Redis,
        *,
        clock: clock_mod.Clock | None = None,
        budget: CallBudget | None = None,
        timeout: float | tuple[float, float] = TIMEOUT,
    ) -> None:
        if not realm_id.isdigit():
            raise ValueError(f"a QuickBooks realm id is numeric, got {realm_id!r}")
        if not app.discovery_url or not app.api_base:
            raise ValueError("the QuickBooks app needs discovery_url and api_base")
        self.app = app
        self.realm_id = realm_id
        self.store = store
        self.clock = clock
        self.timeout = timeout
        self.budget = budget or CallBudget(
            redis, f"qbo:{realm_id}", QUICKBOOKS_LIMITS, clock=clock
        )
        self.keeper = TokenKeeper(
            store, self._refresh, name=f"qbo:{realm_id}", clock=clock
        )
        self.calls = 0  # HTTP requests made: discovery, token and API endpoints
        self.api_calls = 0  # of which to the accounting API (/v3)
        self._lock = threading.RLock()
        self._auth: AuthClient | None = None
        self._qb: QuickBooks | None = None
        self._qb_token: str | None = None

    def now(self) -> datetime:
        return (self.clock or clock_mod.get_clock()).now()

    # -- the call loop -------------------------------------------------------------

    def call(self, what: str, op: Callable[[QuickBooks], T]) -> T:
        """Run `op` with a live session; one refresh and one retry on a 401."""
        tokens = self.keeper.current()
        refreshed = False
        while True:
            qb = self._session(tokens)
            try:
                with self.budget.call():
                    self._count(api=True)
                    return op(qb)
            except SDK_ERRORS as exc:
                if errors.is_unauthorized(exc) and not refreshed:
                    logger.info(
                        "401, refreshing once realm=%s call=%s", self.realm_id, what
                    )
                    refreshed = True
                    tokens = self.keeper.refresh(stale=tokens)
                    continue
                raise self._translate(what, exc, after_refresh=refreshed) from exc

    def _translate(
        self, what: str, exc: BaseException, *, after_refresh: bool
    ) -> LedgerError:
        err = errors.classify(exc)
        if isinstance(err, WaitError):
            self.budget.pause_until(
                self.now() + timedelta(seconds=err.retry_after), err.scope
            )
            logger.warning(
                "throttled realm=%s call=%s wait=%ss",
                self.realm_id,
                what,
                err.retry_after,
            )
        elif isinstance(err, errors.QuickBooksReconnectError):
            # A fresh token refused too (401 after the refresh), or a 403: the app's
            # access to this realm was revoked in QBO.
            reason = "unauthorized after refresh" if after_refresh else "forbidden"
            self.store.needs_reconnect(reason)
            logger.error("access refused realm=%s reason=%s", self.realm_id, reason)
        else:
            logger.warning(
                "call failed realm=%s call=%s error=%s",
                self.realm_id,
                what,
                type(err).__name__,
            )
        return err

    # -- API helpers -----------------------------------------------------------------

    def query(self, statement: str) -> dict[str, Any]:
        """The QueryResponse of one QBO query statement."""
        result = self.call("query", lambda qb: qb.query(statement))
        response: dict[str, Any] = result.get("QueryResponse") or {}
        return response

    def read(self, entity: str, ledger_id: str) -> dict[str, Any]:
        """One object by its Id, e.g. read("Invoice", "130")."""
        if not ledger_id.isdigit():
            raise errors.QuickBooksFixError(f"not a QuickBooks id: {ledger_id!r}")
        result = self.call(
            f"read {entity}", lambda qb: qb.get_single_object(entity, ledger_id)
        )
        return dict(result[entity])

    def write(
        self, entity: str, body: dict[str, Any], request_id: str | None = None
    ) -> dict[str, Any]:
        """Create or update (sparse when the body says so) one object."""
        text = dumps(body)
        result = self.call(
            f"write {entity}",
            lambda qb: qb.update_object(entity, text, request_id=request_id),
        )
        return dict(result[entity])

    def get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        """GET {api_base}/company/{realm}/{path}, e.g. "cdc" or "exchangerate"."""

        def op(qb: QuickBooks) -> dict[str, Any]:
            url = f"{qb.api_url}/company/{self.realm_id}/{path}"
            return dict(qb.get(url, params=dict(params or {})))

        return self.call(f"get {path}", op)

    # -- tokens ------------------------------------------------------------------------

    def auth_client(self) -> AuthClient:
        """The app's intuit-oauth client (fetches the discovery document once)."""
        with self._lock:
            if self._auth is None:
                self._count(api=False)
                try:
                    self._auth = TimedAuthClient(
                        self.app.client_id,
                        self.app.client_secret,
                        self.app.redirect_uri,
                        self.app.discovery_url,
                        realm_id=self.realm_id,
                    )
                except (AuthClientError, requests.RequestException) as exc:
                    raise errors.QuickBooksRetryError(
                        "QuickBooks discovery document unavailable"
                    ) from exc
            return self._auth

    def _refresh(self, refresh_token: str) -> TokenSet:
        # Runs under the keeper's lock; a private AuthClient keeps threads apart.
        auth = self.auth_client()
        self._count(api=False)
        try:
            with self._lock:
                auth.refresh(refresh_token=refresh_token)
                return token_set(auth, self.now())
        except AuthClientError as exc:
            if errors.is_invalid_grant(exc):
                raise InvalidGrantError("invalid_grant") from exc
            raise errors.classify(exc) from exc
        except requests.RequestException as exc:
            raise errors.classify(exc) from exc

    def revoke(self) -> None:
        """Revoke the refresh token (and with it the access token) at Intuit."""
        tokens = self.store.load()
        auth = self.auth_client()
        self._count(api=False)
        try:
            auth.revoke(token=tokens.refresh_token)
        except (AuthClientError, requests.RequestException) as exc:
            raise errors.classify(exc) from exc
        logger.info("tokens revoked realm=%s", self.realm_id)

    def _session(self, tokens: TokenSet) -> QuickBooks:
        # NOTE: a QuickBooks object captures the bearer when it is built and keeps
        # sending it after AuthClient.refresh() (LEDGER-APIS.md trap 2): build a new
        # one whenever the access token changes.
        auth = self.auth_client()
        with self._lock:
            if self._qb is None or self._qb_token != tokens.access_token:
                auth.access_token = tokens.access_token
                auth.refresh_token = tokens.refresh_token
                qb = TimedQuickBooks(
                    auth_client=auth,
                    refresh_token=tokens.refresh_token,
                    company_id=self.realm_id,
                    minorversion=MINOR_VERSION,
                    use_decimal=True,
                )
                qb.api_url_v3 = self.app.api_base.rstrip("/")
                qb.timeout = self.timeout
                self._qb, self._qb_token = qb, tokens.access_token
            return self._qb

    def _count(self, *, api: bool) -> None:
        with self._lock:
            self.calls += 1
            if api:
                self.api_calls += 1


def token_set(auth: AuthClient, now: datetime) -> TokenSet:
    """The TokenSet an AuthClient holds after an exchange or a refresh."""
    if not auth.access_token or not auth.refresh_token:
        raise errors.QuickBooksFixError("token response without tokens")
    refresh_life = auth.x_refresh_token_expires_in
    return TokenSet(
        access_token=auth.access_token,
        refresh_token=auth.refresh_token,
        expires_at=now + timedelta(seconds=int(auth.expires_in or 3600)),
        refresh_expires_at=(
            now + timedelta(seconds=int(refresh_life)) if refresh_life else None
        ),
        scope=("com.intuit.quickbooks.accounting",),
        extra={"realm_id": str(auth.realm_id or "")},
    )
