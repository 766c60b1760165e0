"""Xero's organisation time zones (Windows zone ids, upper case) and their IANA names.

Xero's Organisation.Timezone holds values such as NEWZEALANDSTANDARDTIME; the product
works in IANA names. The table covers the zones the generator and the demo use.
"""

from __future__ import annotations

# TODO: only common zones are listed; an organisation in another zone falls back to
# UTC, which can shift its "today" by a day near midnight.
XERO_TO_IANA: dict[str, str] = {
    "NEWZEALANDSTANDARDTIME": "Pacific/Auckland",
    "AUSEASTERNSTANDARDTIME": "Australia/Sydney",
    "EAUSTRALIASTANDARDTIME": "Australia/Brisbane",
    "WAUSTRALIASTANDARDTIME": "Australia/Perth",
    "CENAUSTRALIASTANDARDTIME": "Australia/Adelaide",
    "GMTSTANDARDTIME": "Europe/London",
    "IRELANDSTANDARDTIME": "Europe/Dublin",
    "WEUROPESTANDARDTIME": "Europe/Berlin",
    "ROMANCESTANDARDTIME": "Europe/Paris",
    "EASTERNSTANDARDTIME": "America/New_York",
    "CENTRALSTANDARDTIME": "America/Chicago",
    "MOUNTAINSTANDARDTIME": "America/Denver",
    "USMOUNTAINSTANDARDTIME": "America/Phoenix",
    "PACIFICSTANDARDTIME": "America/Los_Angeles",
    "ALASKANSTANDARDTIME": "America/Anchorage",
    "HAWAIIANSTANDARDTIME": "Pacific/Honolulu",
    "CANADACENTRALSTANDARDTIME": "America/Regina",
    "SINGAPORESTANDARDTIME": "Asia/Singapore",
    "TOKYOSTANDARDTIME": "Asia/Tokyo",
    "CHINASTANDARDTIME": "Asia/Shanghai",
    "INDIASTANDARDTIME": "Asia/Kolkata",
    "SOUTHAFRICASTANDARDTIME": "Africa/Johannesburg",
    "UTC": "UTC",
}
IANA_TO_XERO: dict[str, str] = {v: k for k, v in XERO_TO_IANA.items()}


def iana_zone(xero_zone: str | None) -> str:
    """The IANA name for a Xero Timezone value (UTC when unknown)."""
    return XERO_TO_IANA.get((xero_zone or "").upper(), "UTC")


def xero_zone(iana: str | None) -> str:
    """The Xero Timezone value for an IANA name (UTC when unknown)."""
    return IANA_TO_XERO.get(iana or "", "UTC")
