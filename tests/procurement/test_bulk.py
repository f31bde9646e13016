"""Bulk verification on the page: paste, CSV, XLSX, ambiguous names, dates before issue, flags, exports."""
from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook

from registry.certificates.identifiers import make_uscc


def post_bulk(client, text="", on="", file=None):
    data = {"identifiers": text, "on": on}
    if file is not None:
        data["file"] = file
    return client.post("/verify/bulk?lang=en", data=data, content_type="multipart/form-data")


def test_bulk_page_has_the_form_and_a_nav_link(client):
    page = client.get("/verify/bulk").get_data(as_text=True)
    assert 'name="identifiers"' in page and 'type="file"' in page and 'name="on"' in page
    assert 'href="/verify/bulk"' in page


def test_pasted_number_uscc_and_name_each_match_exactly(client, register):
    text = f"{register.five_star}\n{register.five_star_uscc}\n{register.five_star_name}\n"
    page = post_bulk(client, text).get_data(as_text=True)
    assert page.count("青岛海澜家电有限公司") >= 3
    assert "3 found, 0 ambiguous, 0 not found" in page


def test_unknown_identifier_is_reported_not_found_in_english(client, register):
    page = client.post("/verify/bulk?lang=en", data={"identifiers": "不存在的公司\n99999SV99999R9"}).get_data(as_text=True)
    assert "0 found, 0 ambiguous, 2 not found" in page
    assert "Not in this registry" in page


def test_ambiguous_name_lists_both_companies_as_candidates(client, register):
    page = client.post("/verify/bulk?lang=en", data={"identifiers": register.twin_name}).get_data(as_text=True)
    assert "0 found, 1 ambiguous, 0 not found" in page
    assert "广东省" in page and "浙江省" in page
    assert register.twin_numbers[0] in page and register.twin_numbers[1] in page


def test_date_before_issue_says_not_yet_issued(client, register):
    page = client.post("/verify/bulk?lang=en", data={"identifiers": register.five_star, "on": "2025-08-31"}
                       ).get_data(as_text=True)
    assert "Status on 2025-08-31" in page
    assert "Not yet issued" in page


def test_status_on_a_past_day_comes_from_the_ledger(client, register):
    # Suspended on 2026-05-25: valid on the bid deadline before, suspended today.
    page = client.post("/verify/bulk?lang=en", data={"identifiers": register.suspended, "on": "2026-05-01"}
                       ).get_data(as_text=True)
    row = page[page.index(register.suspended):]
    assert row.index("Valid") < row.index("Suspended")


def test_flags_show_lowered_level_suspension_and_coming_expiry(client, register):
    text = "\n".join([register.five_star, register.suspended, register.expiring])
    page = client.post("/verify/bulk?lang=en", data={"identifiers": text}).get_data(as_text=True)
    assert "Level lowered in the last 12 months" in page
    assert "Expires within 90 days" in page
    assert page.count("⚠ Suspended") == 1


def test_open_complaints_column_counts_a_complaint_filed_through_the_form(client, register):
    from tests.complaints.conftest import file_via_client
    file_via_client(client, register.five_star)
    response = client.post("/api/v1/verify", json={"identifiers": [register.five_star, register.suspended]})
    assert [r["open_complaints"] for r in response.get_json()["results"]] == [1, 0]
    page = client.post("/verify/bulk?lang=en", data={"identifiers": register.five_star}).get_data(as_text=True)
    assert "not available" not in page


def test_csv_upload_in_gb18030_with_header_row(client, register):
    content = f"企业名称,统一社会信用代码\n青岛海澜家电有限公司,{register.five_star_uscc}\n不存在公司,\n".encode("gb18030")
    page = post_bulk(client, file=(io.BytesIO(content), "bidders.csv")).get_data(as_text=True)
    assert "1 found, 0 ambiguous, 1 not found" in page
    assert register.five_star in page


def test_xlsx_upload_reads_the_first_sheet(client, register):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["证书编号"])
    sheet.append([register.five_star])
    sheet.append([register.expiring])
    sheet.append([None])
    sheet.append([register.twin_name])
    data = io.BytesIO()
    workbook.save(data)
    data.seek(0)
    page = client.post("/verify/bulk?lang=en", data={"file": (data, "bidders.xlsx")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "2 found, 1 ambiguous, 0 not found" in page


def test_broken_xlsx_gets_a_clear_message_and_no_result(client, register):
    response = client.post("/verify/bulk?lang=en", data={"file": (io.BytesIO(b"PK\x03\x04garbage"), "x.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "could not be read as CSV or XLSX" in response.get_data(as_text=True)


def test_more_than_500_lines_is_refused_with_a_message(client):
    text = "\n".join(make_uscc(f"91110108{n:09d}") for n in range(501))
    response = client.post("/verify/bulk?lang=en", data={"identifiers": text})
    assert response.status_code == 422
    assert "At most 500 lines" in response.get_data(as_text=True)


def test_empty_submission_and_bad_date_are_explained(client):
    response = client.post("/verify/bulk?lang=en", data={"identifiers": "  \n "})
    assert response.status_code == 422 and "Enter at least one" in response.get_data(as_text=True)
    response = client.post("/verify/bulk?lang=en", data={"identifiers": "x", "on": "2026-13-01"})
    assert response.status_code == 422 and "YYYY-MM-DD" in response.get_data(as_text=True)


def test_csv_export_has_one_row_per_input_and_defuses_formulas(client, register):
    response = client.post("/verify/bulk/export.csv?lang=en",
                           data={"identifiers": f"{register.five_star}\n=HYPERLINK(\"x\")", "on": "2026-06-01"})
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    lines = response.get_data(as_text=True).lstrip("\ufeff").strip().splitlines()
    assert len(lines) == 3
    assert register.five_star in lines[1]
    assert lines[2].startswith("\"'=HYPERLINK") or lines[2].startswith("'=HYPERLINK")


def test_xlsx_export_opens_with_the_results(client, register):
    response = client.post("/verify/bulk/export.xlsx", data={"identifiers": register.expiring, "on": ""})
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == register.expiring and rows[1][4] == register.expiring
    assert "90" in rows[1][11]


def test_result_is_in_chinese_by_default(client, register):
    page = client.post("/verify/bulk", data={"identifiers": f"{register.five_star}\n不存在的公司"}).get_data(as_text=True)
    assert "找到 1 个，0 个有歧义，1 个未找到。" in page
    assert "近 12 个月内降级" in page and "本平台未登记" in page


def test_exactly_500_lines_are_accepted(client, register):
    text = "\n".join([register.five_star] * 250 + [register.twin_name] * 250)
    page = client.post("/verify/bulk?lang=en", data={"identifiers": text}).get_data(as_text=True)
    assert "250 found, 250 ambiguous, 0 not found" in page


def test_xlsx_that_unpacks_to_a_huge_file_is_refused(client):
    import zipfile
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b" " * (41 * 1024 * 1024))
    data.seek(0)
    response = client.post("/verify/bulk?lang=en", data={"file": (data, "bomb.xlsx")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "too large" in response.get_data(as_text=True)


def test_future_date_is_marked_as_a_projection(client, register):
    page = client.post("/verify/bulk?lang=en", data={"identifiers": register.expiring, "on": "2026-08-15"}
                       ).get_data(as_text=True)
    assert "2026-08-15 is in the future" in page
    row = page[page.index("<tbody>"):]
    assert "Expired" in row
