"""`flask certificates import FILE`: sync an existing register (CSV or JSON Lines) in, all or nothing;
`flask certificates export FILE`: the register in the same format, so an export re-imports to the same state.

Output is in Chinese and English together, because the clerks who run it read Chinese and the
operators who script it read English.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale, gettext

from registry import clock
from registry.certificates import importer, register_export, services
from registry.extensions import db


@click.group("certificates", help="Certificates: import an existing register, export the register.")
def cli():
    pass


def both_languages(problem: importer.Problem) -> str:
    """'第 3 行, 列 uscc: 校验位错误… / line 3, column uscc: the check digit…' for one problem."""
    with force_locale("zh_Hans"):
        zh = importer.describe(problem, gettext)
    with force_locale("en"):
        en = importer.describe(problem, gettext)
    if problem.line is None:
        return f"文件: {zh} / file: {en}"
    where_zh, where_en = f"第 {problem.line} 行", f"line {problem.line}"
    if problem.column:
        where_zh, where_en = f"{where_zh}, 列 {problem.column}", f"{where_en}, column {problem.column}"
    return f"{where_zh}: {zh} / {where_en}: {en}"


def report_rejection(problems: list[importer.Problem]) -> None:
    lines = sorted({p.line for p in problems if p.line is not None})
    click.echo("文件被拒绝，未导入任何内容。/ File rejected: nothing was imported.", err=True)
    if lines:
        click.echo(f"问题 {len(problems)} 个，涉及 {len(lines)} 行。/ {len(problems)} problem(s) on {len(lines)} line(s).",
                   err=True)
    for problem in problems:
        click.echo("  " + both_languages(problem), err=True)
    click.echo("请改正以上各处后重新导入整个文件。/ Correct every line above and import the whole file again.", err=True)


def report_warnings(warnings: list[importer.Problem]) -> None:
    if not warnings:
        return
    click.echo(f"提醒 {len(warnings)} 条（已导入，但公众看到的状态与文件不同）：/ {len(warnings)} warning(s) (imported, "
               "but the public sees another status than the file says):")
    for warning in warnings:
        click.echo("  " + both_languages(warning))


def _as_of(value: str | None) -> dt.date | None:
    if value is None:
        return None
    day = importer.parse_date(value)
    if day is None:
        raise click.BadParameter("日期格式应为 YYYY-MM-DD / write YYYY-MM-DD", param_hint="--as-of")
    if day > clock.today():
        raise click.BadParameter("日期在将来 / the date is in the future", param_hint="--as-of")
    return day


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD",
              help="The day the file shows the register as (default: its header line, else each row's own dates). "
                   "A decision the registry took after it is not undone.")
@with_appcontext
def import_command(file: Path, dry_run: bool, as_of: str | None):
    """Import FILE (.csv, UTF-8 with or without BOM, or .jsonl). One bad row and nothing is imported."""
    as_of_day = _as_of(as_of)
    result = importer.parse_register(file.read_bytes(), file.name, clock.today(),
                                     max_suspension_months=int(current_app.config.get("MAX_SUSPENSION_MONTHS", 6)))
    if not result.ok:
        report_rejection(result.problems)
        raise SystemExit(1)
    header = result.header
    try:
        summary = services.import_register(
            result.rows, actor_role="import", as_of=as_of_day or header.as_of,
            ledger_head=(header.ledger_head_seq, header.ledger_head_hash) if header.ledger_head_seq is not None else None)
    except services.ImportRejected as error:
        db.session.rollback()
        report_rejection(error.problems)
        raise SystemExit(1) from None
    if dry_run:
        db.session.rollback()
        click.echo("检查通过（试运行，未写入）。/ File is fine (dry run: nothing written).")
    else:
        db.session.commit()
        click.echo("导入完成。/ Import done.")
    click.echo(f"证书: 新增 {summary.created}, 更新 {summary.updated}, 未变 {summary.unchanged} / "
               f"certificates: {summary.created} new, {summary.updated} updated, {summary.unchanged} unchanged")
    click.echo(f"企业: 新增 {summary.companies_created}, 更新 {summary.companies_updated} / "
               f"companies: {summary.companies_created} new, {summary.companies_updated} updated; "
               f"ledger entries {summary.ledger_entries}")
    report_warnings(summary.warnings)


@cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, allow_dash=True))
@click.option("--format", "file_format", type=click.Choice(["csv", "jsonl"]),
              help="Default: from the file name (.jsonl → JSON Lines, else CSV).")
@with_appcontext
def export_command(file: str, file_format: str | None):
    """Write the register to FILE in the import's format ('-' for standard output); it re-imports unchanged."""
    kind = file_format or ("jsonl" if file.lower().endswith((".jsonl", ".ndjson", ".json")) else "csv")
    content = register_export.export_register(kind)
    db.session.rollback()  # read only
    if file == "-":
        click.echo(content.decode("utf-8-sig"), nl=False)
    else:
        Path(file).write_bytes(content)
        click.echo(f"已导出到 {file} / exported to {file}")
