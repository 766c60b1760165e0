import json
from datetime import date, time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.rules import (
    DEFAULT_CADENCE,
    CadenceStep,
    Channel,
    ContactWindow,
    Rules,
    RulesError,
    Tier,
    creditor_rules,
    current_step,
    parse_rules,
    rules_to_dict,
)


def test_empty_rules_take_the_programs_defaults():
    rules = parse_rules({})

    assert rules == Rules()
    assert (rules.window_start_days, rules.window_end_days) == (30, 120)
    assert rules.min_amount_for("USD") == Decimal("0.01")
    assert rules.min_debtor_total is None
    assert rules.excluded_customers == frozenset()
    assert rules.excluded_tags == frozenset()
    assert rules.excluded_currencies == frozenset()
    assert rules.partly_paid_qualify is True
    assert rules.credits_hold is True
    assert rules.auto_refer is True
    assert rules.tier is Tier.FIRST_PARTY
    assert rules.fee_rate == Decimal("0.01")
    assert rules.earliest_due_date == date(2000, 1, 1)
    assert rules.contact_window == ContactWindow(
        frozenset({0, 1, 2, 3, 4}), time(9), time(17), 3
    )


def test_default_cadence_is_letter_call_email_sms_call_final_letter():
    steps = [(s.day, [c.value for c in s.channels], s.final) for s in DEFAULT_CADENCE]

    assert steps == [
        (0, ["letter", "email"], False),
        (3, ["call"], False),
        (10, ["email"], False),
        (17, ["sms"], False),
        (24, ["call"], False),
        (31, ["letter"], True),
    ]
    assert Rules().cadence_for() == DEFAULT_CADENCE
    assert Rules().cadence_for(Tier.THIRD_PARTY) == DEFAULT_CADENCE


def test_rules_round_trip_through_json():
    data = {
        "window_start_days": 45,
        "window_end_days": 90,
        "min_amount_due": "25.00",
        "min_amount_due_by_currency": {"jpy": "3000"},
        "min_debtor_total": "100.00",
        "excluded_customers": ["64", "71"],
        "excluded_tags": ["Government", "VIP "],
        "excluded_currencies": ["chf"],
        "partly_paid_qualify": False,
        "credits_hold": False,
        "auto_refer": False,
        "tier": "frontline",
        "fee_rate": "0.025",
        "fee_minimum": {"USD": "5.00"},
        "fee_cap": {"USD": "500.00"},
        "earliest_due_date": "2010-01-01",
        "plausible_years": 5,
        "cadences": {"frontline": [{"day": 0, "channels": ["email"]}]},
        "contact_window": {
            "weekdays": [0, 1, 2, 3],
            "start": "08:30",
            "end": "16:00",
            "max_touches_per_week": 2,
        },
    }

    rules = parse_rules(data)
    again = parse_rules(json.loads(json.dumps(rules_to_dict(rules))))

    assert again == rules
    assert rules.min_amount_for("JPY") == Decimal("3000")
    assert rules.min_amount_for("EUR") == Decimal("25.00")
    assert rules.excluded_tags == frozenset({"government", "vip"})
    assert rules.excluded_currencies == frozenset({"CHF"})
    assert rules.cadence_for() == (CadenceStep(0, (Channel.EMAIL,)),)
    assert rules.cadence_for(Tier.FIRST_PARTY) == DEFAULT_CADENCE
    assert rules.contact_window.start == time(8, 30)
    assert rules_to_dict(rules)["fee_rate"] == "0.025"


def test_each_bad_field_gets_its_own_message():
    with pytest.raises(RulesError) as caught:
        parse_rules(
            {
                "window_start_days": "thirty",
                "min_amount_due": 0.01,
                "fee_rate": "1.5",
                "fee_minimum": {"XYZ": "5"},
                "tier": "fourth_party",
                "excluded_tags": ["ok", ""],
                "earliest_due_date": "01/01/2000",
                "colour": "blue",
                "cadences": {"frontline": [{"day": 0, "channels": ["pigeon"]}]},
                "contact_window": {"start": "17:00", "end": "09:00"},
            }
        )

    errors = caught.value.errors
    assert set(errors) == {
        "window_start_days",
        "min_amount_due",
        "fee_rate",
        "fee_minimum.XYZ",
        "tier",
        "excluded_tags[1]",
        "earliest_due_date",
        "colour",
        "cadences.frontline[0].channels",
        "contact_window.end",
    }
    assert "whole number" in errors["window_start_days"]
    assert "decimal string" in errors["min_amount_due"]  # a float is refused
    assert "fraction" in errors["fee_rate"]
    assert errors["colour"] == "unknown field"
    assert "fee_rate" in str(caught.value)


def test_window_end_before_start_is_refused():
    with pytest.raises(RulesError) as caught:
        parse_rules({"window_start_days": 60, "window_end_days": 45})

    assert list(caught.value.errors) == ["window_end_days"]


def test_fee_cap_below_minimum_is_refused():
    with pytest.raises(RulesError) as caught:
        parse_rules({"fee_minimum": {"USD": "10"}, "fee_cap": {"USD": "5"}})

    assert list(caught.value.errors) == ["fee_cap.USD"]


def test_negative_amount_and_same_day_steps_are_refused():
    with pytest.raises(RulesError) as caught:
        parse_rules(
            {
                "min_debtor_total": "-1",
                "cadences": {
                    "first_party": [
                        {"day": 3, "channels": ["call"]},
                        {"day": 3, "channels": ["sms"]},
                    ]
                },
            }
        )

    assert set(caught.value.errors) == {"min_debtor_total", "cadences.first_party"}


def test_rules_must_be_an_object():
    with pytest.raises(RulesError):
        parse_rules(["window_start_days", 30])  # type: ignore[arg-type]


def test_current_step_is_the_latest_step_that_has_come():
    referred = date(2025, 5, 1)

    assert current_step(DEFAULT_CADENCE, referred, date(2025, 4, 30)) is None
    assert current_step(DEFAULT_CADENCE, referred, referred) == DEFAULT_CADENCE[0]
    assert (
        current_step(DEFAULT_CADENCE, referred, date(2025, 5, 3))
        == (DEFAULT_CADENCE[0])
    )
    assert current_step(DEFAULT_CADENCE, referred, date(2025, 5, 4)).day == 3
    assert current_step(DEFAULT_CADENCE, referred, date(2025, 8, 1)).final


def test_current_step_collapses_a_backlog_to_one_step():
    # Down from day 2 to day 19: steps 3, 10 and 17 all came due; only 17 is sent.
    referred = date(2025, 5, 1)

    step = current_step(DEFAULT_CADENCE, referred, date(2025, 5, 20), done={0})

    assert step == CadenceStep(17, (Channel.SMS,))


def test_current_step_sent_already_gives_nothing():
    referred = date(2025, 5, 1)

    assert current_step(DEFAULT_CADENCE, referred, date(2025, 5, 12), {0, 10}) is None


_amounts = st.decimals(min_value="0", max_value="100000", places=2)
_codes = st.sampled_from(["USD", "EUR", "JPY", "NZD", "GBP"])


@given(
    start=st.integers(min_value=1, max_value=200),
    length=st.integers(min_value=0, max_value=400),
    minimums=st.dictionaries(_codes, _amounts, max_size=3),
    tags=st.frozensets(st.text(min_size=1, max_size=8).filter(str.strip), max_size=4),
    tier=st.sampled_from(list(Tier)),
    rate=st.decimals(min_value="0", max_value="1", places=4),
    debtor_min=st.one_of(st.none(), _amounts),
)
def test_any_valid_rules_round_trip(
    start, length, minimums, tags, tier, rate, debtor_min
):
    data = {
        "window_start_days": start,
        "window_end_days": start + length,
        "min_amount_due_by_currency": {k: str(v) for k, v in minimums.items()},
        "excluded_tags": sorted(tags),
        "tier": tier.value,
        "fee_rate": str(rate),
        "min_debtor_total": None if debtor_min is None else str(debtor_min),
    }

    rules = parse_rules(data)

    assert parse_rules(json.loads(json.dumps(rules_to_dict(rules)))) == rules


def test_creditor_rules_merge_the_stored_parts():
    rules = creditor_rules(
        {"window_start_days": 45, "fee_rate": "0.05"},
        {"frontline": [{"day": 0, "channels": ["email"]}]},
        Decimal("0.025"),
    )

    assert rules.window_start_days == 45
    assert rules.fee_rate == Decimal("0.025")
    assert rules.cadence_for(Tier.FRONTLINE) == (CadenceStep(0, (Channel.EMAIL,)),)
    assert creditor_rules(None) == Rules()


@pytest.mark.parametrize(
    ("window", "path"),
    [
        ({"weekdays": []}, "contact_window.weekdays"),
        ({"weekdays": [0, 7]}, "contact_window.weekdays"),
        ({"start": "9am"}, "contact_window.start"),
        ({"max_touches_per_week": 0}, "contact_window.max_touches_per_week"),
        ({"quiet": True}, "contact_window.quiet"),
    ],
)
def test_bad_contact_windows_name_the_field(window, path):
    with pytest.raises(RulesError) as caught:
        parse_rules({"contact_window": window})

    assert list(caught.value.errors) == [path]
