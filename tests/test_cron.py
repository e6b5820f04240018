"""Schedule maths: time zones and daylight-saving changes (pure, no servers)."""

from __future__ import annotations

import datetime as dt

import pytest

from docagent.service.cron import InvalidSchedule, check, upcoming

UTC = dt.UTC


def utc(*a: int) -> dt.datetime:
    return dt.datetime(*a, tzinfo=UTC)


def test_monday_8am_shanghai():
    assert upcoming("0 8 * * mon", "Asia/Shanghai", utc(2026, 11, 29), 2) == [utc(2026, 11, 30, 0), utc(2026, 12, 7, 0)]


def test_berlin_daily_across_spring_forward():
    # 2026-03-29: 02:00 CET -> 03:00 CEST. 09:00 local stays 09:00 local: 08:00 UTC, then 07:00 UTC.
    assert upcoming("0 9 * * *", "Europe/Berlin", utc(2026, 3, 28, 0), 3) == [
        utc(2026, 3, 28, 8), utc(2026, 3, 29, 7), utc(2026, 3, 30, 7)
    ]  # fmt: skip


def test_berlin_time_in_the_spring_gap_fires_once_after_the_change():
    # 02:30 does not exist on 2026-03-29; it fires at 03:30 CEST (01:30 UTC), once.
    assert upcoming("30 2 * * *", "Europe/Berlin", utc(2026, 3, 28, 12), 2) == [
        utc(2026, 3, 29, 1, 30),
        utc(2026, 3, 30, 0, 30),
    ]


def test_berlin_time_in_the_autumn_fold_fires_once():
    # 02:30 happens twice on 2026-10-25 (CEST then CET); one run, at the first.
    assert upcoming("30 2 * * *", "Europe/Berlin", utc(2026, 10, 24, 12), 2) == [
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 26, 1, 30),
    ]


def test_every_15_minutes_through_the_autumn_fold_has_no_repeats():
    times = upcoming("*/15 * * * *", "Europe/Berlin", utc(2026, 10, 24, 23, 50), 12)
    assert times == sorted(set(times)) and times[0] == utc(2026, 10, 25, 0, 0)
    assert all(b - a == dt.timedelta(minutes=15) for a, b in zip(times[:4], times[1:4], strict=False))


@pytest.mark.parametrize(
    ("expr", "tz", "message"),
    [
        ("61 * * * *", "UTC", "invalid cron expression '61 * * * *'; use five fields"),
        ("* * * *", "UTC", "invalid cron expression '* * * *'"),
        ("0 8 * * *", "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_invalid_schedules_name_the_problem(expr, tz, message):
    with pytest.raises(InvalidSchedule, match=message.replace("*", r"\*").replace("(", r"\(")):
        check(expr, tz)
