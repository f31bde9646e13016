"""Property tests for the rules every surface relies on: redirect targets and stored file names."""
from __future__ import annotations

import json
import unicodedata
from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from registry.complaints.uploads import MAX_NAME_LENGTH, clean_name
from registry.http import json_depth, safe_next

ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)
URLISH = st.builds(lambda a, b, c: a + b + c, st.sampled_from(["/", "//", "\\", "http:", "/\\", " /", ""]),
                   ANY_TEXT, st.sampled_from(["", "?next=//x", "#\n", "\u202e"]))


@settings(max_examples=400, deadline=None)
@given(st.one_of(ANY_TEXT, URLISH))
def test_safe_next_returns_the_default_or_a_plain_same_site_path(target):
    result = safe_next(target, "/fallback")
    if result != "/fallback":
        assert result == target and result.startswith("/") and not result.startswith("//")
        assert "\\" not in result and not urlsplit(result).netloc and not urlsplit(result).scheme
        assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in result)


@settings(max_examples=400, deadline=None)
@given(st.one_of(ANY_TEXT, st.text(max_size=1000)))
def test_a_cleaned_file_name_is_short_printable_and_has_no_path(name):
    cleaned = clean_name(name)
    assert 0 < len(cleaned) <= MAX_NAME_LENGTH
    assert "/" not in cleaned and "\\" not in cleaned and "\x00" not in cleaned
    assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for ch in cleaned)
    assert clean_name(cleaned) == cleaned  # cleaning once is enough


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                           max_leaves=30)


def _reference_depth(value) -> int:
    if isinstance(value, list):
        return 1 + max((_reference_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_reference_depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_json_depth_agrees_with_the_recursive_definition(value):
    assert json_depth(json.loads(json.dumps(value))) == _reference_depth(value)
