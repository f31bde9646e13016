"""PRC working days: the official holidays and make-up working days (调休) from `chinesecalendar`.

The State Council publishes each year's holiday arrangement in the preceding November or December, and
the package learns it with a release. For a year the installed package does not know yet, the fallback
counts Monday–Friday as working days (weekends only) and says so: `is_estimated(day)` is True, and the
pages mark such deadlines "provisional". Upgrading the package (`pip install -U chinesecalendar`) fixes
them on the next computation; stored deadlines are recomputed by `flask complaints overdue`.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=64)
def calendar_knows(year: int) -> bool:
    """Whether the installed holiday calendar covers `year`."""
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def is_workday(day: dt.date) -> bool:
    """A PRC working day: holidays are off, make-up Saturdays/Sundays are on; weekends-only when unknown."""
    if calendar_knows(day.year):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def is_estimated(day: dt.date) -> bool:
    """True when `day` lies in a year the holiday calendar does not cover (weekends-only fallback)."""
    return not calendar_knows(day.year)


def known_years() -> tuple[int, int]:
    """First and last year the installed calendar covers (shown on the rules page)."""
    years = [y for y in range(2004, 2100) if calendar_knows(y)]
    return (years[0], years[-1]) if years else (0, 0)
