"""One QuickBooks company (a realm) held in memory: objects, tombstones, changes.

Objects are kept in QBO's own JSON shape, amounts as Decimal. Every write stamps
`MetaData.LastUpdatedTime` from the injected clock in the company's UTC offset and
returns the changes it made, which feed the change feed (CDC) and the webhooks.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from connectors.sandbox.quickbooks import wire
from connectors.sandbox.quickbooks.entities import currency_ref
from connectors.sandbox.quickbooks.query import sort_key

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    """One object changed by a write: what webhooks and CDC report."""

    realm_id: str
    entity: str
    object_id: str
    operation: str  # Create, Update, Delete, Void
    at: datetime  # UTC


class Realm:
    """A company's books: objects by entity and Id, plus deleted objects' tombstones."""

    def __init__(
        self,
        realm_id: str,
        company_info: dict[str, Any],
        preferences: dict[str, Any],
        timezone: str,
        now: Callable[[], datetime],
    ) -> None:
        ZoneInfo(timezone)  # a bad zone name fails here, not on the first write
        self.realm_id = realm_id
        self.timezone = timezone
        self.now = now
        self.objects: dict[str, dict[str, dict[str, Any]]] = {}
        self.tombstones: dict[str, dict[str, dict[str, Any]]] = {}
        self.deleted_at: dict[tuple[str, str], datetime] = {}
        self.next_ids: dict[str, int] = {}
        self.exchange_rates: dict[
            str, dict[str, Decimal]
        ] = {}  # currency -> day -> rate
        self.version = 0
        self.answered: dict[tuple[str, str], dict[str, Any]] = {}  # by requestid
        self.results: dict[tuple[Any, ...], tuple[int, list[dict[str, Any]]]] = {}
        self.lock = threading.RLock()
        self._sorted: dict[str, tuple[int, list[dict[str, Any]]]] = {}
        self.put(
            "CompanyInfo", self.stamped("CompanyInfo", {"Id": "1", **company_info})
        )
        self.put("Preferences", self.stamped("Preferences", {"Id": "1", **preferences}))

    # --- company facts -------------------------------------------------------

    @property
    def company_info(self) -> dict[str, Any]:
        return self.objects["CompanyInfo"]["1"]

    @property
    def preferences(self) -> dict[str, Any]:
        return self.objects["Preferences"]["1"]

    @property
    def home_currency(self) -> str:
        prefs = self.preferences.get("CurrencyPrefs") or {}
        home = prefs.get("HomeCurrency") or {}
        return str(home.get("value") or "USD")

    @property
    def multi_currency(self) -> bool:
        prefs = self.preferences.get("CurrencyPrefs") or {}
        return bool(prefs.get("MultiCurrencyEnabled"))

    def today(self) -> date:
        return self.now().astimezone(ZoneInfo(self.timezone)).date()

    def stamp(self, instant: datetime | None = None) -> str:
        return wire.local_stamp(instant or self.now(), self.timezone)

    def time(self) -> str:
        return wire.response_time(self.now(), self.timezone)

    # --- storage -------------------------------------------------------------

    def get(self, entity: str, object_id: str) -> dict[str, Any] | None:
        return self.objects.get(entity, {}).get(str(object_id))

    def all(self, entity: str) -> list[dict[str, Any]]:
        """Live objects of `entity` ordered by numeric Id (cached per version)."""
        cached = self._sorted.get(entity)
        if cached is not None and cached[0] == self.version:
            return cached[1]
        ordered = sorted(self.objects.get(entity, {}).values(), key=sort_key("Id"))
        self._sorted[entity] = (self.version, ordered)
        return ordered

    def values(self, entity: str) -> list[dict[str, Any]]:
        """Live objects of `entity` in no particular order (cheaper than `all`)."""
        return list(self.objects.get(entity, {}).values())

    def put(self, entity: str, obj: dict[str, Any]) -> None:
        object_id = str(obj["Id"])
        self.objects.setdefault(entity, {})[object_id] = obj
        self.tombstones.get(entity, {}).pop(object_id, None)
        if object_id.isdigit():
            self.next_ids[entity] = max(
                self.next_ids.get(entity, 1), int(object_id) + 1
            )
        self.version += 1

    def remove(self, entity: str, object_id: str) -> dict[str, Any]:
        """Delete an object, leaving the tombstone CDC reports."""
        obj = self.objects.get(entity, {}).pop(object_id)
        at = self.now()
        tomb = {
            "domain": "QBO",
            "status": "Deleted",
            "Id": object_id,
            "MetaData": {"LastUpdatedTime": self.stamp(at)},
        }
        self.tombstones.setdefault(entity, {})[object_id] = tomb
        self.deleted_at[(entity, object_id)] = at
        self.version += 1
        return obj

    def new_id(self, entity: str) -> str:
        object_id = self.next_ids.get(entity, 1)
        self.next_ids[entity] = object_id + 1
        return str(object_id)

    def stamped(self, entity: str, obj: dict[str, Any]) -> dict[str, Any]:
        """`obj` with the keys every stored object carries filled in."""
        meta = dict(obj.get("MetaData") or {})
        if "CreateTime" not in meta:
            meta["CreateTime"] = self.stamp()
        meta.setdefault("LastUpdatedTime", meta["CreateTime"])
        shaped = {"domain": "QBO", "sparse": False, "SyncToken": "0", **obj}
        shaped["Id"] = str(shaped["Id"])
        shaped["SyncToken"] = str(shaped["SyncToken"])
        shaped["MetaData"] = meta
        if entity in ("Invoice", "Payment", "CreditMemo", "Bill", "Customer", "Vendor"):
            shaped.setdefault("CurrencyRef", currency_ref(self.home_currency))
        return shaped

    def touch(self, entity: str, obj: dict[str, Any]) -> None:
        """Count a write: bump SyncToken and LastUpdatedTime."""
        obj["SyncToken"] = str(int(obj.get("SyncToken") or 0) + 1)
        # a new MetaData dict: the old version of the object may still be on a page
        obj["MetaData"] = {
            **(obj.get("MetaData") or {}),
            "LastUpdatedTime": self.stamp(),
        }
        self.version += 1

    def last_updated(self, obj: dict[str, Any]) -> datetime:
        stamp = (obj.get("MetaData") or {}).get("LastUpdatedTime")
        if not stamp:
            return datetime.min.replace(tzinfo=ZoneInfo("UTC"))
        return wire.parse_stamp(stamp, self.timezone)

    def change(self, entity: str, object_id: str, operation: str) -> Change:
        return Change(self.realm_id, entity, str(object_id), operation, self.now())

    def rate(self, currency: str, on: date) -> Decimal | None:
        """Home units per one `currency` on `on`: the latest rate at or before it."""
        if currency == self.home_currency:
            return Decimal(1)
        table = self.exchange_rates.get(currency, {})
        days = sorted(d for d in table if d <= on.isoformat())
        return table[days[-1]] if days else None

    # --- persistence ---------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        return {
            "realm_id": self.realm_id,
            "timezone": self.timezone,
            "objects": copy.deepcopy(self.objects),
            "tombstones": copy.deepcopy(self.tombstones),
            "deleted_at": [
                [entity, object_id, at.isoformat()]
                for (entity, object_id), at in self.deleted_at.items()
            ],
            "next_ids": dict(self.next_ids),
            "exchange_rates": copy.deepcopy(self.exchange_rates),
        }

    @classmethod
    def restore(cls, data: dict[str, Any], now: Callable[[], datetime]) -> Realm:
        objects = data["objects"]
        realm = cls(
            data["realm_id"],
            objects["CompanyInfo"]["1"],
            objects["Preferences"]["1"],
            data["timezone"],
            now,
        )
        realm.objects = copy.deepcopy(objects)
        realm.tombstones = copy.deepcopy(data.get("tombstones", {}))
        realm.deleted_at = {
            (entity, object_id): datetime.fromisoformat(at)
            for entity, object_id, at in data.get("deleted_at", [])
        }
        realm.next_ids = dict(data.get("next_ids", {}))
        realm.exchange_rates = {
            ccy: {day: Decimal(str(rate)) for day, rate in days.items()}
            for ccy, days in data.get("exchange_rates", {}).items()
        }
        realm.version += 1
        return realm
