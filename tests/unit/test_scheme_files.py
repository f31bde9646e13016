"""Malformed scheme files stop start-up with a SchemeError naming the file and the problem."""
from __future__ import annotations

from pathlib import Path

import pytest

from registry.schemes import SCHEME_DIR, SchemeError, load_scheme_file, load_schemes

GOOD = (SCHEME_DIR / "gbt27922-2011.toml").read_text(encoding="utf-8")


def write(tmp_path: Path, text: str, name: str = "gbt27922-2011.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_schemes_load():
    schemes = load_schemes()
    assert set(schemes) == {"gbt27922-2011", "satisfaction-1000"}
    assert [lvl.min_score for lvl in schemes["satisfaction-1000"].levels] == [800, 850, 900]


def test_a_copy_of_a_good_file_loads(tmp_path):
    scheme = load_scheme_file(write(tmp_path, GOOD))
    assert scheme.pass_score == 70 and len(scheme.indicators) == 15


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.replace('max_points = 7 },', 'max_points = 8 },', 1), "add up to"),
    (lambda t: t.replace("scale = 100", "scale = 90"), "do not add up to the scale"),
    (lambda t: t.replace('id = "gbt27922-2011"\n', "", 1), "missing 'id'"),
    (lambda t: t.replace("validity_years = 3", ""), "missing 'validity_years'"),
    (lambda t: t.replace("min_score = 90", "min_score = 75"), "strictly ascending"),
    (lambda t: t.replace("min_score = 95", "min_score = 90"), "strictly ascending"),
    (lambda t: t.replace("validity_years = 3", 'validity_years = "three"'), "wrong type"),
    (lambda t: t.replace("validity_years = 3", "validity_years = 0"), "must be positive"),
    (lambda t: t.replace("min_score = 95", "min_score = 101"), "above the scale"),
    (lambda t: t.replace('id = "gbt27922-2011"', 'id = "other"', 1), "does not match the file name"),
    (lambda t: t.replace("[[levels]]", "[[levels]\n", 1), "not valid TOML"),
    (lambda t: t.replace('{ id = "repair"', '{ id = "delivery"'), "unique"),
])
def test_malformed_scheme_file_names_the_file_and_the_problem(tmp_path, change, message):
    path = write(tmp_path, change(GOOD))
    with pytest.raises(SchemeError, match=message) as error:
        load_scheme_file(path)
    assert "gbt27922-2011.toml" in str(error.value)


def test_indicators_not_adding_up_name_the_category(tmp_path):
    path = write(tmp_path, GOOD.replace('max_points = 7 },', 'max_points = 8 },', 1))
    with pytest.raises(SchemeError, match=r"gbt27922-2011.toml: categories\[1\] \(product\): indicator points add up "
                                          r"to 36, not the category maximum 35"):
        load_scheme_file(path)


def test_a_folder_with_one_bad_file_fails_naming_that_file(tmp_path):
    write(tmp_path, GOOD)
    write(tmp_path, "id = 'broken'\n", "broken.toml")
    with pytest.raises(SchemeError, match="broken.toml"):
        load_schemes(tmp_path)


def test_an_empty_folder_is_an_error(tmp_path):
    with pytest.raises(SchemeError, match="no scheme files"):
        load_schemes(tmp_path)


def test_a_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "gbt27922-2011.toml"
    path.write_bytes(GOOD.encode("gbk"))
    with pytest.raises(SchemeError, match="gbt27922-2011.toml: not valid TOML"):
        load_scheme_file(path)
