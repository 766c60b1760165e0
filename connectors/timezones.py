"""Xero's Organisation.Timezone names, mapped to IANA zones through CLDR.

Xero spells Windows time zone ids in upper case with spaces, dots and hyphens removed
("New Zealand Standard Time" -> "NEWZEALANDSTANDARDTIME", "UTC-02" -> "UTC02",
"E. Africa Standard Time" -> "EAFRICASTANDARDTIME"); see the TimeZone enum in Xero's
accounting OpenAPI spec. The table comes from CLDR's windowsZones (the "001" golden
zone per Windows id), as shipped inside babel, so it follows CLDR upgrades. The
sandboxes go the other way, from a company's IANA zone to Xero's name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.core import get_global

# NOTE: two names in Xero's enum are Windows ids Microsoft retired and CLDR dropped.
# Each maps to the zone CLDR gives the id Microsoft replaced it with.
_RETIRED = {
    "KAMCHATKASTANDARDTIME": "Russia Time Zone 11",  # Windows 2014 time zone update
    "MIDATLANTICSTANDARDTIME": "UTC-02",  # renamed in Windows 8
}


# CLDR's per-country rows that babel does not ship, for zones the heuristic in
# `xero_from_iana` would name differently (windowsZones.xml, territory CA). CLDR 47
# moved these zones' golden rows to Windows ids Xero's enum does not have.
_TERRITORY_ROWS = {
    "America/Toronto": "EASTERNSTANDARDTIME",
    "America/Winnipeg": "CENTRALSTANDARDTIME",
    "America/Edmonton": "MOUNTAINSTANDARDTIME",
    "America/Vancouver": "PACIFICSTANDARDTIME",
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
    # CLDR keeps its first spelling of a zone (Asia/Calcutta); tzdata and the rest
    # of CARE use the current one (Asia/Kolkata), which babel's alias table gives.
    aliases: Mapping[str, str] = get_global("zone_aliases")
    table = {xero_key(name): aliases.get(z, z) for name, z in windows.items()}
    for name, successor in _RETIRED.items():
        table.setdefault(name, table[xero_key(successor)])
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


def xero_from_iana(zone: str) -> str:
    """The Xero Timezone value for an IANA zone, e.g. Asia/Ho_Chi_Minh -> SEASIA...."""
    canonical = _canonical(zone)
    if canonical in _TERRITORY_ROWS:
        return _TERRITORY_ROWS[canonical]
    names = _xero_enum()
    table = xero_table()
    exact = sorted(n for n in names if table.get(n) == canonical and n not in _RETIRED)
    if exact:
        return exact[0]
    # CLDR names one "golden" zone per Windows id; any other zone takes the id whose
    # golden zone keeps the same clock, preferring the same metazone ("Indochina")
    # and country, as CLDR's own per-territory rows do. The name may then differ
    # from CLDR's row for that country; the clock, which is what dates need, cannot.
    meta = get_global("meta_zones")
    where = get_global("zone_territories")
    clock = _offsets(canonical)
    ranked = sorted(
        (
            meta.get(table[n]) != meta.get(canonical),
            where.get(table[n]) != where.get(canonical),
            len(n),
            n,
        )
        for n in names
        if n in table and n not in _RETIRED and _offsets(table[n]) == clock
    )
    if not ranked:
        raise UnknownTimezoneError(f"no Xero timezone keeps the clock of {zone!r}")
    return ranked[0][3]


def _canonical(zone: str) -> str:
    if not isinstance(zone, str) or not zone.strip():
        raise UnknownTimezoneError(f"empty IANA zone: {zone!r}")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownTimezoneError(f"{zone!r} is not an IANA zone name") from exc
    aliases: Mapping[str, str] = get_global("zone_aliases")
    canonical = aliases.get(zone, zone)
    # CLDR sends a few links ("Factory") to its own "Etc/Unknown", which tzdata lacks.
    return canonical if canonical in _known_zones() else zone


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


@lru_cache(maxsize=1)
def _xero_enum() -> tuple[str, ...]:
    # The SDK's enum is generated from Xero's OpenAPI spec: the only values Xero takes.
    from xero_python.accounting.models.time_zone import TimeZone

    return tuple(t.value for t in TimeZone)


@lru_cache(maxsize=512)
def _offsets(zone: str) -> tuple[timedelta | None, ...]:
    """UTC offsets on the 1st and 15th of each month, 2024-2026: the zone's clock."""
    tz = ZoneInfo(zone)
    return tuple(
        datetime(year, month, day, 12, tzinfo=UTC).astimezone(tz).utcoffset()
        for year in (2024, 2025, 2026)
        for month in range(1, 13)
        for day in (1, 15)
    )
