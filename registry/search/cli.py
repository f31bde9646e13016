"""`flask search sync | rebuild | check | worker`: keep the index in step with the database."""
from __future__ import annotations

import signal
import time

import click
from flask.cli import with_appcontext

from registry.extensions import db
from registry.search import state
from registry.search.index import IndexBusy, IndexUnavailable

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


@cli.command("worker")
@click.option("--interval", type=float, default=0.5, help="Seconds between outbox polls.")
@click.option("--once", is_flag=True, help="Drain the outbox once and exit.")
@with_appcontext
def worker_command(interval, once):
    """The dedicated indexer process for deployments with several web workers (SEARCH_INDEXER=external)."""
    from registry.search import indexer

    s = state()
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    click.echo(f"search worker: index {s.store.root}, polling every {interval} s")
    while not stopping:
        try:
            applied = indexer.apply_outbox(db.engine, s.store)
            if applied:
                click.echo(f"applied {applied} outbox rows")
        except IndexUnavailable as error:
            click.echo(f"index unavailable ({error}); building it")
            report = indexer.rebuild(db.engine, s.store)
            click.echo(f"built {report.documents} documents in {report.seconds:.1f} s")
        except IndexBusy:
            pass
        finally:
            db.session.remove()
        if once:
            break
        time.sleep(interval)
