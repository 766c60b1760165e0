"""When a debtor may be contacted: business hours on working days in their own zone.

The rules come from the creditor's `app.rules.ContactWindow` (days, hours, weekly cap).

A step that falls due outside its window waits for the next allowed instant: a weekday
(configurable), inside business hours in the debtor's IANA time zone, not a public
holiday of the debtor's country (and subdivision, when known) by the `holidays`
package, and under a cap on touches in any rolling seven days. Instants in and out
are aware UTC; dates and hours are the debtor's local ones, so DST moves with them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from babel.core import get_global

from app.rules import ContactWindow

WEEK = timedelta(days=7)
# A window that allows nothing for a year is an error, not a reason to loop on.
SEARCH_LIMIT = timedelta(days=366)


# States and provinces of the large multi-zone countries, by the zone most of each
# keeps (a few straddle two; their larger part wins).
_REGIONS = {
    "US": {
        "America/New_York": "CT DC DE FL GA IN MA MD ME MI NC NH NJ NY OH PA RI SC VA"
        " VT WV",
        "America/Chicago": "AL AR IA IL KS KY LA MN MO MS ND NE OK SD TN TX WI",
        "America/Denver": "CO ID MT NM UT WY",
        "America/Phoenix": "AZ",
        "America/Los_Angeles": "CA NV OR WA",
        "America/Anchorage": "AK",
        "Pacific/Honolulu": "HI",
        "America/Puerto_Rico": "PR VI",
    },
    "CA": {
        "America/Toronto": "ON QC",
        "America/Halifax": "NS NB PE",
        "America/St_Johns": "NL",
        "America/Winnipeg": "MB",
        "America/Regina": "SK",
        "America/Edmonton": "AB NT",
        "America/Vancouver": "BC YT",
        "America/Iqaluit": "NU",
    },
    "AU": {
        "Australia/Sydney": "NSW ACT",
        "Australia/Melbourne": "VIC",
        "Australia/Hobart": "TAS",
        "Australia/Brisbane": "QLD",
        "Australia/Adelaide": "SA",
        "Australia/Darwin": "NT",
        "Australia/Perth": "WA",
    },
}
REGION_ZONES = {
    (country, region): tz
    for country, zones in _REGIONS.items()
    for tz, regions in zones.items()
    for region in regions.split()
}
# Where a country spans zones and the ledger gives no usable region, the zone most of
# its businesses keep. TODO: other multi-zone countries' regions (Brazil, Mexico,
# Russia, Indonesia); until then their debtors get the primary zone's hours.
PRIMARY_ZONES = {
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "CL": "America/Santiago",
    "ID": "Asia/Jakarta",
    "KZ": "Asia/Almaty",
    "MX": "America/Mexico_City",
    "NZ": "Pacific/Auckland",
    "RU": "Europe/Moscow",
    "US": "America/New_York",
}


@dataclass(frozen=True)
class DebtorPlace:
    """Where the debtor is: IANA zone, ISO 3166 country, optional subdivision."""

    timezone: str
    country: str | None  # None: no holiday calendar is known, weekdays and hours only
    subdivision: str | None = None

    def __post_init__(self) -> None:
        zone(self.timezone)
        if self.country:
            holiday_calendar(self.country.upper(), self.subdivision)
        elif self.subdivision:
            raise ValueError("a subdivision needs a country")


def place_for(
    company_timezone: str,
    company_country: str | None,
    address_country: str | None = None,
    address_region: str | None = None,
) -> DebtorPlace:
    """The debtor's place from what the ledgers hold: their address, else the company's.

    A debtor in the creditor's country shares the creditor's zone; one abroad gets
    their country's zone when it has one (or its primary zone). The region becomes the
    holiday subdivision when the `holidays` package knows it by that code.
    """
    country = (address_country or company_country or "").upper() or None
    region = (address_region or "").strip().upper()
    if (country, region) in REGION_ZONES:
        timezone = REGION_ZONES[(country or "", region)]
    elif country is None or country == (company_country or "").upper():
        timezone = company_timezone
    else:
        zones = get_global("territory_zones").get(country, [])
        timezone = PRIMARY_ZONES.get(country) or (zones[0] if len(zones) == 1 else "")
        if not timezone:
            raise ValueError(f"no time zone known for country {country!r}")
    known = subdivisions(country) if country else frozenset()
    return DebtorPlace(timezone, country, region if region in known else None)


def place_of(debtor: Any, creditor: Any) -> DebtorPlace | None:
    """Where a debtor is, from the mirror's debtor and creditor rows; None if unknown.

    The debtor's own zone, country and address win; the creditor's fill the gaps.
    """
    address = debtor.address or {}
    try:
        return place_for(
            debtor.timezone or creditor.timezone,
            creditor.country,
            debtor.country or address.get("country"),
            address.get("region"),
        )
    except ValueError:
        return None


@lru_cache(maxsize=256)
def subdivisions(country: str) -> frozenset[str]:
    """The subdivision codes `holidays` knows for `country`; empty if none or unknown.

    Asks the one country's calendar: `holidays.list_supported_countries()` imports
    every country module (half a second, in every forked work horse).
    """
    try:
        calendar = holidays.country_holidays(country.upper())
    except NotImplementedError:
        return frozenset()
    return frozenset(calendar.subdivisions)


DEFAULT_WINDOW = ContactWindow()


def check_window(window: ContactWindow) -> None:
    """Raise ValueError when `window` can never open."""
    if not window.start < window.end:
        raise ValueError(
            f"contact window start {window.start} is not before end {window.end}"
        )
    if not window.weekdays or not window.weekdays <= frozenset(range(7)):
        raise ValueError(
            "weekdays must be a non-empty subset of 0-6 (Monday=0),"
            f" got {sorted(window.weekdays)}"
        )
    if window.max_touches_per_week < 1:
        raise ValueError("max_touches_per_week must be at least 1")


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; a clear error if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


@lru_cache(maxsize=256)
def holiday_calendar(country: str, subdivision: str | None) -> holidays.HolidayBase:
    """The public holidays of `country` (and `subdivision`), filled in year by year."""
    try:
        return holidays.country_holidays(country.upper(), subdiv=subdivision)
    except NotImplementedError as exc:
        raise ValueError(
            f"no public holiday calendar for country {country!r}"
            f" subdivision {subdivision!r}: {exc}"
        ) from exc


def is_working_day(
    day: date, place: DebtorPlace, window: ContactWindow = DEFAULT_WINDOW
) -> bool:
    """True when `day` is one of the window's weekdays and not a public holiday."""
    if day.weekday() not in window.weekdays:
        return False
    if not place.country:
        return True
    return day not in holiday_calendar(place.country.upper(), place.subdivision)


def at_local(day: date, at: time, timezone: str) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in `timezone` (C27: 09:00 NZST)."""
    return datetime.combine(day, at, tzinfo=zone(timezone)).astimezone(UTC)


def next_allowed(
    after: datetime,
    place: DebtorPlace,
    window: ContactWindow = DEFAULT_WINDOW,
    touches: Iterable[datetime] = (),
) -> datetime:
    """The first instant at or after `after` when the debtor may be contacted (UTC).

    `touches` are the instants of earlier contacts with this debtor; while the last
    seven days hold `max_touches_per_week` of them, the next waits for the oldest to
    fall out of the week.
    """
    # TODO: only the debtor's national (and subdivision) holidays count; a ledger
    # rarely gives the subdivision, so regional days such as Auckland Anniversary are
    # missed unless the caller passes it, and the creditor's own holidays are ignored.
    if after.tzinfo is None:
        raise ValueError("next_allowed needs an aware datetime, got a naive one")
    check_window(window)
    tz = zone(place.timezone)
    past = sorted(_aware(t) for t in touches)
    candidate = after.astimezone(UTC)
    while candidate - after <= SEARCH_LIMIT:
        moved = _into_hours(candidate, tz, place, window)
        if moved is None:
            moved = _under_cap(candidate, past, window.max_touches_per_week)
        if moved is None:
            return candidate
        candidate = moved
    raise ValueError(f"no allowed contact time within a year of {after.isoformat()}")


def _into_hours(
    instant: datetime, tz: ZoneInfo, place: DebtorPlace, window: ContactWindow
) -> datetime | None:
    """None inside business hours on a working day, else the next opening instant."""
    local = instant.astimezone(tz)
    day = local.date()
    if is_working_day(day, place, window) and window.start <= local.time() < window.end:
        return None
    if is_working_day(day, place, window) and local.time() < window.start:
        return datetime.combine(day, window.start, tzinfo=tz).astimezone(UTC)
    day += timedelta(days=1)
    while not is_working_day(day, place, window):
        day += timedelta(days=1)
    return datetime.combine(day, window.start, tzinfo=tz).astimezone(UTC)


def _under_cap(instant: datetime, past: list[datetime], cap: int) -> datetime | None:
    """None if fewer than `cap` touches fall in the week before `instant`, else when."""
    recent = [t for t in past if instant - WEEK < t <= instant]
    if len(recent) < cap:
        return None
    # Once this touch is a week old, one fewer than the cap remain in the window.
    return recent[len(recent) - cap] + WEEK


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("touch instants must be aware datetimes")
    return instant.astimezone(UTC)
