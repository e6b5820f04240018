"""Fire times of a cron expression in a time zone, correct across daylight-saving changes.

Cron fields are read as wall-clock time in the schedule's zone. A time that does
not exist (the spring gap) fires at the same offset after the change (02:30 ->
03:30 CEST); a time that occurs twice (the autumn fold) fires once, the first time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cron_descriptor import CasingTypeEnum, ExpressionDescriptor, FormatError, MissingFieldError, WrongArgumentError
from croniter import CroniterBadDateError, croniter

from docagent.errors import InvalidSchedule


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise InvalidSchedule(
            f"unknown time zone {name!r}; use an IANA name such as 'Asia/Shanghai'", "timezone"
        ) from None


def check_expr(expr: str) -> None:
    if not croniter.is_valid(expr) or len(expr.split()) != 5:
        raise InvalidSchedule(
            f"invalid cron expression {expr!r}; use five fields: minute hour day-of-month month day-of-week", "cron"
        )
    try:
        croniter(expr, dt.datetime(2000, 1, 1)).get_next(dt.datetime)  # from a leap year: 29 February is a date
    except CroniterBadDateError:
        raise InvalidSchedule(f"the cron expression {expr!r} never fires: no month has that day", "cron") from None


def check(expr: str, tz: str) -> None:
    check_expr(expr)
    zone(tz)


def describe(expr: str) -> str:
    """The expression in words ("At 08:00, only on Monday"), 24-hour clock; the zone is the caller's to add."""
    check_expr(expr)
    try:
        return str(ExpressionDescriptor(expr, casing_type=CasingTypeEnum.Sentence, use_24hour_time_format=True))
    except (FormatError, MissingFieldError, WrongArgumentError):
        return expr  # croniter reads a few forms the describer does not: the expression itself then


def fire_times(expr: str, tz: str, after: dt.datetime) -> Iterator[dt.datetime]:
    """UTC fire times strictly after `after` (an aware datetime), in order, without repeats."""
    check(expr, tz)
    z = zone(tz)
    local = after.astimezone(z).replace(tzinfo=None)
    it = croniter(expr, local - dt.timedelta(hours=3))  # start early: a fold can map earlier wall times later
    last = after
    while True:
        wall: dt.datetime = it.get_next(dt.datetime)
        instant = wall.replace(tzinfo=z, fold=0).astimezone(dt.UTC)
        if instant > last:
            last = instant
            yield instant


def next_fire(expr: str, tz: str, after: dt.datetime) -> dt.datetime:
    return next(fire_times(expr, tz, after))


def upcoming(expr: str, tz: str, after: dt.datetime, n: int = 5) -> list[dt.datetime]:
    it = fire_times(expr, tz, after)
    return [next(it) for _ in range(n)]
