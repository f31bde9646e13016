"""Certificate numbers from the configured pattern (pure; no Flask, no database).

CERTIFICATE_NUMBER_PATTERN is a Python format string with these fields only:
  {cb}     the body's code (CERTIFICATE_NUMBER_CB, e.g. "999")
  {yy}     two-digit year of first issue;  {yyyy} four-digit year
  {serial} running number within that year (format spec allowed, e.g. {serial:05d}); required
  {recert} recertification count at issue (0 for a new certificate)
A level field is refused on purpose: surveillance can change the level while the number stays.
"""
from __future__ import annotations

import re
import string

ALLOWED_FIELDS = frozenset({"cb", "yy", "yyyy", "serial", "recert"})
NUMBER_SHAPE = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,39}$")


class PatternError(ValueError):
    """A misconfigured CERTIFICATE_NUMBER_PATTERN (the message says what is wrong)."""


def check_pattern(pattern: str) -> None:
    """Only the documented fields, and {serial} present, so two certificates never share a number."""
    try:
        fields = {name for _text, name, _spec, _conv in string.Formatter().parse(pattern) if name is not None}
    except ValueError as error:
        raise PatternError(f"pattern {pattern!r} is not a valid format string: {error}") from error
    unknown = fields - ALLOWED_FIELDS
    if unknown:
        raise PatternError(f"pattern {pattern!r} uses unknown fields {sorted(unknown)}; allowed: {sorted(ALLOWED_FIELDS)}")
    if "serial" not in fields:
        raise PatternError(f"pattern {pattern!r} must contain {{serial}}")


def format_number(pattern: str, *, cb: str, year: int, serial: int, recert: int = 0) -> str:
    """The number for these values; it must be upper-case letters, digits and dashes (it goes into URLs and QR codes)."""
    check_pattern(pattern)
    number = pattern.format(cb=cb, yy=f"{year % 100:02d}", yyyy=f"{year:04d}", serial=serial, recert=recert)
    if not NUMBER_SHAPE.match(number):
        raise PatternError(f"pattern {pattern!r} gives {number!r}: numbers must be 3-40 of A-Z, 0-9 and '-'")
    return number
