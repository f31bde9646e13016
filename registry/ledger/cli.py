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


@cli.command("witness")
@click.argument("url")
@click.option("--key", "verifier_key", required=True,
              help="The registry's verifier key (GET /ledger/key), obtained once from a source you trust.")
@click.option("--state", "state_path", type=click.Path(dir_okay=False),
              help="File of the checkpoints witnessed so far (default: <instance>/witness/<origin>.jsonl).")
@with_appcontext
def witness_command(url, verifier_key, state_path):
    """Fetch the registry's latest checkpoint, prove it consistent with the last one witnessed, store it.

    Exit 0: consistent (or first checkpoint); 2: the registry rewrote its history (both checkpoints printed).
    """
    from registry.ledger import witness
    try:
        outcome = witness.observe(url, verifier_key, state_path)
    except witness.WitnessError as error:
        click.echo(f"witness: {error}", err=True)
        raise SystemExit(1) from None
    if outcome.conflict:
        click.echo("!" * 72, err=True)
        click.echo("THE REGISTRY'S LOG IS NOT CONSISTENT WITH WHAT WAS WITNESSED BEFORE.", err=True)
        click.echo(f"{outcome.reason}. Keep both signed checkpoints below as evidence.", err=True)
        click.echo("--- previously witnessed ---", err=True)
        click.echo(outcome.previous.text, err=True, nl=False)
        click.echo("--- served now ---", err=True)
        click.echo(outcome.current.text, err=True, nl=False)
        click.echo("!" * 72, err=True)
        raise SystemExit(2)
    if outcome.previous is None:
        click.echo(f"witnessed first checkpoint of {outcome.current.origin}: {outcome.current.size} entries")
    else:
        click.echo(f"consistent: {outcome.previous.size} → {outcome.current.size} entries")
