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
from registry.certificates import services as certificate_services
from registry.certificates.importer import COLUMNS
from registry.certificates.models import Certificate
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
    if not current_app.config.get("DEMO_MODE"):
        click.echo("提示：请设置 DEMO_MODE=1，使每个页面都注明这是演示数据。/ Note: set DEMO_MODE=1 so every page says "
                   "this is demo data.", err=True)


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
