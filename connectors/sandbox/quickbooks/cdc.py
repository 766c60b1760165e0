"""ChangeDataCapture: `GET /v3/company/<realm>/cdc?entities=..&changedSince=..`.

Objects changed after `changedSince`, newest state only; deleted ones as
`{"domain","status":"Deleted","Id","MetaData"}`. The window reaches back 30 days and
one answer holds at most 1,000 objects across all entities asked for. See
https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/change-data-capture
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from connectors.sandbox.quickbooks import wire
from connectors.sandbox.quickbooks.query import QUERYABLE, sort_key
from connectors.sandbox.quickbooks.state import Realm
from connectors.sandbox.quickbooks.wire import QboFault

WINDOW = timedelta(days=30)
CAP = 1000


def change_feed(realm: Realm, entities: str, changed_since: str) -> dict[str, Any]:
    """The CDC response body for one realm."""
    names = [name.strip() for name in entities.split(",") if name.strip()]
    if not names:
        raise wire.required("entities")
    for name in names:
        if name not in QUERYABLE:
            raise wire.invalid(f"Unsupported entity for CDC: {name}", "entities")
    if not changed_since:
        raise wire.required("changedSince")
    try:
        since = wire.parse_stamp(changed_since, realm.timezone)
    except ValueError as exc:
        raise wire.invalid(
            f"changedSince {changed_since!r} is not a date-time"
        ) from exc
    if since < realm.now() - WINDOW:
        # NOTE: the message is the one integrators quote (Wish-Org/QuickBooksSharp#19);
        # the code Intuit pairs with it is not published [unverified].
        raise QboFault(
            "2010",
            "Request has invalid or unsupported property",
            f"Operation cdc with changedSince date {changed_since} which is older than"
            " fixed days is not supported.",
            element="changedSince",
        )
    left = CAP
    responses: list[dict[str, Any]] = []
    with realm.lock:
        for name in names:
            changed = [o for o in realm.all(name) if realm.last_updated(o) > since]
            changed += [
                tomb
                for (entity, object_id), at in realm.deleted_at.items()
                if entity == name
                and at > since
                and (tomb := realm.tombstones.get(entity, {}).get(object_id))
            ]
            changed.sort(key=sort_key("MetaData.LastUpdatedTime"))
            # NOTE: the 1,000 cap is shared by all entities in one request; a full
            # answer means "narrow the window", so clients must not treat it as done.
            changed = changed[:left]
            left -= len(changed)
            if changed:
                responses.append(
                    {name: changed, "startPosition": 1, "maxResults": len(changed)}
                )
            else:
                responses.append({})
    return {"CDCResponse": [{"QueryResponse": responses}], "time": realm.time()}
