"""Money, dates and instants formatted for the creditor's locale with Babel."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent
from flask import Flask, g

from app.money import quantize

DEFAULT_LOCALE = "en_US"


def locale_name(raw: str | None) -> str:
    """A Babel locale name for `raw`, falling back to en_US for unknown ones."""
    try:
        return str(Locale.parse((raw or DEFAULT_LOCALE).replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        return DEFAULT_LOCALE


def money(amount: Decimal | None, currency: str, locale: str) -> str:
    """`amount` in `currency`, rounded half-up to its minor unit, in `locale`."""
    if amount is None:
        return "—"
    return format_currency(
        quantize(amount, currency), currency, locale=locale_name(locale)
    )


def day(value: date | None, locale: str, style: str = "medium") -> str:
    if value is None:
        return "—"
    return format_date(value, format=style, locale=locale_name(locale))


def instant(
    value: datetime | None, zone: str, locale: str, style: str = "medium"
) -> str:
    """An aware instant shown in the time zone `zone` (an IANA name)."""
    if value is None:
        return "—"
    return format_datetime(
        value, format=style, tzinfo=ZoneInfo(zone), locale=locale_name(locale)
    )


def rate(value: Decimal | None, locale: str) -> str:
    if value is None:
        return "—"
    return format_percent(value, format="#,##0.0%", locale=locale_name(locale))


def number(value: Decimal | int | None, locale: str) -> str:
    if value is None:
        return "—"
    return format_decimal(value, locale=locale_name(locale))


def _context() -> tuple[str, str]:
    creditor = g.get("creditor")
    if creditor is None:
        from app.web.security import current_creditor_or_none

        creditor = current_creditor_or_none()
    if creditor is None:
        return DEFAULT_LOCALE, "UTC"
    return creditor.locale or DEFAULT_LOCALE, creditor.timezone or "UTC"


def install(app: Flask) -> None:
    """Template filters using the current creditor's locale and time zone."""

    @app.template_filter("money")
    def _money(amount: Decimal | None, currency: str) -> str:
        return money(amount, currency, _context()[0])

    @app.template_filter("day")
    def _day(value: date | None, style: str = "medium") -> str:
        return day(value, _context()[0], style)

    @app.template_filter("instant")
    def _instant(value: datetime | None, zone: str | None = None) -> str:
        locale, creditor_zone = _context()
        return instant(value, zone or creditor_zone, locale)

    @app.template_filter("rate")
    def _rate(value: Decimal | None) -> str:
        return rate(value, _context()[0])

    @app.template_filter("number")
    def _number(value: Any) -> str:
        return number(value, _context()[0])
