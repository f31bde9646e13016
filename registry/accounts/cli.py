"""`flask accounts create|demo`."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from registry.accounts import audit, services
from registry.errors import RegistryError
from registry.extensions import db


@click.group("accounts", help="Staff and company accounts.")
def cli():
    pass


@cli.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "officer", "moderator", "company"]))
@click.option("--company", "company_uscc", default=None, help="The company's USCC (company accounts only).")
@with_appcontext
def create_command(email, role, company_uscc):
    """Create an account; the password is read from stdin (first line), never from the command line."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = services.create_account(email=email, role=role, password=password, company_uscc=company_uscc)
    except RegistryError as error:
        db.session.rollback()
        detail = "; ".join(f"{k}: {v}" for k, v in error.fields.items())
        raise click.ClickException(f"{error.message} {detail}".strip()) from None
    _record("cli.accounts.create", user.email, role=user.role)
    db.session.commit()
    click.echo(f"created {user.role} account {user.email}")


@cli.command("demo")
@with_appcontext
def demo_command():
    """Create (or reset) one demo account per role and print the logins."""
    try:
        logins = services.ensure_demo_accounts()
    except RegistryError as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo("Demo accounts (sign in at /login):")
    for login in logins:
        bound = f"  [{login.company}]" if login.company else ""
        click.echo(f"  {login.role:<10} {login.email:<26} password: {login.password}{bound}")
    if not any(login.role == "company" for login in logins):
        click.echo("  (no company account: the register has no valid certificate yet; run again after the demo data)")


@cli.command("disable")
@click.option("--email", required=True)
@with_appcontext
def disable_command(email):
    """Disable an account (it can no longer sign in; open sessions end at the next request)."""
    _set_active(email, False)


@cli.command("enable")
@click.option("--email", required=True)
@with_appcontext
def enable_command(email):
    """Re-enable a disabled account."""
    _set_active(email, True)


def _set_active(email: str, active: bool) -> None:
    try:
        user = services.set_active(email, active)
    except RegistryError as error:
        raise click.ClickException(error.message) from None
    _record(f"cli.accounts.{'enable' if active else 'disable'}", user.email)
    db.session.commit()
    click.echo(f"{'enabled' if active else 'disabled'} {user.email}")


def _record(action: str, account: str, **detail) -> None:
    """Account changes made on the server's command line go into the staff log too, naming the OS user."""
    import getpass
    try:
        operator = getpass.getuser()
    except (KeyError, OSError):
        operator = ""
    entry = audit.record(db.session, action, detail={"account": account, "os_user": operator, **detail})
    entry.role = "cli"
