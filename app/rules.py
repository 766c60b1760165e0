"""A creditor's referral rules as validated data, with the defaults of the program.

`Rules` is what evaluation, fees and the outreach cadence read; `parse_rules` turns the
JSON a creditor saved (any subset of the fields) into one, naming every bad field, and
`rules_to_dict` writes it back JSON-safe (Decimals as strings) so the two round-trip.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from babel.numbers import list_currencies

_CURRENCIES = frozenset(list_currencies())


class Tier(StrEnum):
    """Who speaks to the debtor."""

    FRONTLINE = "frontline"  # reminders in the creditor's own name
    FIRST_PARTY = "first_party"  # the program, on its letterhead
    THIRD_PARTY = "third_party"  # placement with a collection agency


class Channel(StrEnum):
    LETTER = "letter"
    EMAIL = "email"
    SMS = "sms"
    CALL = "call"


@dataclass(frozen=True, slots=True)
class CadenceStep:
    """One outreach step, `day` days after the cadence's anchor (the referral date)."""

    day: int
    channels: tuple[Channel, ...]
    final: bool = False  # the last letter of the cadence (the final-letter template)


@dataclass(frozen=True, slots=True)
class ContactWindow:
    """When a debtor may be contacted, in the debtor's local time."""

    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday is 0
    start: time = time(9, 0)
    end: time = time(17, 0)
    max_touches_per_week: int = 3


DEFAULT_CADENCE: tuple[CadenceStep, ...] = (
    CadenceStep(0, (Channel.LETTER, Channel.EMAIL)),
    CadenceStep(3, (Channel.CALL,)),
    CadenceStep(10, (Channel.EMAIL,)),
    CadenceStep(17, (Channel.SMS,)),
    CadenceStep(24, (Channel.CALL,)),
    CadenceStep(31, (Channel.LETTER,), final=True),
)


def _default_cadences() -> dict[Tier, tuple[CadenceStep, ...]]:
    # The same default for every tier; creditors tune each tier's cadence on its own.
    return {tier: DEFAULT_CADENCE for tier in Tier}


@dataclass(frozen=True, slots=True)
class Rules:
    """One creditor's referral rules; every field has the program's default."""

    window_start_days: int = 30  # days late, inclusive
    window_end_days: int = 120  # days late, inclusive
    min_amount_due: Decimal = Decimal("0.01")  # for currencies not listed below
    min_amount_due_by_currency: Mapping[str, Decimal] = field(default_factory=dict)
    min_debtor_total: Decimal | None = None  # in the home currency; None: no minimum
    excluded_customers: frozenset[str] = frozenset()
    excluded_tags: frozenset[str] = frozenset()  # casefolded
    excluded_currencies: frozenset[str] = frozenset()
    partly_paid_qualify: bool = True
    credits_hold: bool = True  # unapplied credits >= overdue amount hold the referral
    auto_refer: bool = True  # False: a referral waits for the creditor's approval
    tier: Tier = Tier.FIRST_PARTY
    fee_rate: Decimal = Decimal("0.01")
    fee_minimum: Mapping[str, Decimal] = field(default_factory=dict)  # per currency
    fee_cap: Mapping[str, Decimal] = field(default_factory=dict)  # per currency
    earliest_due_date: date = date(2000, 1, 1)
    plausible_years: int = 10  # a due date further than this from today is a typo
    cadences: Mapping[Tier, tuple[CadenceStep, ...]] = field(
        default_factory=_default_cadences
    )
    contact_window: ContactWindow = field(default_factory=ContactWindow)

    def min_amount_for(self, currency: str) -> Decimal:
        """The smallest amount due that qualifies in `currency`."""
        return self.min_amount_due_by_currency.get(currency, self.min_amount_due)

    def cadence_for(self, tier: Tier | None = None) -> tuple[CadenceStep, ...]:
        """The cadence of `tier` (default: the creditor's own tier)."""
        return self.cadences.get(tier or self.tier, DEFAULT_CADENCE)


class RulesError(ValueError):
    """Rules that do not validate; `errors` maps each bad field's path to a message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        listed = "; ".join(
            f"{path}: {message}" for path, message in self.errors.items()
        )
        super().__init__(f"invalid rules: {listed}")


def current_step(
    cadence: tuple[CadenceStep, ...],
    anchor: date,
    today: date,
    done: Collection[int] = (),
) -> CadenceStep | None:
    """The one step due today: the latest whose day has come, unless already done.

    After an outage several steps may have come due; only the latest applies (C27), so
    a backlog never fires all at once. `done` holds the days of steps already sent.
    Returns None before the first step or when the latest step is done.
    """
    elapsed = (today - anchor).days
    latest = None
    for step in sorted(cadence, key=lambda s: s.day):
        if step.day <= elapsed:
            latest = step
    if latest is None or latest.day in done:
        return None
    return latest


# --- parsing -------------------------------------------------------------------------

_Parser = Callable[[Any, str, dict[str, str]], Any]


def _int(low: int, high: int) -> _Parser:
    def parse(value: Any, path: str, errors: dict[str, str]) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            errors[path] = f"must be a whole number, got {value!r}"
        elif not low <= value <= high:
            errors[path] = f"must be between {low} and {high}, got {value}"
        return value

    return parse


def _bool(value: Any, path: str, errors: dict[str, str]) -> Any:
    if not isinstance(value, bool):
        errors[path] = f"must be true or false, got {value!r}"
    return value


def _decimal(
    value: Any, path: str, errors: dict[str, str], *, low: Decimal = Decimal(0)
) -> Decimal | None:
    # Floats are refused: 0.1 as a float is not 0.1, and money rules must be exact.
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        errors[path] = f"must be a decimal string such as '0.01', got {value!r}"
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        errors[path] = f"not a decimal number: {value!r}"
        return None
    if not amount.is_finite() or amount < low:
        errors[path] = f"must be a number >= {low}, got {value!r}"
        return None
    return amount


def _amount(value: Any, path: str, errors: dict[str, str]) -> Any:
    return _decimal(value, path, errors)


def _optional_amount(value: Any, path: str, errors: dict[str, str]) -> Any:
    return None if value is None else _decimal(value, path, errors)


def _rate(value: Any, path: str, errors: dict[str, str]) -> Any:
    rate = _decimal(value, path, errors)
    if rate is not None and rate > 1:
        errors[path] = f"a rate is a fraction such as '0.01' for 1%, got {value!r}"
    return rate


def _currency(value: Any, path: str, errors: dict[str, str]) -> str | None:
    if not isinstance(value, str) or value.upper() not in _CURRENCIES:
        errors[path] = f"not an ISO 4217 currency code: {value!r}"
        return None
    return value.upper()


def _per_currency(value: Any, path: str, errors: dict[str, str]) -> Any:
    if not isinstance(value, Mapping):
        errors[path] = "must map currency codes to amounts"
        return {}
    parsed: dict[str, Decimal] = {}
    for code, amount in value.items():
        currency = _currency(code, f"{path}.{code}", errors)
        number = _decimal(amount, f"{path}.{code}", errors)
        if currency is not None and number is not None:
            parsed[currency] = number
    return parsed


def _strings(normalise: Callable[[str], str]) -> _Parser:
    def parse(value: Any, path: str, errors: dict[str, str]) -> Any:
        if not isinstance(value, list | tuple | set | frozenset):
            errors[path] = "must be a list of strings"
            return frozenset()
        items = set()
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                errors[f"{path}[{index}]"] = f"must be a non-empty string, got {item!r}"
            else:
                items.add(normalise(item.strip()))
        return frozenset(items)

    return parse


def _currencies(value: Any, path: str, errors: dict[str, str]) -> Any:
    codes = _strings(str.upper)(value, path, errors)
    for code in sorted(codes):
        if code not in _CURRENCIES:
            errors[path] = f"not an ISO 4217 currency code: {code!r}"
    return codes


def _tier(value: Any, path: str, errors: dict[str, str]) -> Any:
    try:
        return Tier(value)
    except ValueError:
        errors[path] = f"must be one of {', '.join(Tier)}, got {value!r}"
        return Tier.FIRST_PARTY


def _date(value: Any, path: str, errors: dict[str, str]) -> Any:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        errors[path] = f"must be a date YYYY-MM-DD, got {value!r}"
        return None


def _steps(value: Any, path: str, errors: dict[str, str]) -> tuple[CadenceStep, ...]:
    if not isinstance(value, list | tuple) or not value:
        errors[path] = "must be a non-empty list of steps"
        return ()
    steps = []
    for index, raw in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(raw, Mapping):
            errors[where] = "must be an object with day and channels"
            continue
        day = _int(0, 365)(raw.get("day"), f"{where}.day", errors)
        channels = raw.get("channels")
        if not isinstance(channels, list | tuple) or not channels:
            errors[f"{where}.channels"] = "must be a non-empty list of channels"
            continue
        try:
            parsed = tuple(Channel(c) for c in channels)
        except ValueError:
            errors[f"{where}.channels"] = f"channels are {', '.join(Channel)}"
            continue
        final = _bool(raw.get("final", False), f"{where}.final", errors)
        steps.append(CadenceStep(day, parsed, final))
    days = [s.day for s in steps]
    if len(set(days)) != len(days):
        errors[path] = "two steps on the same day"
    return tuple(sorted(steps, key=lambda s: s.day))


def _cadences(value: Any, path: str, errors: dict[str, str]) -> Any:
    if not isinstance(value, Mapping):
        errors[path] = "must map tiers to lists of steps"
        return _default_cadences()
    cadences = _default_cadences()
    for name, steps in value.items():
        tier = _tier(name, f"{path}.{name}", errors)
        cadences[tier] = _steps(steps, f"{path}.{name}", errors)
    return cadences


def _time(value: Any, path: str, errors: dict[str, str]) -> time:
    try:
        return time.fromisoformat(value)
    except (TypeError, ValueError):
        errors[path] = f"must be a time HH:MM, got {value!r}"
        return time(0)


def _window(value: Any, path: str, errors: dict[str, str]) -> Any:
    if not isinstance(value, Mapping):
        errors[path] = "must be an object"
        return ContactWindow()
    default = ContactWindow()
    unknown = set(value) - {"weekdays", "start", "end", "max_touches_per_week"}
    for key in sorted(unknown):
        errors[f"{path}.{key}"] = "unknown field"
    weekdays = value.get("weekdays", sorted(default.weekdays))
    if (
        not isinstance(weekdays, list | tuple)
        or not weekdays
        or not all(
            isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6
            for d in weekdays
        )
    ):
        errors[f"{path}.weekdays"] = "must list one or more days, 0 (Monday) to 6"
        weekdays = sorted(default.weekdays)
    start = _time(value.get("start", "09:00"), f"{path}.start", errors)
    end = _time(value.get("end", "17:00"), f"{path}.end", errors)
    if start >= end and f"{path}.start" not in errors and f"{path}.end" not in errors:
        errors[f"{path}.end"] = "must be later than start"
    cap = _int(1, 21)(
        value.get("max_touches_per_week", default.max_touches_per_week),
        f"{path}.max_touches_per_week",
        errors,
    )
    return ContactWindow(frozenset(weekdays), start, end, cap)


_FIELDS: dict[str, _Parser] = {
    "window_start_days": _int(1, 3650),
    "window_end_days": _int(1, 3650),
    "min_amount_due": _amount,
    "min_amount_due_by_currency": _per_currency,
    "min_debtor_total": _optional_amount,
    "excluded_customers": _strings(str),
    "excluded_tags": _strings(str.casefold),
    "excluded_currencies": _currencies,
    "partly_paid_qualify": _bool,
    "credits_hold": _bool,
    "auto_refer": _bool,
    "tier": _tier,
    "fee_rate": _rate,
    "fee_minimum": _per_currency,
    "fee_cap": _per_currency,
    "earliest_due_date": _date,
    "plausible_years": _int(1, 100),
    "cadences": _cadences,
    "contact_window": _window,
}


def parse_rules(data: Mapping[str, Any]) -> Rules:
    """Validate a creditor's saved rules; missing fields take the defaults.

    Raises:
        RulesError: with one message per bad field, keyed by its path.
    """
    if not isinstance(data, Mapping):
        raise RulesError({"": "rules must be a JSON object"})
    errors: dict[str, str] = {}
    values = {}
    for key, raw in data.items():
        parser = _FIELDS.get(key)
        if parser is None:
            errors[key] = "unknown field"
            continue
        values[key] = parser(raw, key, errors)
    rules = Rules(**values) if not errors else Rules()
    if not errors:
        _check_together(rules, errors)
    if errors:
        raise RulesError(errors)
    return rules


def _check_together(rules: Rules, errors: dict[str, str]) -> None:
    if rules.window_end_days < rules.window_start_days:
        errors["window_end_days"] = "must not be earlier than window_start_days"
    for currency, cap in rules.fee_cap.items():
        minimum = rules.fee_minimum.get(currency)
        if minimum is not None and cap < minimum:
            errors[f"fee_cap.{currency}"] = "must not be below fee_minimum"


def creditor_rules(
    rules: Mapping[str, Any] | None,
    cadences: Mapping[str, Any] | None = None,
    fee_rate: Decimal | None = None,
) -> Rules:
    """Rules from a creditor's stored parts: rules JSON, cadence JSON, fee rate column.

    The cadence JSON has the shape of the ``cadences`` field; the fee rate column wins
    over a ``fee_rate`` inside the rules JSON.
    """
    data = dict(rules or {})
    if cadences:
        data["cadences"] = cadences
    if fee_rate is not None:
        data["fee_rate"] = str(fee_rate)
    return parse_rules(data)


def rules_to_dict(rules: Rules) -> dict[str, Any]:
    """The rules as JSON-safe data that `parse_rules` reads back to equal rules."""
    window = rules.contact_window
    return {
        "window_start_days": rules.window_start_days,
        "window_end_days": rules.window_end_days,
        "min_amount_due": str(rules.min_amount_due),
        "min_amount_due_by_currency": _money_map(rules.min_amount_due_by_currency),
        "min_debtor_total": (
            None if rules.min_debtor_total is None else str(rules.min_debtor_total)
        ),
        "excluded_customers": sorted(rules.excluded_customers),
        "excluded_tags": sorted(rules.excluded_tags),
        "excluded_currencies": sorted(rules.excluded_currencies),
        "partly_paid_qualify": rules.partly_paid_qualify,
        "credits_hold": rules.credits_hold,
        "auto_refer": rules.auto_refer,
        "tier": rules.tier.value,
        "fee_rate": str(rules.fee_rate),
        "fee_minimum": _money_map(rules.fee_minimum),
        "fee_cap": _money_map(rules.fee_cap),
        "earliest_due_date": rules.earliest_due_date.isoformat(),
        "plausible_years": rules.plausible_years,
        "cadences": {
            tier.value: [
                {
                    "day": s.day,
                    "channels": [c.value for c in s.channels],
                    "final": s.final,
                }
                for s in steps
            ]
            for tier, steps in rules.cadences.items()
        },
        "contact_window": {
            "weekdays": sorted(window.weekdays),
            "start": window.start.strftime("%H:%M"),
            "end": window.end.strftime("%H:%M"),
            "max_touches_per_week": window.max_touches_per_week,
        },
    }


def _money_map(amounts: Mapping[str, Decimal]) -> dict[str, str]:
    return {currency: str(amount) for currency, amount in sorted(amounts.items())}
