from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.channels.text import (
    ascii_fallback,
    format_day,
    format_money,
    nfc,
    one_line,
    slug,
)
from app.money import Money


def test_nfc_composes_a_ledgers_decomposed_spelling() -> None:
    assert nfc("Zoe\u0308 O\u0304tautahi ") == "Zoë Ōtautahi"


def test_one_line_flattens_breaks_and_controls_but_keeps_no_break_spaces() -> None:
    assert one_line(" Tui\r\nLandscaping\t Ltd\x00 ") == "Tui Landscaping Ltd"
    assert one_line("2.000,00\xa0€") == "2.000,00\xa0€"


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("Zoë Ørsted-Łukasiewicz", "Zoe Orsted-Lukasiewicz"),
        (
            "Nguyễn Thị Hương – Công ty TNHH Đông Á",
            "Nguyen Thi Huong - Cong ty TNHH Dong A",
        ),
        ("Māori Arts Collective Ōtautahi", "Maori Arts Collective Otautahi"),
        ("Straße Æther", "Strasse AEther"),
        ("株式会社さくら商事", ""),
    ],
)
def test_ascii_fallback(text: str, plain: str) -> None:
    assert ascii_fallback(text) == plain


def test_slug_is_file_name_safe() -> None:
    assert slug("case:17/step:0/letter") == "case-17-step-0-letter"
    assert slug("Letter – Zoë") == "Letter-Zoe"
    assert slug("..//..") == ""
    assert len(slug("x" * 100, 60)) == 60


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "shown"),
    [
        ("640.00", "NZD", "en_NZ", "$640.00"),
        ("2000", "EUR", "de_DE", "2.000,00\xa0€"),
        ("2000", "EUR", "en_NZ", "€2,000.00"),
        ("1500", "AUD", "en_NZ", "A$1,500.00"),
        ("120000", "JPY", "ja_JP", "￥120,000"),
        ("12345.5", "PLN", "pl_PL", "12\xa0345,50\xa0zł"),
        ("5000000", "VND", "vi_VN", "5.000.000\xa0₫"),
    ],
)
def test_format_money_follows_the_locale_and_the_minor_unit(
    amount: str, currency: str, locale: str, shown: str
) -> None:
    assert format_money(Money(Decimal(amount), currency), locale) == shown


def test_format_day_and_unknown_locale() -> None:
    assert format_day(date(2025, 5, 2), "en_NZ") == "2 May 2025"
    assert format_day(date(2025, 5, 2), "en-US") == "May 2, 2025"
    with pytest.raises(ValueError, match="unknown locale 'zz_ZZ'"):
        format_day(date(2025, 5, 2), "zz_ZZ")
