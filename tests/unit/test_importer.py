"""The register file reader: pure checks of CSV/JSONL content, no database."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from registry.certificates.identifiers import make_uscc
from registry.certificates.importer import COLUMNS, REQUIRED_COLUMNS, describe, parse_date, parse_register

TODAY = dt.date(2026, 6, 1)
USCC = make_uscc("91370200MA3C7N2K4")


def row(**overrides) -> dict:
    values = {"certificate_number": "99925SV00101R0", "company_name": "青岛澜泽家电有限公司", "uscc": USCC,
              "province": "山东省", "city": "青岛市", "address": "市南区香港中路88号", "industry": "家电",
              "enterprise_type": "production", "scheme": "gbt27922-2011", "score": "91.5", "scope": "家电维修",
              "issued_on": "2025-03-01"}
    values.update(overrides)
    return values


def csv_text(rows: list[dict], delimiter: str = ",") -> bytes:
    header = list(rows[0])
    lines = [delimiter.join(header)] + [delimiter.join(str(r.get(c, "")) for c in header) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode()


def parse(content: bytes, name: str = "f.csv"):
    return parse_register(content, name, TODAY)


def only_problem(result):
    assert len(result.problems) == 1, [(p.line, p.column, describe(p)) for p in result.problems]
    return result.problems[0]


def test_good_row_becomes_a_checked_import_row_with_defaults():
    result = parse(csv_text([row()]))
    assert result.ok and result.file_format == "csv"
    (imported,) = result.rows
    assert imported.line == 2 and imported.level == "4" and imported.score == Decimal("91.50")
    assert imported.expires_on == dt.date(2028, 2, 29) and imported.status == "valid"


@pytest.mark.parametrize(("column", "value", "expected"), [
    ("province", "山东", "山东省"),
    ("province", "广西", "广西壮族自治区"),
    ("province", "北京", "北京市"),
    ("enterprise_type", "生产型", "production"),
    ("enterprise_type", "销售服务型", "sales_service"),
    ("enterprise_type", "Sales_Service", "sales_service"),
    ("level", "四星", "4"),
    ("level", "四星级", "4"),
    ("level", "Four stars", "4"),
    ("issued_on", "2025/3/1", dt.date(2025, 3, 1)),
    ("issued_on", "2025年3月1日", dt.date(2025, 3, 1)),
    ("issued_on", "２０２５－０３－０１", dt.date(2025, 3, 1)),
    ("uscc", " " + USCC[:4] + "-" + USCC[4:].lower(), USCC),
    ("certificate_number", "ｎｏ-99925sv1", "NO-99925SV1"),
    ("scheme", "GBT27922-2011", "gbt27922-2011"),
])
def test_what_clerks_write_is_understood(column, value, expected):
    result = parse(csv_text([row(**{column: value})]))
    assert result.ok, [describe(p) for p in result.problems]
    attribute = {"scheme": "scheme_id"}.get(column, column)
    assert getattr(result.rows[0], attribute) == expected


def test_status_words_in_chinese_are_understood():
    result = parse(csv_text([row(status="暂停", status_reason="未按期接受监督审核", status_changed_on="2026-05-01")]))
    assert result.ok
    assert (result.rows[0].status, result.rows[0].status_changed_on) == ("suspended", dt.date(2026, 5, 1))


def test_score_with_more_than_two_decimals_is_cut_not_rounded():
    result = parse(csv_text([row(score="79.999", level="")]))
    assert result.rows[0].score == Decimal("79.99") and result.rows[0].level == "compliant"


def test_former_names_split_on_either_semicolon_and_drop_duplicates_and_the_current_name():
    result = parse(csv_text([row(former_names="甲公司；乙公司; 甲公司;青岛澜泽家电有限公司")]))
    assert result.rows[0].former_names == ("甲公司", "乙公司")


@pytest.mark.parametrize(("overrides", "column", "code"), [
    ({"issued_on": "2026-06-02"}, "issued_on", "future_date"),
    ({"expires_on": "2028-03-01"}, "expires_on", "validity_too_long"),
    ({"expires_on": "2025-03-01"}, "expires_on", "expires_before_issue"),
    ({"last_surveillance_on": "2025-02-01"}, "last_surveillance_on", "before_issue"),
    ({"last_surveillance_on": "2026-07-01"}, "last_surveillance_on", "future_date"),
    ({"status_reason": "why"}, "status_reason", "reason_without_status"),
    ({"score": "101"}, "score", "score_out_of_range"),
    ({"score": "NaN"}, "score", "bad_score"),
    ({"score": "-1"}, "score", "score_out_of_range"),
    ({"certificate_number": "AB 12"}, "certificate_number", "bad_number"),
    ({"uscc": "91370200MA3C7N2KIO"}, "uscc", "uscc_format"),
    ({"company_name": "长" * 201}, "company_name", "too_long"),
    ({"scheme": "satisfaction-1000", "score": "91.5"}, "score", "below_pass"),
    ({"level": "五星"}, "level", "level_contradicts_score"),
    ({"level": "seven"}, "level", "unknown_level"),
])
def test_each_bad_value_is_named_by_column_and_reason(overrides, column, code):
    problem = only_problem(parse(csv_text([row(**overrides)])))
    assert (problem.line, problem.column, problem.code) == (2, column, code)
    assert describe(problem)  # words, with every placeholder filled


def test_a_row_with_many_problems_reports_all_of_them():
    result = parse(csv_text([row(uscc="914403001922038217", score="x", issued_on="soon")]))
    assert [p.column for p in result.problems] == ["uscc", "score", "issued_on"]
    assert not result.rows


def test_tab_separated_file_is_read():
    assert parse(csv_text([row()], delimiter="\t")).ok


def test_quoted_value_over_two_lines_keeps_line_numbers_right():
    header = ",".join(row())
    first = ",".join(f'"{v}"' if k == "scope" else v for k, v in row(scope="家电维修\n及安装").items())
    second = ",".join(row(certificate_number="X1", uscc="bad").values())
    result = parse(f"{header}\n{first}\n{second}\n".encode())
    problem = only_problem(result)
    assert (problem.line, problem.column) == (4, "uscc")


def test_blank_and_excel_trailing_comma_rows_are_skipped():
    content = csv_text([row()]) + b"\r\n,,,,,,,,,,,\r\n"
    assert parse(content).ok


def test_row_with_the_wrong_number_of_values_is_reported():
    content = csv_text([row()]) + b"a,b,c\r\n"
    problem = only_problem(parse(content))
    assert (problem.line, problem.code) == (3, "field_count")


@pytest.mark.parametrize(("content", "code"), [
    (b"", "empty_file"),
    (b"\xef\xbb\xbf  \r\n", "empty_file"),
    ("证书编号,企业\r\n".encode("gbk"), "not_utf8"),
    (b"PK\x03\x04\x00\x00binary", "binary_file"),
    (b"a,b\n1,2\n", "no_header"),
    ((",".join(COLUMNS) + ",colour\n").encode(), "unknown_column"),
    ((",".join(COLUMNS[1:]) + "\n").encode(), "missing_column"),
    ((",".join(COLUMNS) + ",score\n").encode(), "duplicate_column"),
    ((",".join(REQUIRED_COLUMNS) + "\n").encode(), "no_rows"),
])
def test_file_level_problems(content, code):
    problem = only_problem(parse(content))
    assert problem.code == code
    assert describe(problem)


def test_header_names_are_trimmed_and_case_insensitive():
    content = csv_text([row()]).replace(b"certificate_number", b" Certificate_Number ", 1)
    assert parse(content).ok


def test_json_lines_accept_numbers_lists_and_null():
    record = row(score=Decimal("91.5"), former_names=["甲公司"], expires_on=None)
    content = json.dumps(record, ensure_ascii=False, default=str).replace('"91.5"', "91.5").encode()
    result = parse(content, "f.jsonl")
    assert result.ok and result.file_format == "jsonl"
    assert result.rows[0].score == Decimal("91.50") and result.rows[0].former_names == ("甲公司",)


@pytest.mark.parametrize(("record", "column", "code"), [
    ({**row(), "colour": "red"}, "colour", "unknown_column"),
    ({k: v for k, v in row().items() if k != "scope"}, "scope", "missing_column"),
    ({**row(), "score": True}, "score", "bad_type"),
    ({**row(), "scope": {"a": 1}}, "scope", "bad_type"),
    ({**row(), "former_names": ["甲\u0000"]}, "former_names", "bad_character"),
    ({**row(), "address": "路\u0000"}, "address", "bad_character"),
])
def test_json_lines_problems_name_line_and_key(record, column, code):
    content = ("\n" + json.dumps(record, ensure_ascii=False)).encode()
    problem = only_problem(parse(content, "f.jsonl"))
    assert (problem.line, problem.column, problem.code) == (2, column, code)


@pytest.mark.parametrize(("raw", "expected"), [
    ("2024-02-29", dt.date(2024, 2, 29)), ("2023-02-29", None), ("2024-13-01", None), ("01/03/2024", None),
    ("2024/3/1", dt.date(2024, 3, 1)), ("", None), ("tomorrow", None),
])
def test_parse_date(raw, expected):
    assert parse_date(raw) == expected


# ------------------------------------------------------------------ the register's own state (issue 10)

def codes(result) -> list[tuple[str | None, str]]:
    return [(p.column, p.code) for p in result.problems]


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"level": "3"}, [("level", "lower_level_without_reason")]),
    ({"level": "5"}, [("level", "level_contradicts_score")]),
    ({"level": "4", "level_reason": "处分"}, [("level_reason", "reason_without_lower_level")]),
    ({"level_reason": "处分"}, [("level_reason", "reason_without_lower_level")]),
    ({"last_surveillance_on": "2026-03-01", "expires_on": "2026-02-28"}, [("last_surveillance_on", "after_expiry")]),
    ({"status": "revoked", "status_changed_on": "2026-03-01", "expires_on": "2026-02-28"},
     [("status_changed_on", "after_expiry")]),
    ({"suspended_until": "2026-07-01"}, [("suspended_until", "until_without_suspension")]),
    ({"status": "suspended", "status_changed_on": "2026-05-01", "suspended_until": "2026-05-01"},
     [("suspended_until", "until_before_start")]),
    ({"status": "suspended", "status_changed_on": "2026-05-01", "suspended_until": "2026-11-02"},
     [("suspended_until", "suspension_too_long")]),
    ({"first_issued_on": "2025-03-02"}, [("first_issued_on", "first_issue_after_issue")]),
    ({"recertification_count": "two"}, [("recertification_count", "bad_count")]),
])
def test_state_columns_are_checked(overrides, expected):
    assert codes(parse(csv_text([row(**overrides)]))) == expected


def test_a_lower_level_with_its_reason_is_kept_beside_the_score_level():
    result = parse(csv_text([row(level="达标", level_reason="首年按达标发证")]))
    assert result.ok, result.problems
    (imported,) = result.rows
    assert (imported.level, imported.score_level, imported.level_reason) == ("compliant", "4", "首年按达标发证")


def test_state_columns_are_read():
    result = parse(csv_text([row(status="suspended", status_changed_on="2026-05-01", suspended_until="2026-08-01",
                                 first_issued_on="2019-03-01", recertification_count="2")]))
    assert result.ok, result.problems
    (imported,) = result.rows
    assert (imported.suspended_until, imported.first_issued_on, imported.recertification_count) == (
        dt.date(2026, 8, 1), dt.date(2019, 3, 1), 2)


def test_an_export_header_line_dates_the_file_and_keeps_line_numbers_physical():
    content = b"# as_of=2026-05-31 ledger_head_seq=12 ledger_head_hash=ab12\r\n" + csv_text([row(), row(certificate_number="99925SV00102R0", uscc="x")])
    result = parse(content)
    assert (result.header.as_of, result.header.ledger_head_seq, result.header.ledger_head_hash) == (
        dt.date(2026, 5, 31), 12, "ab12")
    assert [(p.line, p.column) for p in result.problems] == [(4, "uscc")]


def test_a_json_lines_export_header_dates_the_file():
    lines = [json.dumps({"export": {"as_of": "2026-05-31", "ledger_head_seq": 3, "ledger_head_hash": "ff"}}),
             json.dumps(row(), ensure_ascii=False)]
    result = parse("\n".join(lines).encode(), "f.jsonl")
    assert result.ok, result.problems
    assert (result.header.as_of, result.header.ledger_head_seq) == (dt.date(2026, 5, 31), 3)


def test_an_unreadable_header_line_is_refused():
    result = parse(b"# as_of=yesterday\r\n" + csv_text([row()]))
    assert codes(result) == [(None, "bad_file_header")]
