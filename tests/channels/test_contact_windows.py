"""app.contact_windows (kept beside the channel tests, whose owner it shares)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.contact_windows import (
    DebtorPlace,
    at_local,
    is_working_day,
    next_allowed,
    place_for,
)
from app.rules import ContactWindow

NZ = DebtorPlace("Pacific/Auckland", "NZ")
NEW_YORK = DebtorPlace("America/New_York", "US")
CALIFORNIA = DebtorPlace("America/Los_Angeles", "US", "CA")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_c27a_nine_am_auckland_on_2_may_is_2100z_the_day_before() -> None:
    assert at_local(date(2025, 5, 2), time(9), "Pacific/Auckland") == utc(
        2025, 5, 1, 21
    )
    # Midnight NZST on Friday 2 May waits for 09:00 NZST (UTC+12).
    assert next_allowed(utc(2025, 5, 1, 12), NZ) == utc(2025, 5, 1, 21)


def test_instant_inside_the_window_is_kept() -> None:
    inside = utc(2025, 5, 1, 22, 30)  # Friday 2 May 10:30 NZST
    assert next_allowed(inside, NZ) == inside


def test_before_opening_waits_for_nine_the_same_day() -> None:
    # Tuesday 6 May 07:15 NZST -> 09:00 NZST.
    assert next_allowed(utc(2025, 5, 5, 19, 15), NZ) == utc(2025, 5, 5, 21)


def test_waitangi_day_is_skipped() -> None:
    # Wednesday 5 Feb 2025 17:30 NZDT (UTC+13) is after hours; Thursday 6 Feb is
    # Waitangi Day; Friday 7 Feb 09:00 NZDT = 6 Feb 20:00Z.
    assert next_allowed(utc(2025, 2, 5, 4, 30), NZ) == utc(2025, 2, 6, 20)


def test_observed_holiday_monday_is_skipped() -> None:
    # Waitangi Day 2027 is a Saturday, observed on Monday 8 February. Friday 5 Feb
    # 17:00 NZDT (04:00Z) is closing time; the next opening is Tuesday 9 Feb 09:00
    # NZDT = 8 Feb 20:00Z.
    assert next_allowed(utc(2027, 2, 5, 4), NZ) == utc(2027, 2, 8, 20)


def test_weekend_across_the_end_of_nz_daylight_time() -> None:
    # NZDT ends Sunday 6 April 2025 at 03:00. Friday 4 April 17:00 NZDT (04:00Z) is
    # closing time; Monday 7 April 09:00 is NZST (UTC+12) = 6 April 21:00Z.
    assert next_allowed(utc(2025, 4, 4, 4), NZ) == utc(2025, 4, 6, 21)


def test_weekend_across_the_start_of_us_daylight_time() -> None:
    # EDT starts Sunday 9 March 2025. Friday 7 March 18:00 EST (23:00Z) -> Monday
    # 10 March 09:00 EDT (UTC-4) = 13:00Z.
    assert next_allowed(utc(2025, 3, 7, 23), NEW_YORK) == utc(2025, 3, 10, 13)


def test_us_thanksgiving_is_skipped() -> None:
    # Wednesday 26 Nov 2025 17:00 EST (22:00Z) is closing time; Thursday 27 is
    # Thanksgiving; Friday 28 Nov 09:00 EST = 14:00Z.
    assert next_allowed(utc(2025, 11, 26, 22), NEW_YORK) == utc(2025, 11, 28, 14)


def test_subdivision_holidays_apply_when_known() -> None:
    # California also keeps the Day After Thanksgiving: Wednesday 26 Nov 17:00 PST
    # (27 Nov 01:00Z) -> Monday 1 Dec 09:00 PST = 17:00Z.
    assert next_allowed(utc(2025, 11, 27, 1), CALIFORNIA) == utc(2025, 12, 1, 17)
    assert not is_working_day(date(2025, 11, 28), CALIFORNIA)
    assert is_working_day(date(2025, 11, 28), NEW_YORK)


def test_weekly_cap_waits_for_the_oldest_touch_to_age_out() -> None:
    # Touches Monday to Wednesday 10:00 NZST (5-7 May); on Thursday the cap of 3 is
    # reached, and the Monday touch leaves the week on Monday 12 May 10:00 NZST.
    touches = [utc(2025, 5, 4, 22), utc(2025, 5, 5, 22), utc(2025, 5, 6, 22)]
    assert next_allowed(utc(2025, 5, 7, 22), NZ, touches=touches) == utc(
        2025, 5, 11, 22
    )
    assert next_allowed(utc(2025, 5, 7, 22), NZ, touches=touches[1:]) == utc(
        2025, 5, 7, 22
    )


def test_cap_freed_after_hours_waits_for_the_next_opening() -> None:
    # One touch a week; the last was Friday 9 May 17:30 NZST (a late call). It ages out
    # Friday 16 May 17:30, after closing, so the next contact is Monday 19 May 09:00.
    window = ContactWindow(max_touches_per_week=1)
    touches = [utc(2025, 5, 9, 5, 30)]
    assert next_allowed(utc(2025, 5, 11, 21), NZ, window, touches) == utc(
        2025, 5, 18, 21
    )


def test_cap_freed_inside_hours_is_used_the_same_minute() -> None:
    window = ContactWindow(max_touches_per_week=1)
    touches = [utc(2025, 5, 9, 4, 59, 30)]  # Friday 9 May 16:59:30 NZST
    assert next_allowed(utc(2025, 5, 9, 5), NZ, window, touches) == utc(
        2025, 5, 16, 4, 59, 30
    )


def test_custom_window_saturday_mornings() -> None:
    window = ContactWindow(start=time(10), end=time(12), weekdays=frozenset(range(6)))
    # Friday 2 May 12:00 NZST (00:00Z) is closing; Saturday 3 May 10:00 NZST = 22:00Z.
    assert next_allowed(utc(2025, 5, 2, 0), NZ, window) == utc(2025, 5, 2, 22)


def test_bad_inputs_get_clear_errors() -> None:
    with pytest.raises(ValueError, match="naive"):
        next_allowed(datetime(2025, 5, 1, 9), NZ)  # noqa: DTZ001
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        DebtorPlace("Mars/Olympus", "NZ")
    with pytest.raises(ValueError, match="no public holiday calendar for country 'XX'"):
        DebtorPlace("UTC", "XX")
    with pytest.raises(ValueError, match="not before end"):
        next_allowed(utc(2025, 5, 1), NZ, ContactWindow(start=time(17), end=time(9)))
    with pytest.raises(ValueError, match="subset of 0-6"):
        next_allowed(utc(2025, 5, 1), NZ, ContactWindow(weekdays=frozenset({7})))
    with pytest.raises(ValueError, match="at least 1"):
        next_allowed(utc(2025, 5, 1), NZ, ContactWindow(max_touches_per_week=0))
    with pytest.raises(ValueError, match="touch instants must be aware"):
        next_allowed(utc(2025, 5, 1), NZ, touches=[datetime(2025, 5, 1)])  # noqa: DTZ001


ZONES = [
    DebtorPlace("Pacific/Auckland", "NZ"),
    DebtorPlace("America/New_York", "US", "NY"),
    DebtorPlace("Europe/Warsaw", "PL"),
    DebtorPlace("Asia/Tokyo", "JP"),
    DebtorPlace("Asia/Ho_Chi_Minh", "VN"),
    DebtorPlace("Australia/Lord_Howe", "AU", "NSW"),  # a 30-minute DST shift
]


@settings(max_examples=300, deadline=None)
@given(
    after=st.datetimes(
        min_value=datetime(2024, 1, 1),
        max_value=datetime(2027, 12, 31),
        timezones=st.just(UTC),
    ),
    place=st.sampled_from(ZONES),
    touch_offsets=st.lists(st.integers(min_value=0, max_value=7 * 24 * 60), max_size=5),
)
def test_result_is_always_an_allowed_instant_and_never_early(
    after: datetime, place: DebtorPlace, touch_offsets: list[int]
) -> None:
    window = ContactWindow()
    touches = [after - timedelta(minutes=m) for m in touch_offsets]

    result = next_allowed(after, place, window, touches)

    local = result.astimezone(ZoneInfo(place.timezone))
    assert result >= after and result.tzinfo == UTC
    assert is_working_day(local.date(), place, window)
    assert window.start <= local.time() < window.end
    assert sum(1 for t in touches if result - timedelta(days=7) < t <= result) < 3
    # Nothing earlier would do: it is `after` itself, an opening, or a touch aging out.
    assert (
        result == after
        or local.time() == window.start
        or any(result == t + timedelta(days=7) for t in touches)
    )


def test_place_for_a_debtor_at_home_uses_the_creditors_zone() -> None:
    assert place_for("Pacific/Auckland", "NZ") == NZ
    assert place_for("Pacific/Auckland", "NZ", "nz", "auk") == DebtorPlace(
        "Pacific/Auckland", "NZ", "AUK"
    )


def test_place_for_a_debtor_abroad_uses_their_region_or_country_zone() -> None:
    assert place_for("Pacific/Auckland", "NZ", "US", "ca") == CALIFORNIA
    assert place_for("Pacific/Auckland", "NZ", "US") == DebtorPlace(
        "America/New_York", "US"
    )
    assert place_for("Australia/Sydney", "AU", "AU", "WA") == DebtorPlace(
        "Australia/Perth", "AU", "WA"
    )
    assert place_for("Pacific/Auckland", "NZ", "PL") == DebtorPlace(
        "Europe/Warsaw", "PL"
    )
    # A region the holidays package does not know by that code is no subdivision.
    assert place_for("Europe/London", "GB", "JP", "Tokyo") == DebtorPlace(
        "Asia/Tokyo", "JP"
    )


def test_place_for_an_unknown_country_is_refused() -> None:
    with pytest.raises(ValueError, match="no time zone known for country 'ZZ'"):
        place_for("Pacific/Auckland", "NZ", "ZZ")


def test_without_a_country_only_weekdays_and_hours_apply() -> None:
    nowhere = place_for("Pacific/Auckland", None)

    assert nowhere == DebtorPlace("Pacific/Auckland", None)
    # Waitangi Day counts as a working day when no holiday calendar is known.
    assert next_allowed(utc(2025, 2, 5, 20), nowhere) == utc(2025, 2, 5, 20)
    assert next_allowed(utc(2025, 2, 5, 20), NZ) == utc(2025, 2, 6, 20)
