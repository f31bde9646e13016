"""PRC working days: the State Council's holiday schedule as the operator entered it, else `chinesecalendar`.

The State Council publishes each year's holiday arrangement (holidays and make-up working days, 调休) in
the preceding November or December; the package learns it only with a release. So the operator enters
it the day it is published (`flask holidays load FILE`, registry/complaints/holidays.py). An entered
schedule lives in the database, so every process sees it on its next request, and it wins over the
package where both know a year. For a year neither knows, Monday–Friday count as working days and every
deadline touching that year is *provisional*: `is_estimated(day)` / `is_provisional(start, end)` say so,
and pages, messages and the tick treat it accordingly.

Within one app context (a request, one CLI run) each year's entered schedule is read once and kept in
`flask.g`; `forget_entered()` drops it after a load. Nothing is cached per process except what the
installed package knows, which cannot change while the process runs.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar
from flask import g, has_app_context

HOLIDAY, WORKDAY = "holiday", "workday"
_G_KEY = "_entered_holiday_schedules"


@lru_cache(maxsize=256)
def package_knows(year: int) -> bool:
    """Whether the installed `chinesecalendar` covers `year` (fixed for the life of the process)."""
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def entered_schedule(year: int) -> dict[dt.date, str] | None:
    """The schedule the operator entered for `year` (day → holiday/workday), or None if none was entered."""
    if not has_app_context():
        return None
    cache = g.setdefault(_G_KEY, {})
    if year not in cache:
        from sqlalchemy import select

        from registry.complaints.models import HolidayDay
        from registry.extensions import db
        rows = db.session.execute(select(HolidayDay.day, HolidayDay.kind).where(
            HolidayDay.day >= dt.date(year, 1, 1), HolidayDay.day <= dt.date(year, 12, 31))).all()
        cache[year] = {day: kind for day, kind in rows} if rows else None
    return cache[year]


def forget_entered() -> None:
    """Drop this context's copy of the entered schedules (after `flask holidays load`)."""
    if has_app_context():
        g.pop(_G_KEY, None)


def calendar_knows(year: int) -> bool:
    """Whether `year`'s holidays are known: entered by the operator, or in the installed package."""
    return entered_schedule(year) is not None or package_knows(year)


def source_of(year: int) -> str:
    """'entered', 'package' or 'fallback' (weekends only): shown by `flask holidays show`."""
    if entered_schedule(year) is not None:
        return "entered"
    return "package" if package_knows(year) else "fallback"


def is_workday(day: dt.date) -> bool:
    """A PRC working day: holidays are off, make-up Saturdays/Sundays are on; weekends-only when unknown."""
    entered = entered_schedule(day.year)
    if entered is not None:
        kind = entered.get(day)
        if kind is not None:
            return kind == WORKDAY
        return day.weekday() < 5
    if package_knows(day.year):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def is_estimated(day: dt.date) -> bool:
    """True when `day` lies in a year whose holidays are not known (weekends-only fallback)."""
    return not calendar_knows(day.year)


def is_provisional(start: dt.date | None, end: dt.date | None) -> bool:
    """A deadline counted from `start` to `end` is provisional if any year it crosses is not known."""
    if end is None:
        return False
    first = (start or end).year
    return any(not calendar_knows(year) for year in range(min(first, end.year), end.year + 1))


def known_years() -> tuple[int, int]:
    """First and last year the installed package covers (shown on the rules page)."""
    years = [y for y in range(2004, 2100) if package_knows(y)]
    return (years[0], years[-1]) if years else (0, 0)


def next_year_warning(today: dt.date) -> int | None:
    """The year the operator should enter now: next year from 1 November on, or this year, if unknown."""
    if not calendar_knows(today.year):
        return today.year
    if today.month >= 11 and not calendar_knows(today.year + 1):
        return today.year + 1
    return None
