"""`flask registry ...`: database schema and daily jobs."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_migrate import upgrade


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
    """Create the database schema, or upgrade it to the newest version. Safe to run again."""
    upgrade()
    click.echo("database schema is up to date")


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
