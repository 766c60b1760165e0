"""Running a parsed query against a realm and shaping the QueryResponse."""

from __future__ import annotations

import copy
from typing import Any

from connectors.sandbox.quickbooks.query import matches, parse, sort_key
from connectors.sandbox.quickbooks.state import Realm


def run_query(realm: Realm, text: str, page_overrun: int = 0) -> dict[str, Any]:
    """The body QBO answers `text` with: rows, or `totalCount`, or `{}` when empty.

    `page_overrun` is a fault control: extra rows past MAXRESULTS (case C10 d).
    """
    query = parse(text)
    with realm.lock:
        rows = [
            obj
            for obj in realm.all(query.entity)
            if all(matches(obj, c, realm.timezone) for c in query.conditions)
        ]
        if query.count:
            return {"QueryResponse": {"totalCount": len(rows)}, "time": realm.time()}
        for path, descending in reversed(query.order):
            rows = sorted(rows, key=sort_key(path), reverse=descending)
        first = query.start - 1
        # copied under the lock: a concurrent write must not change a page mid-dump
        page = copy.deepcopy(rows[first : first + query.max_results + page_overrun])
    if not page:
        # NOTE: an empty answer has no entity key (simonv3/quickbooks-python#4).
        return {"QueryResponse": {}, "time": realm.time()}
    return {
        "QueryResponse": {
            query.entity: page,
            "startPosition": query.start,
            "maxResults": len(page),
        },
        "time": realm.time(),
    }
