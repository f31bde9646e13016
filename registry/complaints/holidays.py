"""The operator's holiday schedule: `flask holidays load FILE` and `flask holidays show YEAR`.

The file is the State Council's arrangement as CSV, UTF-8, one day a line: `date,kind` with kind
`holiday` (a day off, also on a weekday) or `workday` (a make-up working day on a weekend, 调休). A
header line `date,kind` is allowed. A malformed file is refused whole, with every bad line named.
Loading a file replaces the schedule of each year it lists, then recomputes every open deadline the
change affects (services.recompute_deadlines).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

import chinese_calendar
import click
from flask.cli import with_appcontext
from sqlalchemy import delete, select

from registry.complaints import calendar
from registry.complaints.models import HolidayDay
from registry.extensions import db

KINDS = (calendar.HOLIDAY, calendar.WORKDAY)


class ScheduleError(ValueError):
    """The file is malformed; `problems` lists (line number, what is wrong), every one of them."""

    def __init__(self, problems: list[tuple[int, str]]):
        super().__init__("; ".join(f"line {n}: {what}" for n, what in problems))
        self.problems = problems


def parse_schedule(data: bytes) -> dict[dt.date, str]:
    """The schedule in a CSV file (bytes), or ScheduleError naming every bad line. Pure."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ScheduleError([(text_line(data, error.start), "not UTF-8 text")]) from None
    problems: list[tuple[int, str]] = []
    days: dict[dt.date, str] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if number == 1 and [c.lower() for c in cells[:2]] == ["date", "kind"]:
            continue
        if len(cells) != 2:
            problems.append((number, f"expected 2 fields (date,kind), found {len(cells)}"))
            continue
        try:
            day = dt.date.fromisoformat(cells[0])
        except ValueError:
            problems.append((number, f"{cells[0]!r} is not a date (YYYY-MM-DD)"))
            continue
        kind = cells[1].lower()
        if kind not in KINDS:
            problems.append((number, f"{cells[1]!r} is not a kind (holiday or workday)"))
            continue
        if day in days:
            problems.append((number, f"{day.isoformat()} is listed twice"))
            continue
        if kind == calendar.WORKDAY and day.weekday() < 5:
            problems.append((number, f"{day.isoformat()} is a weekday; only a weekend day can be a make-up workday"))
            continue
        days[day] = kind
    if not days and not problems:
        problems.append((1, "the file lists no days"))
    if problems:
        raise ScheduleError(problems)
    return days


def text_line(data: bytes, offset: int) -> int:
    return data[:offset].count(b"\n") + 1


@dataclass
class LoadReport:
    years: list[int]
    days: int
    changes: object = None   # services.RecomputeReport


def load_schedule(days: dict[dt.date, str], today: dt.date | None = None) -> LoadReport:
    """Replace the entered schedule of every year in `days`, then recompute the deadlines it affects.

    Never commits (the CLI does). Writes events (and ledger entries where the public saw the old state).
    """
    from registry.complaints import services
    years = sorted({day.year for day in days})
    for year in years:
        db.session.execute(delete(HolidayDay).where(HolidayDay.day >= dt.date(year, 1, 1),
                                                    HolidayDay.day <= dt.date(year, 12, 31)))
    db.session.add_all(HolidayDay(day=day, kind=kind) for day, kind in sorted(days.items()))
    db.session.flush()
    calendar.forget_entered()
    report = LoadReport(years=years, days=len(days))
    report.changes = services.recompute_deadlines(years, today=today)
    return report


def schedule_lines(year: int) -> list[str]:
    """What `flask holidays show YEAR` prints: the source, then each non-ordinary day."""
    source = calendar.source_of(year)
    lines = [f"{year}: {source}"]
    if source == "entered":
        rows = db.session.execute(select(HolidayDay.day, HolidayDay.kind).where(
            HolidayDay.day >= dt.date(year, 1, 1), HolidayDay.day <= dt.date(year, 12, 31)).order_by(HolidayDay.day))
        lines += [f"{day.isoformat()},{kind}" for day, kind in rows]
    elif source == "package":
        start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
        special = [(d, calendar.HOLIDAY) for d in chinese_calendar.get_holidays(start, end, include_weekends=False)]
        special += [(d, calendar.WORKDAY) for d in chinese_calendar.get_workdays(start, end, include_weekends=True)
                    if d.weekday() >= 5]
        lines += [f"{day.isoformat()},{kind}" for day, kind in sorted(special)]
    else:
        lines.append("not known: Monday to Friday count as working days; deadlines in this year are provisional")
    return lines


@click.group("holidays", help="The State Council's holiday schedule used for complaint deadlines.")
def cli():
    pass


@cli.command("load")
@click.argument("file", type=click.File("rb"))
@with_appcontext
def load_command(file):
    """Enter a year's schedule from a CSV file (date,kind); recompute the open deadlines it changes."""
    try:
        days = parse_schedule(file.read())
    except ScheduleError as error:
        for number, what in error.problems:
            click.echo(f"line {number}: {what}", err=True)
        raise click.ClickException("the file was refused whole; nothing was loaded") from None
    report = load_schedule(days)
    db.session.commit()
    changes = report.changes
    click.echo(f"loaded {report.days} days for {', '.join(map(str, report.years))}; "
               f"deadlines changed: {changes.deadlines_changed}; unanswered marks lifted: {changes.unanswered_lifted}; "
               f"sanction reply dates changed: {changes.sanction_dates_changed}")


@cli.command("show")
@click.argument("year", type=click.IntRange(1900, 2200))
@with_appcontext
def show_command(year):
    """Print a year's schedule and where it comes from (entered, package or weekends-only fallback)."""
    for line in schedule_lines(year):
        click.echo(line)
