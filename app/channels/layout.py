"""The letter's page: embedded OFL fonts, letterhead, address block, text and tables.

fpdf2 draws; this module decides where. Text in any script the shipped fonts cover
renders through fpdf2's fallback fonts (Noto Sans first, then Noto Sans CJK JP), and
text they do not cover is refused before anything is drawn, never printed as boxes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from functools import cache, lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from app.channels.parties import Letterhead

FONTS = Path(__file__).parent / "fonts"
MAIN_FONT = "NotoSans"
CJK_FONT = "NotoSansCJKjp"
FONT_FILES = {
    (MAIN_FONT, ""): "NotoSans-Regular.ttf",
    (MAIN_FONT, "B"): "NotoSans-Bold.ttf",
    (CJK_FONT, ""): "NotoSansCJKjp-Regular-JIS.ttf",
}
LINE = 5.2  # mm between lines of body text at 10 pt
LOGO_HEIGHT = 16.0  # mm
ROW = LINE + 1  # mm per invoice table row
ALIGNS = ("L", "L", "R", "R")
TABLE_SIZE = 9.5  # pt
MIN_TABLE_SIZE = 6.0  # pt; below this a cell's text may overrun its column


class UnrenderableTextError(ValueError):
    """Text holds characters no shipped font has a glyph for."""


@cache
def _cmap(file: str) -> frozenset[int]:
    with TTFont(FONTS / file, lazy=True) as font:
        return frozenset(font.getBestCmap())


@lru_cache(maxsize=1)
def covered_codepoints() -> frozenset[int]:
    """Every code point some shipped font can draw."""
    return frozenset().union(*(_cmap(file) for file in FONT_FILES.values()))


@lru_cache(maxsize=1)
def main_codepoints() -> frozenset[int]:
    """Code points Noto Sans draws in both weights: text needing no fallback."""
    return _cmap(FONT_FILES[(MAIN_FONT, "")]) & _cmap(FONT_FILES[(MAIN_FONT, "B")])


def check_renderable(texts: Iterable[str]) -> bool:
    """Raise UnrenderableTextError naming the first character no font covers.

    Returns whether any text needs the CJK face, which a letter then embeds; the
    rest never load it (it is 2 MB and most of a letter's rendering time).
    """
    covered, main = covered_codepoints(), main_codepoints()
    needs_cjk = False
    for text in texts:
        for char in text:
            if char in "\n\t":
                continue
            point = ord(char)
            if point not in covered:
                raise UnrenderableTextError(
                    f"no font for U+{point:04X} {char!r} in {text!r}"
                )
            needs_cjk = needs_cjk or point not in main
    return needs_cjk


class LetterDocument(FPDF):
    """An A4 letter with the shipped fonts registered and a page-numbered footer."""

    # TODO: each letter parses its fonts again (about 0.1 s a letter here without the
    # CJK face, 0.3 s with it); sharing parsed fonts between documents needs fpdf2 to
    # keep each document's glyph subset apart, which it does not offer.

    def __init__(
        self,
        *,
        title: str,
        author: str,
        dated: date,
        footer: str,
        cjk: bool = False,
    ) -> None:
        super().__init__(format="A4", unit="mm")
        for (family, style), file in FONT_FILES.items():
            if family == CJK_FONT and not cjk:
                continue
            self.add_font(family, style, str(FONTS / file))
        # exact_match=False: bold text with a kanji in it falls back to the regular CJK
        # face instead of failing; there is no bold CJK face in the repo.
        fallbacks = [MAIN_FONT, CJK_FONT] if cjk else [MAIN_FONT]
        self.set_fallback_fonts(fallbacks, exact_match=False)
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(auto=True, margin=22)
        self.set_title(title)
        self.set_author(author)
        self.set_creator("CARE")
        # TODO: the wording is English only; a debtor whose locale is not English
        # still gets English text (amounts and dates follow the creditor's locale).
        self.set_lang("en")
        # The letter's own date, not the wall clock: same input, same bytes.
        self.set_creation_date(datetime.combine(dated, time(0), tzinfo=UTC))
        self._footer_text = footer
        self.alias_nb_pages()
        self.add_page()

    def lines(self, height: float, text: str, align: str = "L") -> None:
        """`text` wrapped to the text width, the cursor left at the next line."""
        self.multi_cell(
            0, height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(MAIN_FONT, "", 8)
        self.set_text_color(90)
        if self._footer_text:
            self.lines(4, self._footer_text, align="C")
        self.cell(0, 4, f"Page {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(0)

    def letterhead(self, head: Letterhead) -> None:
        """Logo, sender name and address at the top, a rule under them."""
        top = self.get_y()
        text_x = self.l_margin
        if head.logo_png:
            info = self.image(
                io.BytesIO(head.logo_png),
                x=self.l_margin,
                y=top,
                h=LOGO_HEIGHT,
                alt_text=f"{head.name} logo",  # read out by screen readers
            )
            text_x += float(info.rendered_width) + 5
        self.set_xy(text_x, top)
        self.set_font(MAIN_FONT, "B", 14)
        self.lines(7, head.name)
        self.set_font(MAIN_FONT, "", 9)
        contact = [c for c in (head.phone, head.email, head.website) if c]
        for line in [*head.address_lines, "  ·  ".join(contact)]:
            if line:
                self.set_x(text_x)
                self.lines(4.4, line)
        bottom = max(self.get_y(), top + (LOGO_HEIGHT if head.logo_png else 0))
        self.set_y(bottom + 3)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(6)

    def dated_address(self, dated: str, lines: Sequence[str], reference: str) -> None:
        """The date on the right, then the debtor's address and our reference."""
        self.set_font(MAIN_FONT, "", 10)
        self.lines(LINE, dated, align="R")
        self.ln(2)
        for line in lines:
            self.lines(LINE, line)
        if reference:
            self.ln(2)
            self.lines(LINE, f"Our reference: {reference}")
        self.ln(5)

    def heading(self, text: str, size: float = 12) -> None:
        self.set_font(MAIN_FONT, "B", size)
        self.lines(size * 0.5, text)
        self.ln(2)

    def paragraph(self, lines: Sequence[str]) -> None:
        self.set_font(MAIN_FONT, "", 10)
        for line in lines:
            self.lines(LINE, line)
        self.ln(3)

    def invoice_table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        totals: Sequence[Sequence[str]],
    ) -> None:
        """Invoice rows under a bold header (repeated on a new page), bold totals."""
        width = self.w - self.l_margin - self.r_margin
        widths = [width * 0.34, width * 0.24, width * 0.14, width * 0.28]
        self._row(header, widths, "B", border="B")
        for row in rows:
            if self.will_page_break(ROW):
                self.add_page()
                self._row(header, widths, "B", border="B")
            self._row(row, widths, "", border="")
        for i, row in enumerate(totals):
            self._row(row, widths, "B", border="T" if i == 0 else "")
        self.ln(4)

    def _row(
        self, cells: Sequence[str], widths: Sequence[float], style: str, border: str
    ) -> None:
        if self.will_page_break(ROW):
            self.add_page()
        for text, w, align in zip(cells, widths, ALIGNS, strict=True):
            # A long invoice number or amount shrinks to fit its column rather than
            # running into the next one.
            size = TABLE_SIZE
            self.set_font(MAIN_FONT, style, size)
            while (
                size > MIN_TABLE_SIZE
                and self.get_string_width(text) > w - 2 * self.c_margin
            ):
                size -= 0.5
                self.set_font(MAIN_FONT, style, size)
            self.cell(w, ROW, text, border=border, align=align)
        self.ln(ROW)
