"""QuickBooks Online v3 wire details: JSON with exact decimals, timestamps, faults.

Amounts live as `Decimal` in the sandbox and go out as JSON numbers written from the
Decimal's own digits, never through a float.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

_MARK = "\x00D:"
_MARKED = re.compile(r'"\\u0000D:(-?[0-9][0-9.E+\-]*)"')


def _mark(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _MARK + format(value, "f")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(obj: Any, indent: int | None = None) -> str:
    """JSON text of `obj`, Decimals written as exact numbers."""
    text = json.dumps(obj, default=_mark, ensure_ascii=False, indent=indent)
    return _MARKED.sub(_unmark, text)


def _unmark(match: re.Match[str]) -> str:
    return match.group(1)


def loads(text: str | bytes) -> Any:
    """Parse JSON, reading every non-integer number as a Decimal."""
    return json.loads(text, parse_float=Decimal)


def local_stamp(instant: datetime, tz: str) -> str:
    """`2025-05-01T05:00:00-07:00`: how QBO writes MetaData times."""
    return instant.astimezone(ZoneInfo(tz)).isoformat(timespec="seconds")


def response_time(instant: datetime, tz: str) -> str:
    """`2025-05-01T05:00:00.000-07:00`: the `time` of every response body."""
    return instant.astimezone(ZoneInfo(tz)).isoformat(timespec="milliseconds")


def parse_stamp(text: str, tz: str) -> datetime:
    """A QBO date-time literal; one without an offset is read in the company's zone."""
    # NOTE: python-quickbooks formats changedSince without an offset
    # (helpers.qb_datetime_format); Intuit does not document the zone it then assumes.
    # We take the company's own zone, which matches what its UI shows.
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value


class QboFault(Exception):
    """A fault the API answers with: HTTP status plus the JSON Fault body."""

    def __init__(
        self,
        code: str,
        message: str,
        detail: str = "",
        *,
        kind: str = "ValidationFault",
        status: int = 400,
        element: str = "",
    ) -> None:
        super().__init__(f"{code} {message}: {detail}")
        self.code = code
        self.message = message
        self.detail = detail
        self.kind = kind
        self.status = status
        self.element = element

    def error(self) -> dict[str, str]:
        return {
            "Message": self.message,
            "Detail": self.detail,
            "code": self.code,
            "element": self.element,
        }

    def body(self, time: str) -> dict[str, Any]:
        return {"Fault": {"Error": [self.error()], "type": self.kind}, "time": time}


def parser_error(detail: str) -> QboFault:
    return QboFault("4000", "Error parsing query", f"QueryParserError: {detail}")


def validation_error(detail: str) -> QboFault:
    # NOTE: Intuit's pages quote the text but not the code of QueryValidationError;
    # 4001 sits between 4000 (parser) and 4002 (processing) [unverified].
    return QboFault("4001", "Invalid query", f"QueryValidationError: {detail}")


def not_found(entity: str, object_id: str) -> QboFault:
    return QboFault(
        "610",
        "Object Not Found",
        f"Object Not Found : Something you're trying to use has been made inactive."
        f" Check the fields with accounts, customers, items, vendors or employees."
        f" {entity} Id={object_id}",
    )


def stale(entity: str, object_id: str) -> QboFault:
    return QboFault(
        "5010",
        "Stale Object Error",
        f"Stale Object Error : You and another user were working on the same thing."
        f" Please try again. {entity} Id={object_id}",
    )


def business(detail: str, code: str = "6000") -> QboFault:
    return QboFault(code, "A business validation error has occurred", detail)


def required(field: str) -> QboFault:
    return QboFault(
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {field} is missing in the request",
        element=field,
    )


def invalid(detail: str, element: str = "") -> QboFault:
    return QboFault(
        "2010",
        "Request has invalid or unsupported property",
        detail,
        element=element,
    )


def unauthorized_body(now_ms: int, detail: str) -> dict[str, Any]:
    """The lowercase 401 body QBO sends for an expired, revoked or unknown token."""
    return {
        "warnings": None,
        "intuitObject": None,
        "fault": {
            "error": [
                {
                    "message": "message=AuthenticationFailed; errorCode=003200;"
                    " statusCode=401",
                    "detail": detail,
                    "code": "3200",
                    "element": None,
                }
            ],
            "type": "AUTHENTICATION",
        },
        "report": None,
        "queryResponse": None,
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": None,
        "requestId": None,
        "time": now_ms,
        "status": None,
        "cdcresponse": [],
    }


def throttle_xml(time: str) -> str:
    """The XML 429 QBO sends even to JSON clients (3001 ThrottleExceeded)."""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="{time}">'
        '<Fault type="SERVICE"><Error code="3001" element="">'
        "<Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>"
        "<Detail>The request limit was reached.  Try again later</Detail>"
        "</Error></Fault></IntuitResponse>"
    )
