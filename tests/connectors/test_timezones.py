"""Xero's Windows-style Timezone names map to IANA zones zoneinfo knows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from xero_python.accounting.models.time_zone import TimeZone

from connectors.timezones import (
    UnknownTimezoneError,
    iana_from_xero,
    xero_from_iana,
    xero_key,
)

# The SDK's enum is generated from the same OpenAPI spec (xero_accounting.yaml,
# components.schemas.TimeZone): 141 values.
XERO_NAMES = sorted(t.value for t in TimeZone)


def test_the_sdk_enum_is_the_full_spec_list() -> None:
    assert len(XERO_NAMES) == 141


@pytest.mark.parametrize("name", XERO_NAMES)
def test_every_xero_timezone_maps_to_a_zone_zoneinfo_knows(name: str) -> None:
    zone = iana_from_xero(name)
    assert ZoneInfo(zone).utcoffset(datetime(2025, 1, 15, tzinfo=UTC)) is not None


# Offsets worked out by hand for 2025-01-15 12:00 UTC: southern summer, northern
# winter. Etc/GMT zones have inverted signs, which is why UTC+12 is worth checking.
@pytest.mark.parametrize(
    ("name", "zone", "hours"),
    [
        ("NEWZEALANDSTANDARDTIME", "Pacific/Auckland", 13),  # recorded demo org (NZ)
        ("PACIFICSTANDARDTIME", "America/Los_Angeles", -8),
        ("GMTSTANDARDTIME", "Europe/London", 0),
        ("AUSEASTERNSTANDARDTIME", "Australia/Sydney", 11),
        ("TOKYOSTANDARDTIME", "Asia/Tokyo", 9),
        ("CENTRALEUROPEANSTANDARDTIME", "Europe/Warsaw", 1),
        ("SEASIASTANDARDTIME", "Asia/Bangkok", 7),
        ("UTC+12", "Etc/GMT-12", 12),
        ("UTC02", "Etc/GMT+2", -2),
        ("UTC", "Etc/UTC", 0),
        ("CHATHAMISLANDSSTANDARDTIME", "Pacific/Chatham", 13.75),
        ("INDIASTANDARDTIME", "Asia/Kolkata", 5.5),  # CLDR still says Asia/Calcutta
        ("FLESTANDARDTIME", "Europe/Kyiv", 2),  # CLDR still says Europe/Kiev
    ],
)
def test_known_names_give_the_zone_and_offset_worked_out_by_hand(
    name: str, zone: str, hours: float
) -> None:
    assert iana_from_xero(name) == zone
    offset = ZoneInfo(zone).utcoffset(datetime(2025, 1, 15, 12, tzinfo=UTC))
    assert offset == timedelta(hours=hours)


def test_retired_windows_names_map_to_their_successors_zones() -> None:
    # Kamchatka became "Russia Time Zone 11"; Mid-Atlantic became "UTC-02".
    assert iana_from_xero("KAMCHATKASTANDARDTIME") == "Asia/Kamchatka"
    assert iana_from_xero("MIDATLANTICSTANDARDTIME") == "Etc/GMT+2"


def test_windows_spelling_is_accepted_too() -> None:
    assert iana_from_xero("New Zealand Standard Time") == "Pacific/Auckland"
    assert iana_from_xero("E. Africa Standard Time") == "Africa/Nairobi"


def test_xero_key_drops_spaces_dots_and_hyphens_but_keeps_plus_and_brackets() -> None:
    assert xero_key("Central Standard Time (Mexico)") == "CENTRALSTANDARDTIME(MEXICO)"
    assert xero_key("UTC-02") == "UTC02"
    assert xero_key("UTC+13") == "UTC+13"


@pytest.mark.parametrize("name", ["MARSSTANDARDTIME", "Pacific/Auckland", "", "   "])
def test_unknown_name_is_a_clear_error(name: str) -> None:
    with pytest.raises(UnknownTimezoneError, match="Xero timezone"):
        iana_from_xero(name)


# --- the other way: a company's IANA zone to the name Xero shows -------------------


# CLDR windowsZones rows for the countries the generator uses.
@pytest.mark.parametrize(
    ("zone", "name"),
    [
        ("Pacific/Auckland", "NEWZEALANDSTANDARDTIME"),
        ("Pacific/Chatham", "CHATHAMISLANDSSTANDARDTIME"),
        ("Australia/Sydney", "AUSEASTERNSTANDARDTIME"),
        ("Australia/Brisbane", "EAUSTRALIASTANDARDTIME"),
        ("Australia/Perth", "WAUSTRALIASTANDARDTIME"),
        ("Europe/London", "GMTSTANDARDTIME"),
        ("Europe/Dublin", "GMTSTANDARDTIME"),
        ("Europe/Berlin", "WEUROPESTANDARDTIME"),
        ("Europe/Warsaw", "CENTRALEUROPEANSTANDARDTIME"),
        ("Asia/Ho_Chi_Minh", "SEASIASTANDARDTIME"),
        ("Asia/Saigon", "SEASIASTANDARDTIME"),
        ("Asia/Tokyo", "TOKYOSTANDARDTIME"),
        ("America/New_York", "EASTERNSTANDARDTIME"),
        ("America/Toronto", "EASTERNSTANDARDTIME"),
        ("America/Vancouver", "PACIFICSTANDARDTIME"),
        ("America/Los_Angeles", "PACIFICSTANDARDTIME"),
        ("America/Phoenix", "USMOUNTAINSTANDARDTIME"),
        ("America/Halifax", "ATLANTICSTANDARDTIME"),
        ("Asia/Kolkata", "INDIASTANDARDTIME"),
        ("UTC", "UTC"),
    ],
)
def test_iana_zone_gives_the_xero_name_cldr_lists(zone: str, name: str) -> None:
    assert xero_from_iana(zone) == name


@pytest.mark.parametrize(
    "name",
    [
        n
        for n in XERO_NAMES
        if n not in ("KAMCHATKASTANDARDTIME", "MIDATLANTICSTANDARDTIME")
    ],
)
def test_xero_names_survive_a_round_trip(name: str) -> None:
    assert xero_from_iana(iana_from_xero(name)) == name


def _clock(zone: str) -> list[timedelta | None]:
    tz = ZoneInfo(zone)
    start = datetime(2024, 1, 1, 12, tzinfo=UTC)
    return [
        (start + timedelta(days=d)).astimezone(tz).utcoffset()
        for d in range(0, 1096, 7)
    ]


def test_any_iana_zone_maps_to_a_xero_name_with_the_same_clock() -> None:
    mapped = 0
    for zone in sorted(available_timezones()):
        try:
            name = xero_from_iana(zone)
        except UnknownTimezoneError:
            continue  # no Windows zone keeps this clock (e.g. Antarctica/Troll)
        assert _clock(iana_from_xero(name)) == _clock(zone), (zone, name)
        mapped += 1
    assert mapped > 500


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "NEWZEALANDSTANDARDTIME"])
def test_unknown_iana_zone_is_a_clear_error(zone: str) -> None:
    with pytest.raises(UnknownTimezoneError):
        xero_from_iana(zone)
