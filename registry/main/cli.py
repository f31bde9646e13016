"""`flask registry ...`: database schema and daily jobs."""
from __future__ import annotations

import contextlib
import fcntl
import os

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import text

# Any fixed number: the PostgreSQL advisory lock that serialises `registry init` across hosts and processes.
INIT_LOCK_KEY = 27922_2011


@click.group("registry", help="Database schema and scheduled jobs.")
def cli():
    pass


def _add_worker_command() -> None:
    from registry.worker import command
    cli.add_command(command())


_add_worker_command()


@cli.command("init")
@with_appcontext
def init_command():
    """Create the database schema, or upgrade it to the newest version. Safe to run again, and at once on
    several hosts (the second waits for the first, then finds nothing to do)."""
    from sqlalchemy.exc import OperationalError

    try:
        with _init_lock():
            upgrade()
    except OperationalError as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        raise click.ClickException(f"cannot reach the database ({reason}); check DATABASE_URL") from None
    click.echo("database schema is up to date")


@contextlib.contextmanager
def _init_lock():
    """PostgreSQL: a session advisory lock on a connection of its own; SQLite: a lock file beside the database."""
    from registry.extensions import db

    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": INIT_LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": INIT_LOCK_KEY})
                connection.commit()
        return
    database = db.engine.url.database or ""
    folder = os.path.dirname(database) if database and database != ":memory:" else current_app.instance_path
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, ".registry-init.lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@cli.command("tick")
@click.option("--today", "today_text", default=None, metavar="YYYY-MM-DD",
              help="Run as if today were this date (default: today in Asia/Shanghai).")
@with_appcontext
def tick_command(today_text):
    """Persist date-driven transitions (expired, suspension ended, surveillance overdue, complaint deadlines).

    Run daily; idempotent.
    """
    import datetime as dt

    from flask import current_app

    from registry import clock
    from registry.complaints.services import mark_overdue
    from registry.extensions import db
    from registry.office.tick import run_tick

    if today_text:
        try:
            today = dt.date.fromisoformat(today_text)
        except ValueError:
            raise click.BadParameter("use the form YYYY-MM-DD", param_hint="--today") from None
        current_app.config["REGISTRY_TODAY"] = today.isoformat()  # every rule in this run sees the same day
    else:
        today = clock.today()
    summary = run_tick(today)
    # Complaint deadlines are date-driven too: a company that missed its deadline is marked unanswered.
    complaints = mark_overdue(today)
    db.session.commit()
    click.echo(f"tick {today.isoformat()}: {len(summary.expired)} expired, "
               f"{len(summary.revoked)} revoked (suspension ended), "
               f"{len(summary.suspended)} suspended (surveillance overdue)")
    click.echo(f"complaints: {complaints.overdue} overdue, {complaints.newly_unanswered} newly unanswered")
    for label, numbers in (("expired", summary.expired), ("revoked", summary.revoked), ("suspended", summary.suspended)):
        for number in numbers:
            click.echo(f"  {label:<9} {number}")
