"""Reading identifiers from rows (pure): which cell of a bidder list is the identifier."""
from __future__ import annotations

import pytest

from registry.procurement.bulk import parse_csv, parse_text, pick_identifier


@pytest.mark.parametrize("cells, expected", [
    (["青岛海澜家电有限公司"], "青岛海澜家电有限公司"),
    (["1", "青岛海澜家电有限公司", "99925SV00001R0"], "99925SV00001R0"),
    (["12", "青岛海澜家电有限公司", ""], "青岛海澜家电有限公司"),
    (["青岛海澜家电有限公司", "91350100M000100Y43"], "91350100M000100Y43"),
    ([None, "  ", 3.0], "3"),
    ([], ""),
])
def test_pick_identifier_prefers_the_most_specific_cell(cells, expected):
    assert pick_identifier(cells) == expected


def test_csv_with_serial_name_and_number_columns_uses_the_number():
    data = "序号,企业名称,证书编号\n1,青岛海澜家电有限公司,99925SV00001R0\n2,北京公司,\n".encode()
    assert parse_csv(data) == ["99925SV00001R0", "北京公司"]


def test_semicolon_csv_and_pasted_spreadsheet_rows():
    assert parse_csv("name;number\nA公司;99925SV00001R0\n".encode()) == ["99925SV00001R0"]
    assert parse_text("A公司\t99925SV00002R0\n\nB公司\n") == ["99925SV00002R0", "B公司"]


def test_too_many_rows_raise_a_code():
    with pytest.raises(ValueError, match="too_many"):
        parse_text("\n".join(f"公司{n}" for n in range(3)), limit=2)
