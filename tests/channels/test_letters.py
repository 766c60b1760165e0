from __future__ import annotations

import io
import os
import string
import unicodedata
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfReader

from app.channels.layout import (
    LetterDocument,
    UnrenderableTextError,
    check_renderable,
)
from app.channels.letters import (
    InvoiceLine,
    letter_filename,
    render_letter,
    write_letter,
)
from app.channels.parties import Debtor, Letterhead
from app.money import Money
from tests.channels.conftest import case_names, load_case, make_letter


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def pdf_fonts(data: bytes) -> list[dict]:
    fonts = []
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.append(font.get_object())
    return fonts


@pytest.mark.parametrize("name", case_names())
@pytest.mark.parametrize("kind", ["first", "final"])
def test_every_case_name_renders_and_extracts_exactly(name: str, kind: str) -> None:
    text = pdf_text(render_letter(make_letter(name), kind))

    expected = unicodedata.normalize("NFC", name)
    assert expected in text.splitlines()  # the address block line, whole
    assert "\x00" not in text and "\ufffd" not in text and "?" not in text


def test_c30_names_extract_exactly_with_no_tofu() -> None:
    case = load_case("C30")
    for name, expected in zip(
        case["input"]["customers"],
        case["expected"]["pdf_text_contains_exact"],
        strict=True,
    ):
        text = pdf_text(render_letter(make_letter(name)))
        assert f"Dear {expected}," in text
        assert f"Overdue invoices: {expected}" in text
        assert text.count("?") == case["expected"]["question_marks_or_tofu"]


def test_decomposed_name_renders_composed() -> None:
    case = load_case("C30")
    assert case["input"]["nfd_variant"].startswith("Zoe\u0308")

    text = pdf_text(render_letter(make_letter(case["input"]["nfd_variant"])))

    assert "Zoë Ørsted-Łukasiewicz" == case["expected"]["nfd_variant_renders_as"]
    assert "Zoë Ørsted-Łukasiewicz" in text.splitlines()
    assert "\u0308" not in text


def test_every_font_is_embedded() -> None:
    data = render_letter(make_letter("株式会社さくら商事"))

    fonts = pdf_fonts(data)
    assert len(fonts) == 3  # Noto Sans regular and bold, the CJK fallback
    for font in fonts:
        assert font["/Subtype"] == "/Type0"
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        assert "/FontFile2" in descriptor.get_object()


def test_only_text_beyond_noto_sans_loads_the_cjk_face() -> None:
    # The CJK face is 2 MB to parse; "Zoë Ørsted" and "Đặng" need only Noto Sans.
    assert check_renderable(["Zoë Ørsted-Łukasiewicz Ltd", "Đặng Văn Lâm"]) is False
    assert check_renderable(["Acme", "株式会社さくら商事"]) is True

    plain = LetterDocument(title="t", author="a", dated=date(2025, 5, 1), footer="")
    mixed = LetterDocument(
        title="t", author="a", dated=date(2025, 5, 1), footer="", cjk=True
    )
    assert not any("cjk" in key for key in plain.fonts)
    assert any("cjk" in key for key in mixed.fonts)


def test_letter_shows_invoices_days_late_amounts_and_total() -> None:
    text = pdf_text(render_letter(make_letter()))

    # 17 March -> 1 May: 14 days left in March + 30 in April + 1 = 45; 20 March: 42.
    assert "INV-0042 17 March 2025 45 $640.00" in text
    assert "INV-0043 20 March 2025 42 $12.50" in text
    assert "Total $652.50" in text
    assert "1 May 2025" in text
    assert "Our reference: CARE-17" in text
    assert "Bank transfer to 12-3456-7890123-00" in text
    assert "Pay online: https://pay.example/kauri/CARE-17" in text
    assert "Aroha Ngata, Account manager" in text
    assert "aroha@care.example, +64 9 555 0199" in text.replace("\n", " ")


def test_amounts_and_dates_follow_the_creditors_locale() -> None:
    letter = make_letter(
        "Brasserie Lindqvist GmbH",
        invoices=(
            InvoiceLine("2044", date(2025, 3, 20), Money(Decimal("2000"), "EUR")),
        ),
        locale="de_DE",
    )

    text = pdf_text(render_letter(letter))

    assert "2044 20. März 2025 42 2.000,00\xa0€" in text
    assert "Total 2.000,00\xa0€" in text


def test_yen_has_no_minor_unit() -> None:
    letter = make_letter(
        "株式会社さくら商事",
        invoices=(
            InvoiceLine("A-7", date(2025, 4, 1), Money(Decimal("120000"), "JPY")),
            InvoiceLine("A-8", date(2025, 4, 2), Money(Decimal("5500.4"), "JPY")),
        ),
        locale="ja_JP",
    )

    text = pdf_text(render_letter(letter))

    # 120,000 + 5,500 (5,500.4 rounds half-up to the yen) = 125,500.
    assert "A-8 2025年4月2日 29 ￥5,500" in text
    assert "Total ￥125,500" in text


def test_totals_are_kept_per_currency() -> None:
    letter = make_letter(
        invoices=(
            InvoiceLine("2044", date(2025, 3, 20), Money(Decimal("2000.00"), "EUR")),
            InvoiceLine("2045", date(2025, 3, 20), Money(Decimal("500.00"), "USD")),
        )
    )

    text = pdf_text(render_letter(letter, "final"))

    assert "Total €2,000.00" in text
    assert "Total US$500.00" in text
    assert "Please pay €2,000.00 and US$500.00 by 15 May 2025" in text


def test_final_letter_gives_a_date_and_the_next_step() -> None:
    text = pdf_text(render_letter(make_letter(respond_by=date(2025, 5, 16)), "final"))

    assert "Final reminder: overdue invoices for Tuatara Tiling" in text
    assert "by 16 May 2025" in text
    assert (
        "Kauri Plumbing Ltd may\npass the account to a collection agency" in text
        or ("may pass the account to a collection agency" in text.replace("\n", " "))
    )


def test_first_party_letter_is_on_the_programs_letterhead() -> None:
    program = Letterhead("CARE Recoveries", ("PO Box 1", "Auckland 1140"))
    letter = make_letter(tier="first_party", program=program)

    text = pdf_text(render_letter(letter))

    assert text.splitlines()[0] == "CARE Recoveries"
    assert "on behalf of Kauri Plumbing Ltd" in text
    assert "CARE Recoveries acts for Kauri Plumbing Ltd in this matter." in text


def test_first_party_letter_without_program_letterhead_is_refused() -> None:
    with pytest.raises(ValueError, match="program's letterhead"):
        make_letter(tier="first_party")


def test_logo_png_is_drawn_on_the_letterhead() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), (20, 90, 60)).save(buffer, format="PNG")
    creditor = Letterhead(
        "Kauri Plumbing Ltd", ("1 Main Road",), logo_png=buffer.getvalue()
    )

    data = render_letter(make_letter(creditor=creditor))

    images = [img for page in PdfReader(io.BytesIO(data)).pages for img in page.images]
    assert len(images) == 1
    assert images[0].image.size == (120, 40)
    assert b"/Alt (Kauri Plumbing Ltd logo)" in data  # tagged for screen readers


def test_logo_that_is_not_a_png_is_refused() -> None:
    with pytest.raises(ValueError, match="not a PNG"):
        Letterhead("Kauri Plumbing Ltd", logo_png=b"GIF89a....")


def test_text_no_shipped_font_covers_is_refused() -> None:
    with pytest.raises(UnrenderableTextError, match="U\\+D55C"):
        render_letter(make_letter("한국 상사"))


def test_invoice_not_yet_past_due_is_refused() -> None:
    with pytest.raises(ValueError, match="INV-9 is not past due on 2025-05-01"):
        make_letter(
            invoices=(
                InvoiceLine("INV-9", date(2025, 5, 1), Money(Decimal("1"), "NZD")),
            )
        )


def test_unknown_kind_and_locale_are_refused() -> None:
    with pytest.raises(ValueError, match="letter kind"):
        render_letter(make_letter(), "second")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown locale 'xx_YY'"):
        make_letter(locale="xx_YY")


def test_same_input_gives_the_same_bytes() -> None:
    assert render_letter(make_letter()) == render_letter(make_letter())


def test_file_name_is_deterministic_and_safe() -> None:
    name = letter_filename("case:17/step:0/letter", "first")

    assert name == letter_filename("case:17/step:0/letter", "first")
    assert name != letter_filename("case:17/step:0/letter", "final")
    assert name.startswith("case-17-step-0-letter-first-") and name.endswith(".pdf")
    assert "/" not in name and ":" not in name


def test_write_letter_writes_the_pdf_under_its_key(tmp_path: Path) -> None:
    path = write_letter(make_letter(), tmp_path / "letters", "case:17/step:0/letter")

    assert path.parent == tmp_path / "letters"
    assert path.name == letter_filename("case:17/step:0/letter")
    assert path.read_bytes() == render_letter(make_letter())
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_crash_while_writing_leaves_the_old_letter_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write_letter(make_letter(), tmp_path, "case:17/step:0/letter")
    before = first.read_bytes()

    def crash(src: str, dst: str) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk gone"):
        write_letter(make_letter("Other Name Ltd"), tmp_path, "case:17/step:0/letter")

    assert first.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name]


def test_debtor_name_is_required() -> None:
    with pytest.raises(ValueError, match="debtor name is empty"):
        Debtor("  ")


def test_long_invoice_lists_repeat_the_table_header_on_each_page() -> None:
    lines = tuple(
        InvoiceLine(
            f"INV-{i:04d}", date(2025, 3, 1), Money(Decimal("100.10") * i, "NZD")
        )
        for i in range(1, 45)
    )

    data = render_letter(make_letter(invoices=lines))

    pages = [p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]
    assert len(pages) == 2
    assert all("Invoice Due date Days late Amount due" in p for p in pages)
    # 100.10 x (1 + ... + 44) = 100.10 x 990 = 99,099.00
    assert "Total $99,099.00" in pages[1]
    assert "INV-0044 1 March 2025 61 $4,404.40" in pages[1]


def test_long_invoice_number_shrinks_to_its_column_and_stays_whole() -> None:
    number = "INV-0003-LONG-REFERENCE-NUMBER-2025-ABCDEFG"
    lines = (InvoiceLine(number, date(2025, 3, 4), Money(Decimal("300.30"), "NZD")),)

    text = pdf_text(render_letter(make_letter(invoices=lines)))

    assert f"{number} 4 March 2025 58 $300.30" in text


def _jis_kanji() -> str:
    kanji = []
    for hi in range(0xB0, 0xF5):  # JIS X 0208 rows 16-84: the level 1 and 2 kanji
        for lo in range(0xA1, 0xFF):
            try:
                kanji.append(bytes([hi, lo]).decode("euc_jp"))
            except UnicodeDecodeError:
                pass
    return "".join(kanji)


LETTERS = (
    string.ascii_letters
    + "".join(
        chr(c) for c in range(0xC0, 0x250) if chr(c).isalpha() and c not in (0xD7, 0xF7)
    )
    + "".join(chr(c) for c in range(0x1EA0, 0x1EFA))  # Vietnamese
    + "".join(chr(c) for c in range(0x3041, 0x3097))  # hiragana
    + "".join(chr(c) for c in range(0x30A1, 0x30FB))  # katakana
    + _jis_kanji()
)
NAMES = st.lists(
    st.text(alphabet=LETTERS, min_size=1, max_size=12), min_size=1, max_size=4
).map(" ".join)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=NAMES)
def test_any_covered_name_extracts_exactly(name: str) -> None:
    text = pdf_text(render_letter(make_letter(name)))

    assert unicodedata.normalize("NFC", name) in text.splitlines()


def test_line_breaks_and_control_characters_in_ledger_fields_are_flattened() -> None:
    debtor = Debtor("Tui Landscaping\r\nLtd\x07", ("12 Queen Street\nAuckland 1010",))

    text = pdf_text(render_letter(make_letter(debtor=debtor)))

    assert debtor.name == "Tui Landscaping Ltd"
    assert debtor.address_lines == ("12 Queen Street", "Auckland 1010")
    assert "Tui Landscaping Ltd\n12 Queen Street\nAuckland 1010" in text


def test_every_template_compiles_ahead_of_use() -> None:
    from app.channels.letters import TEMPLATES, load_templates

    # Workers compile them before forking: a broken template fails the worker's
    # start, not a debtor's letter.
    assert load_templates() == len([p for p in TEMPLATES.iterdir() if p.is_file()])
