"""`flask certificates import FILE`: load an existing register (CSV or JSON Lines), all or nothing.

Output is in Chinese and English together, because the clerks who run it read Chinese and the
operators who script it read English.
"""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import force_locale, gettext

from registry import clock
from registry.certificates import importer, services
from registry.extensions import db


@click.group("certificates", help="Certificates: import an existing register.")
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


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
@with_appcontext
def import_command(file: Path, dry_run: bool):
    """Import FILE (.csv, UTF-8 with or without BOM, or .jsonl). One bad row and nothing is imported."""
    result = importer.parse_register(file.read_bytes(), file.name, clock.today())
    if not result.ok:
        report_rejection(result.problems)
        raise SystemExit(1)
    try:
        summary = services.import_register(result.rows, actor_role="import")
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
