"""Hostile spreadsheets: a small XLSX that unpacks to millions of texts or cells is refused fast, in the
reader's language, while an ordinary list of bidders still reads."""
from __future__ import annotations

import io
import time
import zipfile

import pytest
from openpyxl import Workbook

from registry.procurement import bulk

MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SST_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def _workbook_bytes(values) -> bytes:
    workbook = Workbook()
    for value in values:
        workbook.active.append([value])
    data = io.BytesIO()
    workbook.save(data)
    return data.getvalue()


def with_parts(parts: dict[str, bytes], shared_strings_at: str | None = None) -> bytes:
    """A real openpyxl workbook with some parts replaced; `shared_strings_at` declares a shared-string part."""
    source = zipfile.ZipFile(io.BytesIO(_workbook_bytes(["x"])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = parts.pop(info.filename, source.read(info.filename))
            if info.filename == "[Content_Types].xml" and shared_strings_at:
                data = data.replace(b"</Types>", b'<Override PartName="/%s" ContentType="%s"/></Types>'
                                    % (shared_strings_at.encode(), SST_TYPE))
            archive.writestr(info.filename, data)
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def many_shared_strings(count: int, part: str = "xl/sharedStrings.xml", prefix: bytes = b"") -> bytes:
    tag = prefix + b":" if prefix else b""
    xmlns = b"xmlns:%s" % prefix if prefix else b"xmlns"
    body = b"<%ssi><%st>a</%st></%ssi>" % (tag, tag, tag, tag) * count
    sst = b'<%ssst %s="%s">%s</%ssst>' % (tag, xmlns, MAIN, body, tag)
    return with_parts({part: sst}, shared_strings_at=part)


def sheet_with_cells(rows: int, per_row: int) -> bytes:
    sheet = zipfile.ZipFile(io.BytesIO(_workbook_bytes(["x"]))).read("xl/worksheets/sheet1.xml")
    head, tail = sheet.split(b"<sheetData>")[0], sheet.split(b"</sheetData>")[1]
    data = b"".join(b'<row r="%d">' % r + b'<c t="inlineStr"><is><t></t></is></c>' * per_row + b"</row>"
                    for r in range(1, rows + 1))
    return with_parts({"xl/worksheets/sheet1.xml": head + b"<sheetData>" + data + b"</sheetData>" + tail})


def cpu_of(call):
    start = time.process_time()
    try:
        return call(), time.process_time() - start
    except ValueError as error:
        return error, time.process_time() - start


def test_two_million_shared_strings_in_92_kb_are_refused_fast():
    data = many_shared_strings(2_200_000)
    assert len(data) < 120_000
    result, cpu = cpu_of(lambda: bulk.parse_xlsx(data))
    assert isinstance(result, ValueError) and str(result) == "too_many_cells"
    assert cpu < 0.5


@pytest.mark.parametrize("part, prefix", [("xl/sharedStrings.xml", b""), ("xl/strings.bin", b""),
                                          ("xl/sharedStrings.xml", b"x")])
def test_shared_strings_are_counted_wherever_and_however_they_are_written(part, prefix):
    data = many_shared_strings(bulk.MAX_XLSX_SHARED_STRINGS + 1, part, prefix)
    with pytest.raises(ValueError, match="too_many_cells"):
        bulk.parse_xlsx(data)


def test_one_endless_row_of_cells_is_refused():
    with pytest.raises(ValueError, match="too_many_cells"):
        bulk.parse_xlsx(sheet_with_cells(1, bulk.MAX_XLSX_CELLS + 1))


def test_a_file_at_the_caps_is_read_within_half_a_second():
    rows = bulk.MAX_XLSX_ROWS - 10
    data = sheet_with_cells(rows, (bulk.MAX_XLSX_CELLS - 100) // rows)
    result, cpu = cpu_of(lambda: bulk.parse_xlsx(data))
    assert result == []  # empty cells only: nothing to check, but read to the end
    assert cpu < 0.5


def test_a_stale_dimension_does_not_hide_rows():
    # Some generators leave <dimension ref="A1:A1"/> behind; every row is still read.
    values = [f"99925SV{n:05d}R0" for n in range(1, 41)]
    sheet = zipfile.ZipFile(io.BytesIO(_workbook_bytes(values))).read("xl/worksheets/sheet1.xml")
    stale = sheet.replace(b'<dimension ref="A1:A40"', b'<dimension ref="A1:A1"')
    assert stale != sheet
    assert bulk.parse_xlsx(with_parts({"xl/worksheets/sheet1.xml": stale})) == values


def test_a_declared_doctype_is_unreadable():
    sheet = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet xmlns="%s"/>' % MAIN
    with pytest.raises(ValueError, match="unreadable"):
        bulk.parse_xlsx(with_parts({"xl/worksheets/sheet1.xml": sheet}))


def test_hostile_upload_gets_a_clear_message_in_chinese_and_english(client):
    data = many_shared_strings(2_200_000)
    english = client.post("/verify/bulk?lang=en", data={"file": (io.BytesIO(data), "bidders.xlsx")},
                          content_type="multipart/form-data")
    assert english.status_code == 422
    assert "more than a bulk check reads" in english.get_data(as_text=True)
    assert "20000 distinct texts" in english.get_data(as_text=True)
    chinese = client.post("/verify/bulk", data={"file": (io.BytesIO(data), "bidders.xlsx")},
                          content_type="multipart/form-data")
    assert chinese.status_code == 422
    assert "超出批量核验可读取的范围" in chinese.get_data(as_text=True)


def test_an_ordinary_list_of_bidders_is_accepted(client, register):
    data = _workbook_bytes(["证书编号", register.five_star, register.expiring])
    result, cpu = cpu_of(lambda: bulk.parse_xlsx(data))
    assert result == [register.five_star, register.expiring] and cpu < 0.5
    page = client.post("/verify/bulk?lang=en", data={"file": (io.BytesIO(data), "bidders.xlsx")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "2 found, 0 ambiguous, 0 not found" in page
