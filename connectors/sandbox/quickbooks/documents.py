"""Support-case files: QBO API answers, saved as they came, turned into objects to load.

A file may hold entity lists (`{"Invoice": [...]}`), single reads
(`{"Invoice": {...}, "time": ..}`), query answers (`{"QueryResponse": {...}}`), change
feeds (`{"CDCResponse": [...]}`), batch answers, or a list of any of these under
`"responses"`. Everything is flattened to `{entity: [objects]}`.
"""

from __future__ import annotations

from typing import Any

_NOT_ENTITIES = frozenset(
    {
        "time",
        "startPosition",
        "maxResults",
        "totalCount",
        "realm_id",
        "bId",
        "Fault",
        "warnings",
        "requestId",
        "status",
    }
)


def flatten(document: Any) -> dict[str, list[dict[str, Any]]]:
    """Objects by entity from one saved API answer (or a bundle of them)."""
    found: dict[str, list[dict[str, Any]]] = {}
    _collect(document, found)
    return found


def _collect(document: Any, found: dict[str, list[dict[str, Any]]]) -> None:
    if isinstance(document, list):
        for item in document:
            _collect(item, found)
        return
    if not isinstance(document, dict):
        raise ValueError(
            f"expected a JSON object or array, got {type(document).__name__}"
        )
    for key, value in document.items():
        if key in _NOT_ENTITIES:
            continue
        if key in ("QueryResponse", "BatchItemResponse", "responses"):
            _collect(value, found)
        elif key == "CDCResponse":
            for part in value:
                _collect(part.get("QueryResponse", []), found)
        elif isinstance(value, dict):
            found.setdefault(key, []).append(value)
        elif isinstance(value, list):
            found.setdefault(key, []).extend(value)
        else:
            raise ValueError(f"{key!r} holds {value!r}, not QBO objects")
