"""Xero's Organisation.Timezone names, mapped to IANA zones through CLDR.

Xero spells Windows time zone ids in upper case with spaces, dots and hyphens removed
("New Zealand Standard Time" -> "NEWZEALANDSTANDARDTIME", "UTC-02" -> "UTC02",
"E. Africa Standard Time" -> "EAFRICASTANDARDTIME"); see the TimeZone enum in Xero's
accounting OpenAPI spec. The table comes from CLDR's windowsZones (the "001" golden
zone per Windows id), as shipped inside babel, so it follows CLDR upgrades.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from babel.core import get_global

# NOTE: two names in Xero's enum are Windows ids Microsoft retired and CLDR dropped.
# Each maps to the zone CLDR gives the id Microsoft replaced it with.
_RETIRED = {
    "KAMCHATKASTANDARDTIME": "Russia Time Zone 11",  # Windows 2014 time zone update
    "MIDATLANTICSTANDARDTIME": "UTC-02",  # renamed in Windows 8
}


class UnknownTimezoneError(ValueError):
    """A Timezone name that is neither in CLDR's Windows table nor a known alias."""


def xero_key(windows_id: str) -> str:
    """The Xero spelling of a Windows time zone id."""
    return re.sub(r"[\s.\-]", "", windows_id).upper()


@lru_cache(maxsize=1)
def xero_table() -> dict[str, str]:
    """Every Xero Timezone name CLDR knows, to its IANA zone."""
    windows: Mapping[str, str] = get_global("windows_zone_mapping")
    table = {xero_key(name): zone for name, zone in windows.items()}
    for name, successor in _RETIRED.items():
        table.setdefault(name, windows[successor])
    return table


def iana_from_xero(name: str) -> str:
    """The IANA zone for a Xero Organisation.Timezone value, e.g. Pacific/Auckland."""
    if not isinstance(name, str) or not name.strip():
        raise UnknownTimezoneError(f"empty Xero timezone: {name!r}")
    # Tolerate the Windows spelling too ("New Zealand Standard Time").
    zone = xero_table().get(xero_key(name.strip()))
    if zone is None:
        raise UnknownTimezoneError(
            f"unknown Xero timezone {name!r}: not a Windows zone id in CLDR's table"
        )
    return zone
