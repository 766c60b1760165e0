"""Text for debtors: NFC names, ASCII fallbacks, money and dates in a locale."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency

from app.money import Money

# Letters with no decomposition to a base letter plus marks, so NFKD alone loses them.
_ASCII_LETTERS = str.maketrans(
    {
        "Ø": "O",
        "ø": "o",
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "Æ": "AE",
        "æ": "ae",
        "Œ": "OE",
        "œ": "oe",
        "ß": "ss",
        "Þ": "Th",
        "þ": "th",
        "–": "-",
        "—": "-",
        "’": "'",
    }
)


# Line and paragraph separators as well as CR, LF and tabs: a ledger's name field
# sometimes holds a pasted address, which must not break a header or a PDF line.
_BREAKS = re.compile(r"[\t\n\r\v\f\u0085\u2028\u2029]+")
_SPACES = re.compile(r" {2,}")


def nfc(text: str) -> str:
    """`text` in Unicode NFC: a ledger's decomposed 'Zoe\u0308' becomes 'Zoë'."""
    return unicodedata.normalize("NFC", text or "").strip()


def one_line(text: str) -> str:
    """`text` in NFC on one line, without control characters or runs of spaces."""
    # No-break spaces stay: babel puts them inside amounts such as "2.000,00 €".
    flat = _BREAKS.sub(" ", nfc(text))
    kept = "".join(c for c in flat if unicodedata.category(c) != "Cc")
    return _SPACES.sub(" ", kept).strip()


def ascii_fallback(text: str) -> str:
    """The closest plain-ASCII spelling of `text`; characters with none are dropped."""
    decomposed = unicodedata.normalize("NFKD", nfc(text).translate(_ASCII_LETTERS))
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return kept.encode("ascii", "ignore").decode("ascii")


def slug(text: str, limit: int = 60) -> str:
    """A file-name-safe ASCII slug of `text` (may be empty)."""
    plain = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_fallback(text))
    plain = re.sub(r"-{2,}", "-", plain)
    return plain.strip("-.")[:limit].strip("-.")


@lru_cache(maxsize=64)
def locale_of(name: str) -> Locale:
    """The babel locale for `name` ('en_NZ' or 'en-NZ'); a clear error if unknown."""
    try:
        return Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError) as exc:
        raise ValueError(f"unknown locale {name!r}") from exc


def format_money(money: Money, locale: str) -> str:
    """`money` as the locale writes it, to the currency's minor unit."""
    return format_currency(money.amount, money.currency, locale=locale_of(locale))


def format_day(day: date, locale: str) -> str:
    """`day` in the locale's long form, e.g. '2 May 2025' for en_NZ."""
    return format_date(day, format="long", locale=locale_of(locale))
