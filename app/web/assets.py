"""Fonts the pages may need that a browser's machine may lack.

The letters' own CJK subset (app/channels/fonts) doubles as a web font, so a
debtor named 株式会社さくら商事 reads correctly on a machine without Japanese fonts;
the stylesheet's unicode-range makes a browser fetch it only for pages that use it.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, send_from_directory

from app.web.security import public

bp = Blueprint("assets", __name__)

FONTS = Path(__file__).resolve().parent.parent / "channels" / "fonts"
SERVED = frozenset({"NotoSansCJKjp-Regular-JIS.ttf"})
A_YEAR = 365 * 24 * 3600


@bp.get("/fonts/<name>")
@public
def font(name: str) -> Response:
    if name not in SERVED:
        abort(404)
    return send_from_directory(FONTS, name, mimetype="font/ttf", max_age=A_YEAR)
