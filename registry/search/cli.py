"""`flask search sync | rebuild | check | cursors | worker`: keep this host's index in step with the database."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from registry.extensions import db
from registry.search import state
from registry.search.index import IndexUnavailable

cli = click.Group("search", help="Maintain the full-text search index.")


@cli.command("sync")
@with_appcontext
def sync_command():
    """Apply pending outbox rows to the index (builds the index if it does not exist)."""
    from registry.search import indexer

    s = state()
    try:
        applied = indexer.apply_outbox(db.engine, s.store)
    except IndexUnavailable as error:
        click.echo(f"index unavailable ({error}); building it")
        report = indexer.rebuild(db.engine, s.store)
        click.echo(f"built {report.documents} documents in {report.seconds:.1f} s")
        return
    click.echo(f"applied {applied} outbox rows")


@cli.command("rebuild")
@click.option("--procs", type=int, default=None, help="Processes for text analysis (default: CPU count).")
@with_appcontext
def rebuild_command(procs):
    """Build a new index beside the live one from the database and swap it in."""
    from registry.search import indexer

    report = indexer.rebuild(db.engine, state().store, procs=procs)
    click.echo(f"built {report.documents} documents in {report.seconds:.1f} s "
               f"(generation {report.generation}; {report.applied_after} outbox rows applied after the swap)")


@cli.command("check")
@click.option("--limit", type=int, default=50, help="How many differences of each kind to list.")
@with_appcontext
def check_command(limit):
    """Compare database and index; exit status 1 if they differ."""
    from registry.search import indexer

    report = indexer.check(db.engine, state().store)
    click.echo(f"database: {report.database} certificates; index: {report.indexed} documents; "
               f"pending outbox rows: {report.pending}")
    if report.problem:
        click.echo(f"index problem: {report.problem}")
    for title, numbers in (("missing from the index", report.missing), ("in the index but not in the database",
                           report.extra), ("outdated in the index", report.stale)):
        if numbers:
            click.echo(f"{title}: {len(numbers)}")
            for number in numbers[:limit]:
                click.echo(f"  {number}")
    if report.ok:
        click.echo("index matches the database")
    else:
        click.echo("differences found: run `flask search sync` (or `flask search rebuild`)")
        raise SystemExit(1)


@cli.command("cursors")
@with_appcontext
def cursors_command():
    """List every registered index (one per host), how far it has followed the outbox, and the outbox span."""
    from sqlalchemy import func, select

    from registry.search.indexer import index_identity
    from registry.search.outbox import SearchCursor, SearchOutbox

    mine = index_identity(state().store, create=False)
    low, high = db.session.execute(select(func.min(SearchOutbox.id), func.max(SearchOutbox.id))).one()
    click.echo(f"outbox rows: {low or 0}..{high or 0}")
    for row in db.session.scalars(select(SearchCursor).order_by(SearchCursor.index_id)):
        flags = " (this host)" if row.index_id == mine else ""
        flags += " EXPIRED: run `flask search rebuild` there" if row.expired else ""
        click.echo(f"{row.index_id}  {row.last_seq:>10}  {row.updated_at:%Y-%m-%d %H:%M:%S}  {row.label}{flags}")


@cli.command("forget")
@click.argument("index_id")
@with_appcontext
def forget_command(index_id):
    """Unregister a host's index that is gone for good, so the outbox rows it held back can be pruned."""
    from registry.search.outbox import SearchCursor

    row = db.session.get(SearchCursor, index_id)
    if row is None:
        raise click.ClickException(f"no index {index_id} (see `flask search cursors`)")
    from registry.search.indexer import prune_passed

    db.session.delete(row)
    db.session.flush()
    pruned = prune_passed(db.session)
    db.session.commit()
    click.echo(f"forgot index {index_id}; {pruned} outbox rows pruned")


@cli.command("worker")
@click.option("--interval", type=float, default=None, help="Seconds between loops when idle.")
@click.option("--once", is_flag=True, help="Run once and exit.")
@click.pass_context
def worker_command(context, interval, once):
    """Former name of `flask registry worker` (which also delivers messages and runs the daily tick)."""
    from registry.worker import command

    context.invoke(command(), interval=interval, once=once)
