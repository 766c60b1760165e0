"""Xero's error bodies: the 400 ValidationException, 401/403 problem documents, 404.

Shapes from the Xero Accounting OpenAPI (`Error`, `Element`, `ValidationError`) and,
for 401/403, the problem-details body Xero's identity layer sends
(`{"Type":null,"Title":"Unauthorized","Status":401,"Detail":"TokenExpired: ..."}`,
LEDGER-APIS.md section 4).
"""

from __future__ import annotations

import uuid
from typing import Any


class XeroError(Exception):
    """An error the sandbox answers in one of Xero's shapes."""

    status = 500

    def body(self) -> Any:
        raise NotImplementedError


class ValidationError(XeroError):
    """A 400 ValidationException; `elements` are the objects that failed, if any."""

    status = 400

    def __init__(
        self, messages: list[str], elements: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages
        self.elements = elements

    def body(self) -> dict[str, Any]:
        elements = self.elements
        if elements is None:
            elements = [{"ValidationErrors": [{"Message": m} for m in self.messages]}]
        return {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": elements,
        }


class BadRequest(XeroError):
    """A 400 that is not about an object's fields (a bad `where`, a bad page size)."""

    status = 400

    def __init__(self, message: str, type_: str = "ValidationException") -> None:
        super().__init__(message)
        self.type_ = type_

    def body(self) -> dict[str, Any]:
        return {
            "ErrorNumber": 10 if self.type_ == "ValidationException" else 16,
            "Type": self.type_,
            "Message": str(self),
        }


class ProblemError(XeroError):
    """401 and 403: the problem-details body of Xero's identity layer."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail

    def body(self) -> dict[str, Any]:
        return {
            "Type": None,
            "Title": self.title,
            "Status": self.status,
            "Detail": self.detail,
            "Instance": str(uuid.uuid4()),
            "Extensions": {},
        }


def unauthorized(detail: str) -> ProblemError:
    """401, e.g. `TokenExpired: token expired at ...`."""
    return ProblemError(401, "Unauthorized", detail)


def forbidden(detail: str = "AuthenticationUnsuccessful") -> ProblemError:
    """403: the tenant is not connected to this token (or the header is missing)."""
    return ProblemError(403, "Forbidden", detail)


class NotFound(XeroError):
    """404; Xero answers unknown ids with a plain-text sentence, not JSON."""

    # NOTE: the sentence is quoted in XeroAPI/Xero-OpenAPI#163 and xero-node#21; Xero
    # declined to make it JSON, so a client must not parse a 404 body.

    status = 404

    def body(self) -> str:
        return "The resource you're looking for cannot be found"
