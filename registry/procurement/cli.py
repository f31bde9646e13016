"""`flask keys ...`: the Ed25519 key that signs verification receipts."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from registry.procurement import receipts

cli = AppGroup("keys", help="The receipt signing key.")


@cli.command("generate")
@click.option("--force", is_flag=True, help="Replace an existing key (receipts signed with it stop verifying).")
def generate(force: bool) -> None:
    """Create the signing key at SIGNING_KEY_PATH and print its fingerprint (publish it in the README)."""
    path = current_app.config["SIGNING_KEY_PATH"]
    try:
        key = receipts.write_new_key(path, overwrite=force)
    except receipts.KeyExists as error:
        existing = receipts.load_private_key(path)
        raise click.ClickException(
            f"a key already exists at {path} (fingerprint {receipts.fingerprint(existing.public_key())}); "
            "use --force to replace it") from error
    click.echo(f"key: {path}")
    click.echo(f"fingerprint: {receipts.fingerprint(key.public_key())}")


@cli.command("fingerprint")
def show_fingerprint() -> None:
    """Print the fingerprint of the current signing key."""
    path = current_app.config["SIGNING_KEY_PATH"]
    try:
        key = receipts.load_private_key(path)
    except FileNotFoundError as error:
        raise click.ClickException(f"no key at {path}; run `flask keys generate`") from error
    click.echo(receipts.fingerprint(key.public_key()))
