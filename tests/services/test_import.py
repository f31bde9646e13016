"""`flask certificates import FILE`: a good file goes in whole, a bad one is refused whole with a report."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

from sqlalchemy import func, select

from registry.certificates.identifiers import make_uscc
from registry.certificates.models import Certificate, Company
from registry.extensions import db
from registry.ledger.chain import GENESIS_HASH, HASHED_FIELDS, entry_hash
from registry.ledger.models import LedgerEntry

HEADER = ["certificate_number", "company_name", "uscc", "province", "city", "address", "industry",
          "enterprise_type", "scheme", "score", "level", "scope", "issued_on", "expires_on", "status",
          "last_surveillance_on", "former_names"]
USCC_A = make_uscc("91370200MA3C7N2K4")
USCC_B = make_uscc("91440300MA5F8R1X0")
USCC_C = make_uscc("91330100MA2H3Q6T7")


def register_row(**overrides) -> dict:
    row = {"certificate_number": "99925SV00101R0", "company_name": "青岛澜泽家电有限公司", "uscc": USCC_A,
           "province": "山东省", "city": "青岛市", "address": "市南区香港中路88号", "industry": "家电",
           "enterprise_type": "production", "scheme": "gbt27922-2011", "score": "91.5", "level": "4",
           "scope": "家用电器的销售、配送、安装、维修及退换货服务", "issued_on": "2025-03-01", "expires_on": "",
           "status": "", "last_surveillance_on": "", "former_names": ""}
    row.update(overrides)
    return row


def good_rows() -> list[dict]:
    return [
        register_row(former_names="青島瀾澤家電有限公司"),
        register_row(certificate_number="99924SV00102R0", company_name="深圳岱航通讯设备有限公司", uscc=USCC_B,
                     province="广东省", city="深圳市", address="南山区科技园路12号", industry="手机通讯",
                     enterprise_type="sales_service", score="80", level="三星", issued_on="2024-07-15",
                     status="suspended", last_surveillance_on="2025-07-20"),
        register_row(certificate_number="99925SV00103R0", company_name="杭州沐禾酒店管理有限公司", uscc=USCC_C,
                     province="浙江省", city="杭州市", address="西湖区文三路5号", industry="酒店",
                     enterprise_type="sales_service", scheme="satisfaction-1000", score="862", level="8",
                     issued_on="2025-09-01", former_names="杭州沐禾宾馆;杭州沐禾商务酒店有限公司"),
    ]


def csv_bytes(rows: list[dict], header: list[str] = HEADER, bom: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8")


def run_import(runner, tmp_path, content: bytes, name: str = "register.csv", *extra):
    path = tmp_path / name
    path.write_bytes(content)
    return runner.invoke(args=["certificates", "import", str(path), *extra])


def counts(app) -> dict:
    with app.app_context():
        return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
                for model in (Company, Certificate, LedgerEntry)}


def assert_index_matches_database(runner) -> None:
    """What the import changed reached the search index (`flask search check` compares every certificate)."""
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 0, result.output


def test_good_csv_imports_companies_certificates_ledger_and_outbox(app, runner, tmp_path):
    result = run_import(runner, tmp_path, csv_bytes(good_rows()))
    assert result.exit_code == 0, result.output
    assert "新增 3" in result.output and "3 new" in result.output
    # 3 'imported' entries plus the suspension of the second certificate.
    assert counts(app) == {"company": 3, "certificate": 3, "ledger_entry": 4}
    assert_index_matches_database(runner)
    with app.app_context():
        cert = db.session.scalar(select(Certificate).where(Certificate.number == "99925SV00101R0"))
        assert cert.level == "4" and cert.score == Decimal("91.50")
        assert cert.expires_on == dt.date(2028, 2, 29)  # issued + 3 years − 1 day (2028 is a leap year)
        assert cert.company.former_names == ["青島瀾澤家電有限公司"]
        suspended = db.session.scalar(select(Certificate).where(Certificate.number == "99924SV00102R0"))
        assert suspended.status == "suspended" and suspended.level == "3"
        assert suspended.status_changed_on == dt.date(2026, 6, 1)
        kinds = [(e.kind, e.status_after, e.effective_on, e.actor_role) for e in db.session.scalars(
            select(LedgerEntry).where(LedgerEntry.certificate_id == suspended.id).order_by(LedgerEntry.seq))]
        assert kinds == [("imported", "valid", dt.date(2024, 7, 15), "import"),
                         ("suspended", "suspended", dt.date(2026, 6, 1), "import")]
        hotel = db.session.scalar(select(Certificate).where(Certificate.number == "99925SV00103R0"))
        assert hotel.scheme_id == "satisfaction-1000" and hotel.level == "8"
        assert hotel.company.former_names == ["杭州沐禾宾馆", "杭州沐禾商务酒店有限公司"]


def test_imported_certificate_page_shows_its_details_and_history(app, runner, client, tmp_path):
    run_import(runner, tmp_path, csv_bytes(good_rows()))
    page = client.get("/certificates/99924SV00102R0").get_data(as_text=True)
    assert "深圳岱航通讯设备有限公司" in page and "暂停" in page and "三星" in page
    assert "2025-07-20" in page  # last surveillance


def test_excel_csv_with_byte_order_mark_imports(app, runner, tmp_path):
    result = run_import(runner, tmp_path, csv_bytes(good_rows(), bom=True))
    assert result.exit_code == 0, result.output
    assert counts(app)["certificate"] == 3


def test_json_lines_file_imports_with_numbers_and_lists(app, runner, tmp_path):
    rows = good_rows()
    rows[0]["score"] = 91.5
    rows[0]["former_names"] = ["青島瀾澤家電有限公司"]
    rows[2]["score"] = 862
    content = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()
    result = run_import(runner, tmp_path, content, "register.jsonl")
    assert result.exit_code == 0, result.output
    assert counts(app)["certificate"] == 3
    with app.app_context():
        cert = db.session.scalar(select(Certificate).where(Certificate.number == "99925SV00101R0"))
        assert cert.score == Decimal("91.50") and cert.company.former_names == ["青島瀾澤家電有限公司"]


def test_reimporting_the_same_file_changes_nothing(app, runner, tmp_path):
    content = csv_bytes(good_rows())
    run_import(runner, tmp_path, content)
    before = counts(app)
    result = run_import(runner, tmp_path, content)
    assert result.exit_code == 0, result.output
    assert "未变 3" in result.output and "3 unchanged" in result.output
    assert counts(app) == before


def test_changed_row_updates_its_certificate_with_an_updated_ledger_entry(app, runner, tmp_path):
    run_import(runner, tmp_path, csv_bytes(good_rows()))
    before = counts(app)
    rows = good_rows()
    rows[0].update(score="95", level="5", scope="家用电器的销售、配送、安装及维修服务")
    result = run_import(runner, tmp_path, csv_bytes(rows))
    assert result.exit_code == 0, result.output
    assert "更新 1" in result.output and "1 updated" in result.output
    after = counts(app)
    assert after["certificate"] == before["certificate"]
    # The scope and score are an 'updated' entry; the level change goes through the lifecycle's change_level.
    assert after["ledger_entry"] == before["ledger_entry"] + 2
    assert_index_matches_database(runner)
    with app.app_context():
        cert = db.session.scalar(select(Certificate).where(Certificate.number == "99925SV00101R0"))
        assert cert.level == "5" and cert.score == Decimal("95.00")
        last_two = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq.desc()).limit(2)).all()
        assert [(e.kind, e.level_after, e.actor_role) for e in reversed(last_two)] == [
            ("updated", "4", "import"), ("level_changed", "5", "import")]


def test_status_change_in_a_later_file_writes_a_status_entry(app, runner, tmp_path):
    run_import(runner, tmp_path, csv_bytes(good_rows()))
    rows = good_rows()
    rows[1]["status"] = "valid"
    rows[0]["status"] = "revoked"
    assert run_import(runner, tmp_path, csv_bytes(rows)).exit_code == 0
    with app.app_context():
        entries = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq.desc()).limit(2)).all()
        assert {(e.certificate_number, e.kind) for e in entries} == {("99925SV00101R0", "revoked"),
                                                                     ("99924SV00102R0", "restored")}


def test_revoked_certificate_cannot_come_back_through_an_import(app, runner, tmp_path):
    rows = good_rows()
    rows[0]["status"] = "revoked"
    run_import(runner, tmp_path, csv_bytes(rows))
    before = counts(app)
    rows[0]["status"] = "valid"
    rows[2].update(score="900", level="9")  # a change that must not be written either: all or nothing
    result = run_import(runner, tmp_path, csv_bytes(rows))
    assert result.exit_code == 1
    assert "第 2 行, 列 status" in result.output and "revoked" in result.output
    assert counts(app) == before


def test_certificate_cannot_move_to_another_company(app, runner, tmp_path):
    run_import(runner, tmp_path, csv_bytes(good_rows()))
    rows = good_rows()
    rows[2]["uscc"] = USCC_B
    rows[2].update({k: rows[1][k] for k in ("company_name", "province", "city", "address", "industry",
                                            "enterprise_type", "former_names")})
    result = run_import(runner, tmp_path, csv_bytes(rows))
    assert result.exit_code == 1
    assert "第 4 行, 列 uscc" in result.output and "cannot move to another company" in result.output


def test_every_kind_of_bad_row_is_reported_with_line_and_column_and_nothing_is_imported(app, runner, tmp_path):
    rows = [
        register_row(certificate_number="99925SV00001R0"),                                  # line 2: fine
        register_row(certificate_number="99925SV00002R0", uscc="914403001922038217"),       # 3 check digit
        register_row(certificate_number="99925SV00003R0", scheme="gbt-27922"),              # 4 unknown scheme
        register_row(certificate_number="99925SV00004R0", score="69.99", level=""),        # 5 below pass
        register_row(certificate_number="99925SV00005R0", score="85", level="4"),          # 6 level vs score
        register_row(certificate_number="99925SV00006R0", issued_on="2025-02-30"),         # 7 bad date
        register_row(certificate_number="99925SV00007R0", expires_on="2024-12-31"),        # 8 expires first
        register_row(certificate_number="99925SV00001R0"),                                  # 9 duplicate
        register_row(certificate_number="99925SV00009R0", status="paused"),                # 10 status
        register_row(certificate_number="99925SV00010R0", scope=""),                       # 11 required
        register_row(certificate_number="99925SV00011R0", enterprise_type="factory"),      # 12 type
        register_row(certificate_number="99925SV00012R0", score="eighty"),                 # 13 not a number
        register_row(certificate_number="99925SV00013R0", province="Atlantis"),            # 14 province
        register_row(certificate_number="99925SV00014R0", level="9"),                      # 15 other scheme's level
        register_row(certificate_number="99925SV00015R0", status="expired"),               # 16 expired
        register_row(certificate_number="99925SV00016R0", uscc="91370200MA3C7N2K"),        # 17 length
        register_row(certificate_number="99925SV00017R0", company_name="别的名字"),          # 18 same USCC, other name
    ]
    result = run_import(runner, tmp_path, csv_bytes(rows))
    assert result.exit_code == 1
    output = result.output
    assert "文件被拒绝，未导入任何内容" in output and "nothing was imported" in output
    expected = {
        "第 3 行, 列 uscc": "校验位", "第 4 行, 列 scheme": "无法识别的认证方案", "第 5 行, 列 score": "低于该方案的合格线",
        "第 6 行, 列 level": "与分数 85.00 不符", "第 7 行, 列 issued_on": "不是有效日期",
        "第 8 行, 列 expires_on": "不晚于发证日期", "第 9 行, 列 certificate_number": "已在第 2 行出现",
        "第 10 行, 列 status": "无法识别的状态", "第 11 行, 列 scope": "此项必填",
        "第 12 行, 列 enterprise_type": "无法识别的企业类型", "第 13 行, 列 score": "不是数字",
        "第 14 行, 列 province": "无法识别的省份", "第 15 行, 列 level": "不是方案 gbt27922-2011 的等级",
        "第 16 行, 列 status": "expired", "第 17 行, 列 uscc": "必须是 18 位",
        "第 18 行, 列 company_name": "与第 2 行的统一社会信用代码相同",
    }
    lines = output.splitlines()
    for where, reason in expected.items():
        assert any(where in line and reason in line for line in lines), f"{where}: {reason}\n{output}"
    assert "line 3, column uscc: Credit code 914403001922038217: the check digit" in output
    assert not any(line.strip().startswith("第 2 行") for line in lines)
    assert counts(app) == {"company": 0, "certificate": 0, "ledger_entry": 0}


def test_missing_required_column_refuses_the_file(app, runner, tmp_path):
    header = [c for c in HEADER if c != "uscc"]
    rows = [{k: v for k, v in register_row().items() if k != "uscc"}]
    result = run_import(runner, tmp_path, csv_bytes(rows, header=header))
    assert result.exit_code == 1
    assert "表头缺少必填列：uscc" in result.output and "missing from the header: uscc" in result.output


def test_misspelt_column_refuses_the_file(app, runner, tmp_path):
    header = [("socre" if c == "score" else c) for c in HEADER]
    rows = [{("socre" if k == "score" else k): v for k, v in register_row().items()}]
    result = run_import(runner, tmp_path, csv_bytes(rows, header=header))
    assert result.exit_code == 1 and "socre" in result.output


def test_file_in_gbk_gets_a_clear_encoding_message(app, runner, tmp_path):
    content = csv_bytes([register_row()]).decode("utf-8").encode("gbk")
    result = run_import(runner, tmp_path, content)
    assert result.exit_code == 1
    assert "CSV UTF-8" in result.output and "不是 UTF-8 编码" in result.output
    assert counts(app)["certificate"] == 0


def test_empty_file_and_header_only_file_are_refused(app, runner, tmp_path):
    result = run_import(runner, tmp_path, b"")
    assert result.exit_code == 1 and "文件是空的" in result.output
    result = run_import(runner, tmp_path, b"\xef\xbb\xbf" + ",".join(HEADER).encode() + b"\r\n")
    assert result.exit_code == 1 and "没有证书数据行" in result.output


def test_wrong_header_is_refused(app, runner, tmp_path):
    result = run_import(runner, tmp_path, "证书编号,企业名称\n1,2\n".encode())
    assert result.exit_code == 1 and "第一行不是表头" in result.output


def test_bad_json_line_is_reported_with_its_line(app, runner, tmp_path):
    good = json.dumps(register_row(), ensure_ascii=False)
    content = f"{good}\n{{not json\n[1, 2]\n".encode()
    result = run_import(runner, tmp_path, content, "register.jsonl")
    assert result.exit_code == 1
    assert "第 2 行: 此行不是有效的 JSON" in result.output and "第 3 行: 每行必须是一个 JSON 对象" in result.output
    assert counts(app)["certificate"] == 0


def test_dry_run_checks_but_writes_nothing(app, runner, tmp_path):
    result = run_import(runner, tmp_path, csv_bytes(good_rows()), "register.csv", "--dry-run")
    assert result.exit_code == 0 and "dry run" in result.output
    assert counts(app)["certificate"] == 0


def test_company_rename_shows_on_its_other_certificates_too(app, client, runner, tmp_path):
    second = register_row(certificate_number="99925SV00109R0", scheme="satisfaction-1000", score="880", level="8")
    run_import(runner, tmp_path, csv_bytes([register_row(), second]))
    renamed = register_row(company_name="青岛澜泽智能家电有限公司", former_names="青岛澜泽家电有限公司")
    result = run_import(runner, tmp_path, csv_bytes([renamed]))
    assert result.exit_code == 0, result.output
    with app.app_context():
        company = db.session.scalar(select(Company).where(Company.uscc == USCC_A))
        assert company.name == "青岛澜泽智能家电有限公司" and company.former_names == ["青岛澜泽家电有限公司"]
        updated = db.session.scalars(select(LedgerEntry.certificate_number).where(LedgerEntry.kind == "updated")).all()
        assert sorted(updated) == ["99925SV00101R0", "99925SV00109R0"]
    # both certificates are found under the new name
    page = client.get("/search?q=澜泽智能").get_data(as_text=True)
    assert "99925SV00101R0" in page and "99925SV00109R0" in page
    assert_index_matches_database(runner)


def test_ledger_written_by_imports_is_an_unbroken_verifiable_chain(app, runner, tmp_path):
    run_import(runner, tmp_path, csv_bytes(good_rows()))
    rows = good_rows()
    rows[0].update(score="95", level="5")
    rows[1]["status"] = "revoked"
    run_import(runner, tmp_path, csv_bytes(rows))
    with app.app_context():
        entries = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq)).all()
        assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
        previous = GENESIS_HASH
        for entry in entries:
            assert entry.prev_hash == previous
            assert entry_hash({name: getattr(entry, name) for name in HASHED_FIELDS}) == entry.hash
            previous = entry.hash


def test_the_sample_files_in_the_docs_import(app, runner):
    from pathlib import Path

    examples = Path(__file__).resolve().parents[2] / "docs" / "examples"
    for name in ("register-sample.csv", "register-sample.jsonl"):
        result = runner.invoke(args=["certificates", "import", str(examples / name), "--dry-run"])
        assert result.exit_code == 0, (name, result.output)
