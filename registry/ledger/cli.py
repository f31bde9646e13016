"""`flask ledger verify [--file ledger.jsonl]`: recompute the hash chain and name the first broken entry."""
from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from registry.ledger import services
from registry.ledger.chain import verify_entries


@click.group("ledger", help="The public, hash-chained ledger.")
def cli():
    pass


@cli.command("verify")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False),
              help="Check a downloaded /ledger.jsonl export instead of the database.")
@with_appcontext
def verify_command(path):
    """Check every entry's hash and link; exit 1 naming the first broken entry."""
    if path:
        with open(path, encoding="utf-8") as handle:
            count, head, problem, _seq = verify_entries(json.loads(line) for line in handle if line.strip())
    else:
        count, head, problem, _seq = services.verify_chain()
    if problem:
        click.echo(f"ledger BROKEN after {count} good entries: {problem}", err=True)
        raise SystemExit(1)
    click.echo(f"ledger ok: {count} entries, head {head}")


@cli.group("tree", help="The Merkle tree over the ledger (the transparency log).")
def tree():
    pass


@tree.command("rebuild")
@with_appcontext
def tree_rebuild_command():
    """Recompute the tree from every entry (after the upgrade that added it), then check the stored checkpoints."""
    from registry.extensions import db
    from registry.ledger import tlog
    leaves = tlog.rebuild()
    mismatched = [c for c in tlog.list_checkpoints(limit=None)
                  if c.tree_size > leaves or tlog.root(c.tree_size) != c.root_hash]
    if mismatched:
        db.session.rollback()
        for checkpoint in mismatched:
            click.echo(f"checkpoint at size {checkpoint.tree_size} does NOT match the ledger:\n{checkpoint.note}", err=True)
        raise SystemExit(1)
    db.session.commit()
    click.echo(f"ledger tree rebuilt: {leaves} leaves")


@cli.command("checkpoint")
@with_appcontext
def checkpoint_command():
    """Sign a checkpoint of the current tree (if it grew) and print it."""
    from registry.extensions import db
    from registry.ledger import tlog
    checkpoint = tlog.current_checkpoint()
    db.session.commit()
    click.echo(checkpoint.note, nl=False)
