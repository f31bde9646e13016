"""`flask messages deliver | failed | retry ID`: the message outbox by hand (the worker does it continuously)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from registry.extensions import db

cli = click.Group("messages", help="Outgoing SMS and e-mail (the message outbox).")


@cli.command("deliver")
@with_appcontext
def deliver_command():
    """Send every message that is due now."""
    from registry.messaging.delivery import deliver_due

    report = deliver_due(db.engine, rounds=1000)
    click.echo(f"{report.sent} sent, {report.retrying} to retry later, {report.failed} failed")


@cli.command("failed")
@with_appcontext
def failed_command():
    """List messages whose every attempt failed."""
    from registry.messaging.models import MessageStatus, OutgoingMessage

    rows = db.session.scalars(select(OutgoingMessage).where(OutgoingMessage.status == MessageStatus.FAILED.value)
                              .order_by(OutgoingMessage.id)).all()
    for row in rows:
        click.echo(f"{row.id}\t{row.channel}\t{row.attempts} attempts\t{row.last_error}")
    click.echo(f"{len(rows)} failed messages")


@cli.command("retry")
@click.argument("message_id", type=int)
@with_appcontext
def retry_command(message_id):
    """Make a failed message due again (sent at once in inline mode, else by the worker)."""
    from registry.messaging.delivery import retry

    if retry(db.session, message_id) is None:
        raise click.ClickException(f"no failed message {message_id}")
    db.session.commit()
    click.echo(f"message {message_id} is due again")
