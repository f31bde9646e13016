"""The bulk check as an evaluator uses it: a pasted or uploaded list with a header row, how many bidders fail
on the deadline and a filter for them, and a language switch that keeps the list and the result."""
from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import Workbook

from registry.procurement.bulk import parse_csv, parse_text


def _header_paste(register) -> str:
    return ("序号\t投标人名称\t统一社会信用代码\n"
            f"1\t{register.five_star_name}\t{register.five_star_uscc}\n"
            f"2\t北京暂停电器有限公司\t\n"
            "3\t不存在的投标人有限公司\t\n"
            f"4\t\t{register.expiring}\n")


@pytest.mark.parametrize("header", ["序号\t投标人名称\t统一社会信用代码", "投标人名称", "供应商名称\t证书编号",
                                    "No.\tCompany name\tCredit code", "\t序号\t单位名称"])
def test_a_header_row_is_not_read_as_an_identifier(header):
    assert parse_text(f"\n{header}\n1\t青岛海澜家电有限公司\n") == ["青岛海澜家电有限公司"]


@pytest.mark.parametrize("first", ["青岛海澜家电有限公司", "北京某某服务中心", "99925SV00001R0", "1\t青岛海澜家电有限公司"])
def test_a_first_row_that_is_a_bidder_is_kept(first):
    assert len(parse_text(f"{first}\n上海将到期服务有限公司\n")) == 2


def test_pasted_list_with_a_header_counts_bidders_and_the_ones_failing_on_the_day(client, register):
    page = client.post("/verify/bulk?lang=en", data={"identifiers": _header_paste(register), "on": ""}).get_data(
        as_text=True)
    assert "3 found, 0 ambiguous, 1 not found" in page
    assert "投标人名称" not in page.split("bulk-results")[1]
    assert "2 of 4 bidders fail on 2026-06-01" in page
    zh = client.post("/verify/bulk?lang=zh-Hans", data={"identifiers": _header_paste(register)}).get_data(as_text=True)
    assert "4 家投标人中有 2 家在 2026-06-01 不符合要求" in zh


def test_filter_shows_only_the_failing_bidders_with_their_row_numbers(client, register):
    page = client.post("/verify/bulk?lang=en", data={"identifiers": _header_paste(register), "only": "failing"}
                       ).get_data(as_text=True)
    table = page.split("bulk-results")[1]
    assert "北京暂停电器有限公司" in table and "不存在的投标人有限公司" in table
    assert register.five_star_name not in table and register.expiring not in table
    assert "Show all bidders" in page


def test_csv_and_xlsx_files_with_a_header_give_the_same_rows(client, register):
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerows([["序号", "投标人名称", "统一社会信用代码"], [1, register.five_star_name, register.five_star_uscc],
                      [2, "北京暂停电器有限公司", ""]])
    assert parse_csv(text.getvalue().encode("gb18030")) == [register.five_star_uscc, "北京暂停电器有限公司"]
    book = Workbook()
    sheet = book.active
    for row in (["序号", "投标人名称"], [1, register.five_star_name], [2, "北京暂停电器有限公司"]):
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    page = client.post("/verify/bulk?lang=en", data={"identifiers": "", "file": (io.BytesIO(data.getvalue()), "bid.xlsx")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "2 found, 0 ambiguous, 0 not found" in page and "1 of 2 bidders fails" in page


def test_header_goes_into_neither_export_nor_receipt(client, register):
    exported = client.post("/verify/bulk/export.csv", data={"identifiers": _header_paste(register)}).get_data(as_text=True)
    assert "投标人名称" not in exported and "序号" not in exported.splitlines()[1:].__str__()
    receipt = client.post("/verify/bulk/receipt", data={"identifiers": _header_paste(register), "format": "json"})
    body = receipt.get_data(as_text=True)
    assert "投标人名称" not in body and len(json.loads(body)["receipt"]["results"]) == 4


def test_switching_language_on_a_result_keeps_the_list_and_the_result(client, register):
    page = client.post("/verify/bulk?lang=en", data={"identifiers": _header_paste(register)}).get_data(as_text=True)
    assert 'id="bulk-switch-language"' in page and "/verify/bulk?lang=zh-Hans" in page
    switched = client.post("/verify/bulk?lang=zh-Hans", data={"identifiers": _header_paste(register)})
    zh = switched.get_data(as_text=True)
    assert "4 家投标人中有 2 家" in zh and register.five_star_name in zh
    assert "lang=zh_Hans" in switched.headers.get("Set-Cookie", "")
