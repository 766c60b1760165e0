"""Configuration, read once from the environment.

The platform names (`DATABASE_URL`, `REDIS_URL`, `SECRET_KEY`) come first; without them
CARE falls back to embedded defaults (SQLite in the data folder, an embedded Redis) so
`make demo` and `make test` need nothing installed by hand. Everything else takes a
`Settings` as an argument instead of reading the environment itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


@dataclass(frozen=True)
class LedgerApp:
    """One ledger app's credentials and where its endpoints live."""

    client_id: str = ""
    client_secret: str = ""
    redirect_uri: str = ""
    webhook_key: str = ""
    # QuickBooks: the OpenID discovery document; Xero: authorize/token/revoke URLs.
    discovery_url: str = ""
    authorize_url: str = ""
    token_url: str = ""
    revoke_url: str = ""
    identity_base: str = ""
    api_base: str = ""
    web_base: str = ""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str = ""
    redis_url: str = ""
    secret_key: str = ""
    encryption_keys: tuple[str, ...] = ()
    clock: str = "system"
    base_url: str = "http://127.0.0.1:5000"
    # Proxies in front of the web app that append to X-Forwarded-For (1 behind
    # Heroku's router): the sign-in throttle counts the address they saw.
    proxy_hops: int = 0
    quickbooks: LedgerApp = field(default_factory=LedgerApp)
    xero: LedgerApp = field(default_factory=LedgerApp)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    mail_from: str = "CARE Pre-Collections <collections@care.example>"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from: str = ""
    twilio_base_url: str = ""
    letters_dir: Path = Path("data/letters")

    @property
    def embedded_database(self) -> bool:
        return not _env("DATABASE_URL")

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


QUICKBOOKS_PRODUCTION = LedgerApp(
    discovery_url="https://developer.api.intuit.com/.well-known/openid_configuration",
    api_base="https://quickbooks.api.intuit.com/v3",
    web_base="https://app.qbo.intuit.com",
)
XERO_PRODUCTION = LedgerApp(
    authorize_url="https://login.xero.com/identity/connect/authorize",
    token_url="https://identity.xero.com/connect/token",
    revoke_url="https://identity.xero.com/connect/revocation",
    identity_base="https://api.xero.com",
    api_base="https://api.xero.com/api.xro/2.0",
    web_base="https://go.xero.com",
)


def _ledger(prefix: str, defaults: LedgerApp) -> LedgerApp:
    values = {}
    for f in fields(LedgerApp):
        values[f.name] = _env(f"{prefix}_{f.name.upper()}", getattr(defaults, f.name))
    return LedgerApp(**values)


def load() -> Settings:
    """Read the settings from the environment."""
    data_dir = Path(_env("CARE_DATA_DIR", "data")).resolve()
    database_url = _env("DATABASE_URL") or f"sqlite:///{data_dir / 'care.db'}"
    # NOTE: Heroku-style URLs say postgres://, which SQLAlchemy 2 no longer accepts.
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url.removeprefix("postgres://")
    keys = tuple(k for k in _env("CARE_ENCRYPTION_KEYS").split(",") if k)
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=_env("REDIS_URL"),
        secret_key=_env("SECRET_KEY", "dev-only-secret-key-change-me"),
        encryption_keys=keys,
        clock=_env("CARE_CLOCK", "system"),
        base_url=_env("CARE_BASE_URL", "http://127.0.0.1:5000"),
        proxy_hops=int(_env("CARE_PROXY_HOPS", "0")),
        quickbooks=_ledger("QBO", QUICKBOOKS_PRODUCTION),
        xero=_ledger("XERO", XERO_PRODUCTION),
        smtp_host=_env("SMTP_HOST", "127.0.0.1"),
        smtp_port=int(_env("SMTP_PORT", "25")),
        smtp_user=_env("SMTP_USER"),
        smtp_password=_env("SMTP_PASSWORD"),
        mail_from=_env("MAIL_FROM", Settings.mail_from),
        twilio_account_sid=_env("TWILIO_ACCOUNT_SID"),
        twilio_auth_token=_env("TWILIO_AUTH_TOKEN"),
        twilio_from=_env("TWILIO_FROM"),
        twilio_base_url=_env("TWILIO_BASE_URL"),
        letters_dir=Path(_env("CARE_LETTERS_DIR", str(data_dir / "letters"))),
    )
