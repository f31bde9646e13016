"""`flask complaints overdue`: the daily step that marks missed company deadlines "unanswered"."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from registry.extensions import db


@click.group("complaints", help="Complaint housekeeping.")
def cli():
    pass


@cli.command("overdue")
@with_appcontext
def overdue():
    """Mark unanswered complaints, refresh provisional deadlines and report how many items are overdue."""
    from registry.complaints.services import mark_overdue
    report = mark_overdue()
    db.session.commit()
    click.echo(f"overdue: {report.overdue}; newly unanswered: {report.newly_unanswered}; "
               f"deadlines recomputed: {report.deadlines_recomputed}; "
               f"missed on a provisional deadline, awaiting a moderator: {report.awaiting_confirmation}")


@cli.command("purge")
@with_appcontext
def purge():
    """Erase consumers' personal data from complaints closed longer ago than the retention period."""
    from registry.complaints.services import purge_personal_data
    count = purge_personal_data()
    db.session.commit()
    click.echo(f"purged: {count}")
