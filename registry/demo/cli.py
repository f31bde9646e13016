"""`flask demo load`: fill an empty (or demo) register with the fictional demo data. Safe to run again."""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from registry import clock
from registry.accounts import services as account_services
from registry.accounts.models import User
from registry.certificates import services as certificate_services
from registry.certificates.importer import COLUMNS
from registry.certificates.models import Certificate
from registry.complaints.demo import seed_demo_complaints
from registry.complaints.models import Complaint
from registry.config import is_production
from registry.demo import data
from registry.extensions import db


@click.group("demo", help="Fictional demo data for a demo site.")
def cli():
    pass


@cli.command("load")
@click.option("--force", is_flag=True, help="Load even if the register holds certificates that are not demo data.")
@with_appcontext
def load_command(force: bool):
    """Create about 200 fictional companies and their certificates (through the import service)."""
    if is_production(current_app.config):
        # Before anything is written: demo companies and accounts with known passwords have no place here.
        raise click.ClickException("演示数据不能加载到生产环境（REGISTRY_ENV=production）。/ Demo data is never loaded "
                                   "in production (REGISTRY_ENV=production); nothing was written.")
    rows = data.demo_rows(clock.today())
    numbers = {row.certificate_number for row in rows}
    foreign = db.session.scalar(select(func.count()).select_from(Certificate)
                                .where(Certificate.number.not_in(numbers)))
    if foreign and not force:
        click.echo(f"登记簿中已有 {foreign} 张非演示证书，未加载演示数据。/ The register holds {foreign} certificate(s) that "
                   "are not demo data; demo data not loaded (use --force on a test copy only).", err=True)
        sys.exit(1)
    summary = certificate_services.import_register(rows, actor_role="demo", only_new=True)
    db.session.commit()
    companies = len({row.uscc for row in rows})
    click.echo(f"演示数据：企业 {companies} 家，证书 {len(rows)} 张（本次新增 {summary.created}）。/ Demo data: {companies} "
               f"companies, {len(rows)} certificates ({summary.created} added now, {summary.unchanged} already there).")

    # Accounts after the register (the company account binds to a valid certificate's company), then
    # complaints in every stage, filed through the real services, once.
    logins = account_services.ensure_demo_accounts()
    # Fictional consumers get no console "SMS": keep the demo's messages in memory while seeding.
    backend = current_app.config.get("MESSAGE_BACKEND")
    current_app.config["MESSAGE_BACKEND"] = "memory"
    try:
        filed = _seed_complaints_once(logins)
        db.session.commit()
    finally:
        current_app.config["MESSAGE_BACKEND"] = backend
    if filed:
        click.echo(f"演示投诉：{filed} 件。/ Demo complaints: {filed}.")
    click.echo("演示账号（在 /login 登录）/ Demo accounts (sign in at /login):")
    for login in logins:
        bound = f"  [{login.company}]" if login.company else ""
        click.echo(f"  {login.role:<10} {login.email:<26} password: {login.password}{bound}")
    if not current_app.config.get("DEMO_MODE"):
        click.echo("提示：请设置 DEMO_MODE=1，使每个页面都注明这是演示数据。/ Note: set DEMO_MODE=1 so every page says "
                   "this is demo data.", err=True)


def _seed_complaints_once(logins) -> int:
    """Demo complaints about the demo company's certificates and a few others; none if any exist already."""
    if db.session.scalar(select(func.count()).select_from(Complaint)):
        return 0
    users = {login.role: db.session.scalar(select(User).where(User.email == login.email)) for login in logins}
    company_user = users.get("company")
    today = clock.today()
    valid = db.session.scalars(select(Certificate).where(certificate_services.status_condition("valid", today))
                               .order_by(Certificate.id).limit(15)).all()
    own = ([] if company_user is None else db.session.scalars(
        select(Certificate).where(Certificate.company_id == company_user.company_id)).all())
    certificates = list({c.id: c for c in [*own, *valid]}.values())
    company_users = {company_user.company_id: company_user} if company_user else {}
    return seed_demo_complaints(certificates, users["moderator"], company_users)


@cli.command("csv")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def csv_command(file: Path):
    """Write the demo register as an import file (CSV UTF-8 with BOM, as Excel writes it)."""
    records = data.demo_records(clock.today())
    with file.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS), extrasaction="ignore", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(records)
    click.echo(f"{len(records)} rows → {file}")
