"""The QuickBooks Online query language, the subset real clients send.

`SELECT * | COUNT(*) FROM <Entity> [WHERE a AND b ...] [ORDERBY|ORDER BY f [ASC|DESC]]
[STARTPOSITION n] [MAXRESULTS n]`; conditions use =, <, >, <=, >=, IN (...) and LIKE
(with % only). Keywords are case-insensitive, entity names are not. String literals
sit in single quotes with \\' for an apostrophe. See Intuit's "Data queries" page:
https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/data-queries
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.sandbox.quickbooks.wire import (
    QboFault,
    parse_stamp,
    parser_error,
    validation_error,
)

QUERYABLE = (
    "Invoice",
    "Customer",
    "Payment",
    "CreditMemo",
    "Vendor",
    "Bill",
    "Account",
    "Item",
    "CompanyInfo",
    "Preferences",
)
MAX_RESULTS = 1000
DEFAULT_RESULTS = 100
OPERATORS = ("<=", ">=", "=", "<", ">")

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:\\.|[^'\\])*')
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),*])
      | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
      | (?P<word>[A-Za-z_][\w.]*)
      | (?P<bad>\S)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    column: int

    @property
    def upper(self) -> str:
        return self.text.upper()


@dataclass(frozen=True)
class Condition:
    field: str
    op: str  # one of OPERATORS, "IN" or "LIKE"
    values: tuple[str | Decimal | bool, ...]


@dataclass
class Query:
    entity: str
    count: bool = False
    conditions: list[Condition] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    start: int = 1
    max_results: int = DEFAULT_RESULTS


def tokenize(text: str) -> list[Token]:
    """Split a statement into tokens; an unterminated quote is a parser error."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup == "bad":
            column = (match.start("bad") if match else position) + 1
            snippet = text[column - 1 : column + 10]
            raise parser_error(
                f'Encountered " "{snippet}" "" at line 1, column {column}.'
            )
        kind = match.lastgroup or "bad"
        tokens.append(Token(kind, match.group(kind), match.start(kind) + 1))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.at = 0

    def peek(self) -> Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise parser_error('Encountered "<EOF>" at line 1.')
        self.at += 1
        return token

    def expect_word(self, *words: str) -> Token:
        token = self.take()
        if token.kind != "word" or token.upper not in words:
            self.fail(token, words)
        return token

    def fail(self, token: Token, expected: tuple[str, ...] = ()) -> None:
        wanted = ", ".join(f'"{w.lower()}"' for w in expected)
        raise parser_error(
            f'Encountered " <{token.kind.upper()}> "{token.text} "" at line 1,'
            f" column {token.column}."
            + (f" Was expecting one of: {wanted}" if wanted else "")
        )

    def at_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.upper in words

    def parse(self) -> Query:
        self.expect_word("SELECT")
        count = self.projection()
        self.expect_word("FROM")
        entity = self.take()
        if entity.kind != "word":
            self.fail(entity)
        if entity.text not in QUERYABLE:
            raise QboFault(
                "4001" if entity.upper in {e.upper() for e in QUERYABLE} else "4000",
                "Invalid query",
                f"QueryValidationError: Unsupported entity {entity.text}",
            )
        query = Query(entity=entity.text, count=count)
        if self.at_word("WHERE"):
            self.take()
            query.conditions.append(self.condition())
            while self.at_word("AND"):
                self.take()
                query.conditions.append(self.condition())
        self.tail(query)
        return query

    def projection(self) -> bool:
        token = self.take()
        if token.kind == "punct" and token.text == "*":
            # NOTE: python-quickbooks sends `SELECT *, Sku FROM Item` (mixins.all);
            # extra named columns after * are accepted and change nothing.
            while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                self.take()
                name = self.take()
                if name.kind != "word":
                    self.fail(name)
            return False
        if token.kind == "word" and token.upper == "COUNT":
            for expected in ("(", "*", ")"):
                nxt = self.take()
                if nxt.text != expected:
                    self.fail(nxt)
            return True
        if token.kind == "word":
            raise validation_error(
                "Projections are not supported; select * or count(*)"
            )
        self.fail(token)
        return False

    def condition(self) -> Condition:
        name = self.take()
        if name.kind != "word" or name.upper in {"AND", "OR", "ORDERBY", "ORDER"}:
            self.fail(name)
        token = self.take()
        if token.kind == "op" and token.text in OPERATORS:
            return Condition(name.text, token.text, (self.literal(),))
        if token.kind == "word" and token.upper == "LIKE":
            value = self.literal()
            if not isinstance(value, str):
                raise validation_error("LIKE needs a string literal")
            return Condition(name.text, "LIKE", (value,))
        if token.kind == "word" and token.upper == "IN":
            opening = self.take()
            if opening.text != "(":
                self.fail(opening)
            values = [self.literal()]
            while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                self.take()
                values.append(self.literal())
            closing = self.take()
            if closing.text != ")":
                self.fail(closing)
            return Condition(name.text, "IN", tuple(values))
        self.fail(token, ("=", "<", ">", "<=", ">=", "in", "like"))
        raise AssertionError("unreachable")

    def literal(self) -> str | Decimal | bool:
        token = self.take()
        if token.kind == "string":
            return re.sub(r"\\(.)", r"\1", token.text[1:-1])
        if token.kind == "number":
            return Decimal(token.text)
        if token.kind == "word" and token.upper in {"TRUE", "FALSE"}:
            return token.upper == "TRUE"
        self.fail(token)
        raise AssertionError("unreachable")

    def tail(self, query: Query) -> None:
        seen: set[str] = set()
        while (token := self.peek()) is not None:
            word = token.upper if token.kind == "word" else ""
            if word in seen:
                self.fail(token)
            if word in {"ORDERBY", "ORDER"}:
                self.take()
                if word == "ORDER":
                    self.expect_word("BY")
                query.order = self.order_terms()
                seen.add(word)
            elif word in {"STARTPOSITION", "MAXRESULTS"}:
                self.take()
                number = self.take()
                if number.kind != "number" or "." in number.text:
                    self.fail(number)
                value = int(number.text)
                if word == "STARTPOSITION":
                    # NOTE: STARTPOSITION is 1-based; Intuit answers 0 like 1.
                    query.start = max(1, value)
                else:
                    if value > MAX_RESULTS:
                        raise validation_error(
                            f"value {value} is too large. Max allowed value is"
                            f" {MAX_RESULTS}"
                        )
                    query.max_results = max(0, value)
                seen.add(word)
            else:
                self.fail(token, ("orderby", "order", "startposition", "maxresults"))

    def order_terms(self) -> list[tuple[str, bool]]:
        terms = []
        while True:
            name = self.take()
            if name.kind != "word":
                self.fail(name)
            descending = False
            if self.at_word("ASC", "DESC"):
                descending = self.take().upper == "DESC"
            terms.append((name.text, descending))
            if self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                self.take()
                continue
            return terms


def parse(text: str) -> Query:
    """Parse one statement, raising the fault QBO would answer with."""
    return _Parser(text).parse()


# TODO: QBO refuses a WHERE on a property that is not queryable (QueryValidationError);
# the sandbox treats an unknown property as absent and returns no rows, so a typo
# in a client's query shows up as an empty answer rather than a fault.


def field_value(obj: dict[str, Any], path: str) -> Any:
    """The value at a dotted path; a reference compares by its `value`."""
    current: Any = obj
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    if isinstance(current, dict) and "value" in current:
        return current["value"]
    return current


def _comparable(
    actual: Any, literal: str | Decimal | bool, tz: str, field: str = ""
) -> tuple[Any, Any]:
    if _is_id(field) and str(actual).isdigit() and str(literal).isdigit():
        # NOTE: Ids are numeric strings that QBO compares as numbers (Id > '999').
        return int(str(actual)), int(str(literal))
    if isinstance(actual, bool) or isinstance(literal, bool):
        text = str(literal).lower() if not isinstance(literal, str) else literal.lower()
        return str(actual).lower(), text
    if isinstance(actual, (int, float, Decimal)):
        try:
            # Objects loaded from Python or plain JSON may hold floats: compare exactly.
            return Decimal(str(actual)), Decimal(str(literal))
        except InvalidOperation:
            return str(actual), str(literal)
    if isinstance(actual, str) and "T" in actual and len(actual) >= 19:
        try:
            return parse_stamp(actual, tz), parse_stamp(str(literal), tz)
        except ValueError:
            pass
    if isinstance(actual, str) and isinstance(literal, Decimal):
        try:
            return Decimal(actual), literal
        except InvalidOperation:
            return actual, str(literal)
    return actual, literal if isinstance(literal, str) else str(literal)


def _like(actual: Any, pattern: str) -> bool:
    # NOTE: only % is a wildcard in QBO; _ is a literal underscore.
    regex = ".*".join(re.escape(part) for part in pattern.split("%"))
    return isinstance(actual, str) and re.fullmatch(regex, actual, re.I) is not None


def matches(obj: dict[str, Any], condition: Condition, tz: str) -> bool:
    """Does `obj` satisfy one WHERE condition?"""
    actual = field_value(obj, condition.field)
    if actual is None:
        return False
    if condition.op == "LIKE":
        return _like(actual, str(condition.values[0]))
    if condition.op == "IN":
        return any(
            _compare(*_comparable(actual, value, tz, condition.field), "=")
            for value in condition.values
        )
    literal = condition.values[0]
    return _compare(*_comparable(actual, literal, tz, condition.field), condition.op)


def _is_id(field: str) -> bool:
    last = field.rsplit(".", 1)[-1]
    return last == "Id" or last.endswith("Ref") or last == "TxnId"


def _compare(left: Any, right: Any, op: str) -> bool:
    try:
        if op == "=":
            return bool(left == right)
        if op == "<":
            return bool(left < right)
        if op == ">":
            return bool(left > right)
        if op == "<=":
            return bool(left <= right)
        return bool(left >= right)
    except TypeError:
        return False


def sort_key(path: str):  # type: ignore[no-untyped-def]
    """A key function ordering objects by `path`, missing values first."""

    def key(obj: dict[str, Any]) -> tuple[int, Any]:
        value = field_value(obj, path)
        if value is None:
            return (0, "")
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            return (1, Decimal(value))
        if path == "Id" and isinstance(value, str) and value.isdigit():
            return (1, Decimal(value))
        if isinstance(value, str) and "T" in value and len(value) >= 19:
            try:
                return (2, datetime.fromisoformat(value).timestamp())
            except ValueError:
                pass
        return (3, str(value).lower())

    return key
