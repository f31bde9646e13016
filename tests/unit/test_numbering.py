"""Certificate number patterns: documented fields only, a serial always, never the level."""
from __future__ import annotations

import pytest

from registry.office.numbering import PatternError, check_pattern, format_number


@pytest.mark.parametrize(("pattern", "expected"), [
    ("{cb}{yy}SV{serial:05d}R{recert}", "99926SV00001R0"),
    ("SV-{yyyy}-{serial:04d}", "SV-2026-0001"),
    ("{cb}-{yy}-{serial}", "999-26-1"),
])
def test_documented_patterns_give_the_expected_number(pattern, expected):
    assert format_number(pattern, cb="999", year=2026, serial=1) == expected


@pytest.mark.parametrize("pattern", [
    "{cb}{yy}{level}{serial}",      # the level must never be part of the number
    "{cb}{yy}SV",                   # no serial: numbers would repeat
    "{cb}{yy}{serial",              # not a format string
    "{cb}/{serial}",                # a slash would break /certificates/<number>
    "{cb}{yy}sv{serial}",           # lower case: numbers are compared upper-case
])
def test_bad_patterns_are_refused(pattern):
    with pytest.raises(PatternError):
        format_number(pattern, cb="999", year=2026, serial=1)


def test_the_default_pattern_is_valid():
    from registry.config import DefaultConfig
    check_pattern(DefaultConfig.CERTIFICATE_NUMBER_PATTERN)
