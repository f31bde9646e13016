"""`flask registry ...`: database schema and daily jobs."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_migrate import upgrade


@click.group("registry", help="Database schema and scheduled jobs.")
def cli():
    pass


@cli.command("init")
@with_appcontext
def init_command():
    """Create the database schema, or upgrade it to the newest version. Safe to run again."""
    upgrade()
    click.echo("database schema is up to date")
