"""Xero's `where` filter: a small C#-like expression over an object's fields.

What real clients send: `Type=="ACCREC" AND Status=="AUTHORISED" AND AmountDue>0`,
`DueDate<DateTime(2025,02,01)`, `Contact.ContactID==Guid("...")`,
`Name.Contains("O'Brien")`, `(A OR B)`, `!=null`. Comparing a date field with a string
is an error at Xero ("Operator '>' incompatible with operand types 'DateTime?' and
'String'", Xero-NetStandard#597), and the sandbox says the same so a client bug shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.sandbox.xero.dates import is_ms_date, parse_instant
from connectors.sandbox.xero.errors import BadRequest

Predicate = Callable[[dict[str, Any]], bool]
_Getter = Callable[[dict[str, Any]], Any]

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<string>"(?:[^"\\]|\\.)*")
    |(?P<number>-?\d+(?:\.\d+)?)
    |(?P<op>==|!=|<=|>=|&&|\|\||<|>|!|\(|\)|,|\.)
    |(?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"AND": "&&", "OR": "||", "NOT": "!"}


class Guid(str):
    """A `Guid("...")` literal; compares with id fields ignoring case."""


def compile_where(text: str) -> Predicate:
    """A predicate for `text`; raises BadRequest when Xero would refuse it."""
    tokens = _tokenize(text)
    parser = _Parser(tokens, text)
    node = parser.expression()
    left = parser.peek()
    if left is not None:
        raise BadRequest(f"Unexpected '{left[1]}' in where clause: {text}")
    return lambda obj: _truth(node(obj))


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            if text[pos:].strip() == "":
                break
            raise BadRequest(f"Syntax error in where clause at '{text[pos:]}'")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "word" and value.upper() in _KEYWORDS:
            kind, value = "op", _KEYWORDS[value.upper()]
        tokens.append((kind, value))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], text: str) -> None:
        self.tokens = tokens
        self.pos = 0
        self.text = text

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            want = value or "a value"
            raise BadRequest(f"Expected {want} in where clause: {self.text}")
        self.pos += 1
        return token

    def accept(self, value: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "op" and token[1] == value:
            self.pos += 1
            return True
        return False

    def expression(self) -> _Getter:
        left = self.conjunction()
        while self.accept("||"):
            right = self.conjunction()
            left = _or(left, right)
        return left

    def conjunction(self) -> _Getter:
        left = self.negation()
        while self.accept("&&"):
            right = self.negation()
            left = _and(left, right)
        return left

    def negation(self) -> _Getter:
        if self.accept("!"):
            inner = self.negation()
            return lambda obj: not _truth(inner(obj))
        return self.comparison()

    def comparison(self) -> _Getter:
        left = self.operand()
        token = self.peek()
        if (
            token
            and token[0] == "op"
            and token[1] in ("==", "!=", "<", ">", "<=", ">=")
        ):
            self.pos += 1
            right = self.operand()
            return _compare(token[1], left, right)
        return left

    def operand(self) -> _Getter:
        value = self.primary()
        while self.accept("."):
            name = self.take()[1]
            self.take("(")
            args = []
            if not self.accept(")"):
                args.append(self.operand())
                while self.accept(","):
                    args.append(self.operand())
                self.take(")")
            value = _method(name, value, args, self.text)
        return value

    def primary(self) -> _Getter:
        kind, value = self.take()
        if kind == "string":
            return _literal(_unquote(value))
        if kind == "number":
            return _literal(Decimal(value))
        if kind == "op" and value == "(":
            inner = self.expression()
            self.take(")")
            return inner
        if kind == "word":
            return self.word(value)
        raise BadRequest(f"Unexpected '{value}' in where clause: {self.text}")

    def word(self, name: str) -> _Getter:
        lowered = name.lower()
        if lowered in ("true", "false"):
            return _literal(lowered == "true")
        if lowered == "null":
            return _literal(None)
        if name in ("DateTime", "Guid") and self.accept("("):
            args = [self.take()[1]]
            while self.accept(","):
                args.append(self.take()[1])
            self.take(")")
            literal = _datetime(args, self.text) if name == "DateTime" else _guid(args)
            return _literal(literal)
        path = [name]
        # A dotted path continues while the next dot is not a method call.
        while self.peek() == ("op", ".") and not _is_call(self.tokens, self.pos + 1):
            self.pos += 1
            path.append(self.take()[1])
        return _field(path)


def _is_call(tokens: list[tuple[str, str]], index: int) -> bool:
    return index + 1 < len(tokens) and tokens[index + 1] == ("op", "(")


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def _datetime(args: list[str], text: str) -> datetime:
    try:
        parts = [int(a) for a in args] + [0] * (6 - len(args))
        year, month, day, hour, minute, second = parts[:6]
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (ValueError, TypeError) as exc:
        raise BadRequest(f"Invalid DateTime in where clause: {text}") from exc


def _guid(args: list[str]) -> Guid:
    return Guid(_unquote(args[0]).lower() if args[0].startswith('"') else args[0])


# Field types Xero knows without looking at any row, so a mistyped comparison fails
# even on an empty organisation, as it does at Xero.
_DATE_FIELDS = {
    "Date",
    "DueDate",
    "UpdatedDateUTC",
    "FullyPaidOnDate",
    "ExpectedPaymentDate",
    "PlannedPaymentDate",
}
_NUMBER_FIELDS = {
    "AmountDue",
    "AmountPaid",
    "AmountCredited",
    "Total",
    "SubTotal",
    "TotalTax",
    "CurrencyRate",
    "RemainingCredit",
    "Amount",
}


def _static_kind(getter: _Getter) -> str | None:
    return getattr(getter, "kind", None)


def _field(path: list[str]) -> _Getter:
    def get(obj: dict[str, Any]) -> Any:
        value: Any = obj
        for key in path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        if is_ms_date(value):
            return parse_instant(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return Decimal(value)
        return value

    if path[-1] in _DATE_FIELDS:
        get.kind = "DateTime?"  # type: ignore[attr-defined]
    elif path[-1] in _NUMBER_FIELDS:
        get.kind = "Decimal"  # type: ignore[attr-defined]
    return get


def _literal(value: Any) -> _Getter:
    def get(obj: dict[str, Any]) -> Any:
        return value

    if value is not None:
        get.kind = _type_name(value)  # type: ignore[attr-defined]
    return get


def _type_name(value: Any) -> str:
    if isinstance(value, datetime):
        return "DateTime?"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, Decimal):
        return "Decimal"
    if isinstance(value, Guid):
        return "Guid"
    return "String"


def _compare(op: str, left: _Getter, right: _Getter) -> _Getter:
    kinds = (_static_kind(left), _static_kind(right))
    if None not in kinds and kinds[0] != kinds[1] and "Guid" not in kinds:
        raise BadRequest(
            f"Operator '{op}' incompatible with operand types"
            f" '{kinds[0]}' and '{kinds[1]}'"
        )

    def run(obj: dict[str, Any]) -> bool:
        a, b = left(obj), right(obj)
        if a is None or b is None:
            if op == "==":
                return a is None and b is None
            if op == "!=":
                return not (a is None and b is None)
            return False
        a, b = _coerce(op, a, b)
        if op == "==":
            return bool(a == b)
        if op == "!=":
            return bool(a != b)
        if isinstance(a, str):
            raise BadRequest(
                f"Operator '{op}' incompatible with operand types 'String' and 'String'"
            )
        return bool(
            {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]  # type: ignore[operator]
        )

    return run


def _coerce(op: str, a: Any, b: Any) -> tuple[Any, Any]:
    if isinstance(a, Guid) or isinstance(b, Guid):
        return str(a).lower(), str(b).lower()
    kinds = (_type_name(a), _type_name(b))
    if kinds[0] != kinds[1]:
        raise BadRequest(
            f"Operator '{op}' incompatible with operand types"
            f" '{kinds[0]}' and '{kinds[1]}'"
        )
    return a, b


def _method(name: str, target: _Getter, args: list[_Getter], text: str) -> _Getter:
    strings: dict[str, Callable[[str, list[Any]], Any]] = {
        "Contains": lambda s, a: a[0] in s,
        "StartsWith": lambda s, a: s.startswith(a[0]),
        "EndsWith": lambda s, a: s.endswith(a[0]),
        "ToLower": lambda s, a: s.lower(),
        "ToUpper": lambda s, a: s.upper(),
    }
    if name not in strings:
        raise BadRequest(f"No applicable method '{name}' in where clause: {text}")
    call = strings[name]

    def run(obj: dict[str, Any]) -> Any:
        value = target(obj)
        values = [arg(obj) for arg in args]
        if value is None:
            return None if name in ("ToLower", "ToUpper") else False
        if not isinstance(value, str) or any(not isinstance(v, str) for v in values):
            raise BadRequest(f"Method '{name}' needs strings in where clause: {text}")
        return call(value, values)

    return run


def _or(left: _Getter, right: _Getter) -> _Getter:
    return lambda obj: _truth(left(obj)) or _truth(right(obj))


def _and(left: _Getter, right: _Getter) -> _Getter:
    return lambda obj: _truth(left(obj)) and _truth(right(obj))


def _truth(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise BadRequest("A where clause must be a true/false expression")


def parse_number(text: str) -> Decimal:
    """A Decimal from a query-string number, or BadRequest."""
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise BadRequest(f"Not a number: {text!r}") from exc
