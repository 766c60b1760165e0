"""Running a parsed query against a realm and shaping the QueryResponse."""

from __future__ import annotations

from typing import Any

from connectors.sandbox.quickbooks.query import Query, matches, parse, sort_key
from connectors.sandbox.quickbooks.state import Realm

_CACHED_RESULTS = 16  # filtered, ordered results kept per realm while nothing changes


def run_query(realm: Realm, text: str, page_overrun: int = 0) -> dict[str, Any]:
    """The body QBO answers `text` with: rows, or `totalCount`, or `{}` when empty.

    `page_overrun` is a fault control: extra rows past MAXRESULTS (case C10 d).
    """
    query = parse(text)
    with realm.lock:
        rows = _rows(realm, query)
        if query.count:
            return {"QueryResponse": {"totalCount": len(rows)}, "time": realm.time()}
        first = query.start - 1
        # Stored objects are never changed in place (books copy on write), so the
        # page can be serialised after the lock is released.
        page = rows[first : first + query.max_results + page_overrun]
        time = realm.time()
    if not page:
        # NOTE: an empty answer has no entity key (simonv3/quickbooks-python#4).
        return {"QueryResponse": {}, "time": time}
    return {
        "QueryResponse": {
            query.entity: page,
            "startPosition": query.start,
            "maxResults": len(page),
        },
        "time": time,
    }


def _rows(realm: Realm, query: Query) -> list[dict[str, Any]]:
    """Every row the query selects, in order; reused while the realm is unchanged."""
    key = (query.entity, tuple(query.conditions), tuple(query.order))
    cached = realm.results.get(key)
    if cached is not None and cached[0] == realm.version:
        return cached[1]
    rows = [
        obj
        for obj in realm.all(query.entity)
        if all(matches(obj, c, realm.timezone) for c in query.conditions)
    ]
    for path, descending in reversed(query.order):
        if path == "Id" and not descending and len(query.order) == 1:
            continue  # realm.all is already in Id order
        rows = sorted(rows, key=sort_key(path), reverse=descending)
    if len(realm.results) >= _CACHED_RESULTS:
        realm.results.pop(next(iter(realm.results)))
    realm.results[key] = (realm.version, rows)
    return rows
