"""E-mail addresses as ledgers hold them, cleaned into a list we can send to (C29).

Ledgers keep whatever a bookkeeper typed: surrounding spaces, two addresses in one
field separated by a comma or semicolon, or nothing at all. QuickBooks documents
PrimaryEmailAddr.Address as possibly holding several comma-separated addresses.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from email.utils import parseaddr

logger = logging.getLogger(__name__)

BLOCKED_STATUS = "blocked: no e-mail"
# The dot-atom form of RFC 5322 for the local part; quoted local parts and non-ASCII
# (SMTPUTF8) mailboxes are refused rather than risked with relays that lack them.
_LOCAL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$"
)
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


class NoEmailAddress(ValueError):
    """The contact has no usable address; the job records 'blocked: no e-mail'."""

    status = BLOCKED_STATUS

    def __init__(self, raw: object, rejected: Iterable[str] = ()) -> None:
        self.raw = raw
        self.rejected = tuple(rejected)
        detail = f"; not addresses: {', '.join(self.rejected)}" if self.rejected else ""
        super().__init__(f"no usable e-mail address in {raw!r}{detail}")


def clean_recipients(raw: str | Iterable[str] | None) -> list[str]:
    """Trim, split on commas and semicolons, validate and de-duplicate addresses.

    Raises:
        NoEmailAddress: nothing usable is left.
    """
    fields = [raw] if isinstance(raw, str) else list(raw or [])
    pieces = [p.strip() for f in fields if f for p in re.split(r"[,;]", f) if p.strip()]
    found: list[str] = []
    rejected: list[str] = []
    for piece in pieces:
        cleaned = normalise(parseaddr(piece)[1] or piece)
        if cleaned is None:
            rejected.append(piece)
        elif cleaned.lower() not in (f.lower() for f in found):
            found.append(cleaned)
    if not found:
        raise NoEmailAddress(raw, rejected)
    if rejected:
        logger.warning("e-mail addresses skipped rejected=%s", ",".join(rejected))
    return found


def normalise(address: str) -> str | None:
    """`address` with its domain lower-cased and IDNA-encoded, or None if invalid."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or len(local) > 64 or not _LOCAL.match(local):
        return None
    try:
        ascii_domain = domain.strip().rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None
    return f"{local}@{ascii_domain}"
