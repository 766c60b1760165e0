"""Intuit OAuth 2.0 grants held by the sandbox: codes, access and refresh tokens.

Access tokens live 3600 s; every refresh returns a new refresh token and the spent one
answers `invalid_grant` from then on; an authorization code works once, and a replayed
one also kills the grant it produced (Intuit treats a replay as theft; case C03).
Lifetimes are measured on the injected clock.
"""

from __future__ import annotations

import logging
import random
import string
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

logger = logging.getLogger(__name__)

# TODO: Intuit's 5-year hard expiry of refresh tokens (and its new response field)
# is not modelled: a grant here lives as long as it is refreshed every 101 days.
ACCESS_LIFETIME = timedelta(seconds=3600)
REFRESH_LIFETIME = timedelta(
    days=101
)  # rolling; Intuit reports x_refresh_token_expires_in
CODE_LIFETIME = timedelta(minutes=5)
ACCOUNTING_SCOPES = (
    "com.intuit.quickbooks.accounting",
    "com.intuit.quickbooks.payment",
)


class GrantError(Exception):
    """A token request the authority refuses: `error` is the OAuth error code."""

    def __init__(self, error: str, status: int = 400) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


@dataclass
class Grant:
    """One connection: a client's access to one realm."""

    grant_id: str
    client_id: str
    realm_id: str
    scope: str
    refresh_token: str
    refresh_expires_at: datetime
    access: dict[str, datetime] = field(default_factory=dict)  # token -> expiry
    spent: list[str] = field(default_factory=list)  # refresh tokens already used
    revoked: bool = False
    code: str | None = None


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    realm_id: str | None
    expires_at: datetime
    used_by: str | None = None  # the grant its first exchange produced


class TokenAuthority:
    """Issues and checks tokens; all state here, nothing about HTTP."""

    def __init__(self, seed: int = 0) -> None:
        self._random = random.Random(f"qbo-tokens-{seed}")
        self._lock = threading.Lock()
        self.grants: dict[str, Grant] = {}
        self.codes: dict[str, Code] = {}
        self._by_refresh: dict[str, str] = {}
        self._by_access: dict[str, str] = {}

    def _token(self, prefix: str, length: int) -> str:
        alphabet = string.ascii_letters + string.digits
        return prefix + "".join(self._random.choice(alphabet) for _ in range(length))

    def issue_code(
        self,
        client_id: str,
        redirect_uri: str,
        scope: str,
        realm_id: str | None,
        now: datetime,
    ) -> str:
        """A single-use authorization code for the redirect."""
        with self._lock:
            code = self._token("AB11", 46)
            self.codes[code] = Code(
                code, client_id, redirect_uri, scope, realm_id, now + CODE_LIFETIME
            )
            return code

    def exchange_code(
        self, code: str, client_id: str, redirect_uri: str, now: datetime
    ) -> tuple[Grant, str]:
        """Spend a code: the new grant and its first access token."""
        with self._lock:
            found = self.codes.get(code)
            if found is None or found.client_id != client_id:
                raise GrantError("invalid_grant")
            if found.used_by is not None:
                # NOTE: a replayed code revokes what its first exchange issued
                # (intuit/oauth-jsclient#173, case C03).
                grant = self.grants.get(found.used_by)
                if grant is not None:
                    grant.revoked = True
                    logger.warning("qbo sandbox code replay grant=%s", grant.grant_id)
                raise GrantError("invalid_grant")
            if found.expires_at <= now or found.redirect_uri != redirect_uri:
                raise GrantError("invalid_grant")
            # an OpenID-only grant names no company; it opens no /v3 realm
            grant = self._new_grant(client_id, found.realm_id or "", found.scope, now)
            grant.code = code
            found.used_by = grant.grant_id
            return grant, self._new_access(grant, now)

    def grant_for(
        self, client_id: str, realm_id: str, scope: str, now: datetime
    ) -> tuple[Grant, str]:
        """A grant made directly (tests, the demo): skips the browser step."""
        with self._lock:
            grant = self._new_grant(client_id, realm_id, scope, now)
            return grant, self._new_access(grant, now)

    def refresh(
        self, refresh_token: str, client_id: str, now: datetime
    ) -> tuple[Grant, str]:
        """Spend a refresh token: the grant with a rotated refresh token, new access."""
        with self._lock:
            grant_id = self._by_refresh.get(refresh_token)
            grant = self.grants.get(grant_id or "")
            if (
                grant is None
                or grant.client_id != client_id
                or grant.revoked
                or grant.refresh_token != refresh_token
                or grant.refresh_expires_at <= now
            ):
                raise GrantError("invalid_grant")
            grant.spent.append(refresh_token)
            grant.refresh_token = self._token("AB11", 46)
            grant.refresh_expires_at = now + REFRESH_LIFETIME
            self._by_refresh[grant.refresh_token] = grant.grant_id
            return grant, self._new_access(grant, now)

    def revoke(self, token: str) -> bool:
        """Revoke the grant `token` (refresh or access) belongs to."""
        with self._lock:
            grant_id = self._by_refresh.get(token) or self._by_access.get(token)
            grant = self.grants.get(grant_id or "")
            if grant is None:
                return False
            grant.revoked = True
            logger.info("qbo sandbox grant revoked grant=%s", grant.grant_id)
            return True

    def check_access(self, token: str, now: datetime) -> tuple[Grant | None, str]:
        """The grant an access token opens, or None and why not."""
        with self._lock:
            grant = self.grants.get(self._by_access.get(token, ""))
            if grant is None:
                return None, "Token invalid"
            if grant.revoked:
                return None, "Token revoked"
            if grant.access[token] <= now:
                return None, "Token expired"
            return grant, ""

    def expire_access_tokens(self, now: datetime) -> int:
        """Make every access token expired at `now`; returns how many were live."""
        with self._lock:
            live = 0
            for grant in self.grants.values():
                for token, expiry in grant.access.items():
                    if expiry > now:
                        grant.access[token] = now
                        live += 1
            return live

    def _new_grant(
        self, client_id: str, realm_id: str, scope: str, now: datetime
    ) -> Grant:
        grant = Grant(
            grant_id=f"grant-{len(self.grants) + 1}",
            client_id=client_id,
            realm_id=realm_id,
            scope=scope,
            refresh_token=self._token("AB11", 46),
            refresh_expires_at=now + REFRESH_LIFETIME,
        )
        self.grants[grant.grant_id] = grant
        self._by_refresh[grant.refresh_token] = grant.grant_id
        return grant

    def _new_access(self, grant: Grant, now: datetime) -> str:
        token = self._token("eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..", 120)
        grant.access[token] = now + ACCESS_LIFETIME
        self._by_access[token] = grant.grant_id
        return token

    # --- persistence ---------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list):
                return [plain(v) for v in value]
            return value

        return {
            "grants": [plain(asdict(g)) for g in self.grants.values()],
            "codes": [plain(asdict(c)) for c in self.codes.values()],
        }

    def load(self, data: dict[str, Any]) -> None:
        with self._lock:
            for raw in data.get("grants", []):
                grant = Grant(
                    **{
                        **raw,
                        "refresh_expires_at": datetime.fromisoformat(
                            raw["refresh_expires_at"]
                        ),
                        "access": {
                            t: datetime.fromisoformat(e)
                            for t, e in raw["access"].items()
                        },
                    }
                )
                self.grants[grant.grant_id] = grant
                self._by_refresh[grant.refresh_token] = grant.grant_id
                for spent in grant.spent:
                    self._by_refresh[spent] = grant.grant_id
                for token in grant.access:
                    self._by_access[token] = grant.grant_id
            for raw in data.get("codes", []):
                code = Code(
                    **{**raw, "expires_at": datetime.fromisoformat(raw["expires_at"])}
                )
                self.codes[code.code] = code
            # a restored authority must not hand out the tokens it issued before
            self._random = random.Random(
                f"{self._random.random()}-{len(self.grants)}-{len(self.codes)}"
            )
