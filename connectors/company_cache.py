"""The connected company's settings, kept in Redis between jobs for an hour.

Every job builds its own connector, and each connector would otherwise read the
company (QuickBooks: CompanyInfo and Preferences; Xero: /Organisation) before its
first real call: one or two calls of a step's budget of one. A full sync reads it
afresh, so a change in the ledger's settings is seen within the hour or at the
next full sync, whichever comes first.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable

import redis as redis_lib

from connectors.records import Company, Ledger

logger = logging.getLogger(__name__)

TTL_SECONDS = 3600


def _key(ledger: Ledger, company_id: str) -> str:
    return f"care:company:{ledger.value}:{company_id}"


def load(redis: redis_lib.Redis, ledger: Ledger, company_id: str) -> Company | None:
    """The cached company, or None when absent, expired or unreadable."""
    raw = redis.get(_key(ledger, company_id))
    if raw is None:
        return None
    try:
        fields = json.loads(raw)
        fields["ledger"] = Ledger(fields["ledger"])
        return Company(**fields)
    except (ValueError, TypeError, KeyError):
        # A cache written by another version: read the ledger again.
        logger.warning("company cache unreadable ledger=%s id=%s", ledger, company_id)
        return None


def save(redis: redis_lib.Redis, company: Company) -> None:
    fields = dataclasses.asdict(company)
    fields["ledger"] = company.ledger.value
    redis.set(_key(company.ledger, company.id), json.dumps(fields), ex=TTL_SECONDS)


def read_through(
    redis: redis_lib.Redis,
    ledger: Ledger,
    company_id: str,
    read: Callable[[], Company],
    *,
    fresh: bool = False,
) -> Company:
    """The cached company, else `read()` it from the ledger and cache it.

    `fresh` skips the cache (a full sync) and refreshes it.
    """
    found = None if fresh else load(redis, ledger, company_id)
    if found is None:
        found = read()
        save(redis, found)
    return found
