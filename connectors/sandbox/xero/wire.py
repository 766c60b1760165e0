"""JSON as Xero writes it: amounts as exact decimals (`0.00`, `1.000000`), UTF-8 text.

The standard encoder cannot write a Decimal as a number without going through float,
which would turn `410.00` into `410.0` and a cent amount into a binary fraction, so the
sandbox writes its bodies with this small encoder instead.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

_string = json.JSONEncoder(ensure_ascii=False).encode


def loads(text: str | bytes) -> Any:
    """Parse JSON keeping every number with a fraction as a Decimal."""
    return json.loads(text, parse_float=Decimal)


def dumps(value: Any) -> str:
    """Serialise `value`; Decimals are written digit for digit."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_string(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a JSON number: {value}")
        out.append(_plain(value))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        raise TypeError("the sandbox never holds money as float; use Decimal")
    elif isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append(_string(str(key)))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _plain(value: Decimal) -> str:
    # Decimal's str() switches to exponent notation for tiny or huge values (1E+3),
    # which JSON allows but no ledger writes; format it positionally instead.
    return format(value, "f")


def decimals(value: Any) -> Any:
    """A copy of parsed JSON with its floats turned into Decimals."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decimals(v) for v in value]
    return value
