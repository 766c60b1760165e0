"""One Xero tenant's session over xero-python 15.x: tokens, call budget, errors.

Every Accounting API 2.0 call goes through `XeroClient.call`, which takes a slot of
the tenant's shared budget, sends the request with a fresh access token, gives a 401
one refresh and one retry, and turns whatever went wrong into connectors.xero.errors.
Bodies come back raw (`_preload_content=False`) and are parsed here with
`parse_float=Decimal`, so the mapping can take one bad record out of a page instead
of the SDK's deserializer failing the whole page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import redis as redis_lib
import urllib3
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import ApiException, HTTPStatusException
from xero_python.identity import IdentityApi
from xero_python.rest import RESTClientObject

from app import clock as clock_mod
from app.config import LedgerApp
from connectors.base import LedgerError, TokenSet, TokenStore
from connectors.budget import XERO_LIMITS, CallBudget
from connectors.tokens import InvalidGrantError, TokenKeeper
from connectors.xero.errors import (
    XeroReconnectError,
    XeroRetryError,
    XeroWaitError,
    classify,
    is_invalid_grant,
)

logger = logging.getLogger(__name__)

# (connect, read) seconds; Xero answers well inside this or not at all.
DEFAULT_TIMEOUT = (5.0, 60.0)
# Xero refresh tokens die after 60 days unused (xero-python README, "Token Set").
REFRESH_LIFETIME = timedelta(days=60)


class _TimedRestClient(RESTClientObject):
    """The SDK's REST client with a timeout on every request, token calls included."""

    timeout: tuple[float, float] = DEFAULT_TIMEOUT

    def request(self, method, url, *args, _request_timeout=None, **kwargs):  # type: ignore[no-untyped-def]
        # TokenApi passes no timeout, and urllib3 reads an explicit None as "wait
        # forever", so a stalled token endpoint would hang the worker.
        return super().request(
            method,
            url,
            *args,
            _request_timeout=_request_timeout or self.timeout,
            **kwargs,
        )


def token_api_class(app: LedgerApp) -> type[TokenApi]:
    """TokenApi whose endpoint URLs come from `app` (the sandbox or the real Xero)."""
    # A subclass, not the SDK's class attributes: two apps in one process (tests, the
    # demo) must not point each other's refreshes at the wrong server.
    return type(
        "ConfiguredTokenApi",
        (TokenApi,),
        {
            "refresh_token_url": app.token_url,
            "revoke_token_url": app.revoke_url,
            "client_credentials_token_url": app.token_url,
        },
    )


def build_api_client(
    app: LedgerApp,
    getter: Callable[[], dict[str, Any]],
    saver: Callable[[dict[str, Any]], None],
    *,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
) -> ApiClient:
    """An ApiClient on `app`'s credentials with urllib3's own retries turned off."""
    config = Configuration(oauth2_token=OAuth2Token(app.client_id, app.client_secret))
    api_client = ApiClient(
        config, pool_threads=1, oauth2_token_getter=getter, oauth2_token_saver=saver
    )
    rest = _TimedRestClient(config)
    rest.timeout = timeout
    # NOTE: the SDK builds its PoolManager without `retries`, so urllib3's default
    # Retry(3) honours Retry-After on 429/503 and blocks for 3 x Retry-After (hours on
    # a day limit) before raising. Off: the budget and the job queue do the waiting.
    # LEDGER-APIS.md section 5, trap 13.
    rest.pool_manager.connection_pool_kw["retries"] = urllib3.Retry(
        total=0, respect_retry_after_header=False
    )
    api_client.rest_client = rest
    return api_client


def token_set(data: dict[str, Any], now: datetime) -> TokenSet:
    """A TokenSet from a token endpoint response, expiries on the product clock."""
    try:
        expires_in = int(data["expires_in"])
        access, refresh = str(data["access_token"]), str(data["refresh_token"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"token response lacks {exc}") from None
    scope = data.get("scope") or ()
    return TokenSet(
        access_token=access,
        refresh_token=refresh,
        expires_at=now + timedelta(seconds=expires_in),
        refresh_expires_at=now + REFRESH_LIFETIME,
        scope=tuple(scope.split() if isinstance(scope, str) else scope),
        id_token=data.get("id_token"),
    )


class XeroClient:
    """Calls for one tenant; `calls` counts requests sent to the Accounting API."""

    def __init__(
        self,
        app: LedgerApp,
        store: TokenStore,
        redis: redis_lib.Redis,
        tenant_id: str,
        *,
        clock: clock_mod.Clock | None = None,
        budget: CallBudget | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        if not tenant_id:
            raise ValueError("a Xero client needs the tenant id it speaks for")
        missing = [
            name
            for name in ("client_id", "client_secret", "token_url", "api_base")
            if not getattr(app, name)
        ]
        if missing:
            raise ValueError(f"the Xero app settings lack {', '.join(missing)}")
        self.app = app
        self.tenant_id = tenant_id
        self.calls = 0
        self._store = store
        self._clock = clock
        self._timeout = timeout
        self._in_use: TokenSet | None = None
        self.keeper = TokenKeeper(
            store, self._refresh, name=f"xero:{tenant_id}", clock=clock
        )
        self.budget = budget or CallBudget(
            redis, f"xero:{tenant_id}", XERO_LIMITS, clock=clock
        )
        self.api_client = build_api_client(
            app, self._sdk_token, self._sdk_saved, timeout=timeout
        )
        self.accounting = AccountingApi(self.api_client, base_url=app.api_base)
        self.identity = IdentityApi(self.api_client, base_url=app.identity_base)
        self.token_api = token_api_class(app)(
            self.api_client, app.client_id, app.client_secret
        )

    def now(self) -> datetime:
        """The product clock's now (UTC)."""
        return (self._clock or clock_mod.get_clock()).now()

    def call(self, what: str, method: Callable[..., Any], **kwargs: Any) -> Any:
        """`method(tenant, **kwargs)` through budget and token keeper; parsed JSON."""
        refreshed = False
        while True:
            tokens = self.keeper.current()
            try:
                return self._send(tokens, method, kwargs)
            except HTTPStatusException as exc:
                if exc.status == 401 and not refreshed and not is_invalid_grant(exc):
                    # One refresh and one retry, never more (STYLE.md point 7).
                    logger.info(
                        "401, refreshing once tenant=%s what=%s", self.tenant_id, what
                    )
                    refreshed = True
                    self.keeper.refresh(stale=tokens)
                    continue
                raise self._translate(exc, what) from exc
            except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
                raise self._translate(exc, what) from exc

    def connections(self) -> list[dict[str, Any]]:
        """GET /Connections with this connection's tokens (no tenant, no budget)."""
        self._in_use = self.keeper.current()
        try:
            response = self.identity.get_connections(
                _preload_content=False, _request_timeout=self._timeout
            )
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise classify(exc, what=f"connections tenant={self.tenant_id}") from exc
        return list(parse_body(response) or [])

    def _send(self, tokens: TokenSet, method: Callable[..., Any], kwargs: dict) -> Any:
        self._in_use = tokens
        with self.budget.call():
            self.calls += 1
            response = method(
                self.tenant_id,
                _preload_content=False,
                _request_timeout=self._timeout,
                **kwargs,
            )
            return parse_body(response)

    def _translate(self, exc: BaseException, what: str) -> LedgerError:
        error = classify(exc, what=f"{what} tenant={self.tenant_id}")
        if isinstance(error, XeroReconnectError):
            # A 401 that outlived a refresh, or a 403 for a tenant no longer
            # connected: no retry will help, so stop every worker on this connection.
            self._store.needs_reconnect(f"xero answered {error.status}: {error}")
        if isinstance(error, XeroWaitError):
            # Every worker on this tenant stops until Xero's window reopens.
            self.budget.pause_until(
                self.now() + timedelta(seconds=error.retry_after), error.scope
            )
            logger.warning(
                "xero rate limit tenant=%s scope=%s retry_after=%s",
                self.tenant_id,
                error.scope,
                error.retry_after,
            )
        return error

    def _sdk_token(self) -> dict[str, Any]:
        # NOTE: no expires_at on purpose. The SDK would compare it with the wall clock
        # and refresh on its own, outside the keeper's lock (two workers spending one
        # refresh token, case C01/C02). The keeper refreshes on the product clock
        # before each call and after a 401, so the SDK never needs to.
        tokens = self._in_use or self.keeper.current()
        return {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "scope": list(tokens.scope),
            "expires_in": None,
            "token_type": "Bearer",
            "id_token": tokens.id_token,
        }

    def _sdk_saved(self, data: dict[str, Any]) -> None:
        # Only reached if something calls the SDK's own refresh; keep what it got.
        if data.get("access_token") and data.get("refresh_token"):
            self._store.save(token_set(data, self.now()))

    def _refresh(self, refresh_token: str) -> TokenSet:
        scope = list(self._store.load().scope)
        try:
            data = self.token_api.refresh_token(refresh_token, scope)
        except HTTPStatusException as exc:
            if is_invalid_grant(exc):
                raise InvalidGrantError("xero refused the refresh token") from exc
            raise classify(exc, what=f"token refresh tenant={self.tenant_id}") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise classify(exc, what=f"token refresh tenant={self.tenant_id}") from exc
        return token_set(data, self.now())


def parse_body(response: Any) -> Any:
    """A raw SDK response's JSON body (floats as Decimal), its connection released."""
    try:
        raw = response.data
    finally:
        release = getattr(response, "release_conn", None)
        if release is not None:
            release()
    if not raw:
        return None
    try:
        return json.loads(raw, parse_float=Decimal)
    except ValueError as exc:
        # A 200 whose body was cut off on the way: the next attempt will do.
        raise XeroRetryError(f"unreadable JSON body ({len(raw)} bytes)") from exc


__all__ = [
    "XeroClient",
    "build_api_client",
    "parse_body",
    "token_api_class",
    "token_set",
]
