"""Identifiers people type: USCCs (统一社会信用代码, GB 32100-2015) and certificate numbers.

Validation is python-stdnum's `stdnum.cn.uscc` (charset, region digits, mod-31 check character);
we only add folding of what phones and Excel produce (full-width characters, spaces, dashes).
"""
from __future__ import annotations

import unicodedata

from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError


def fold(text: str) -> str:
    """Full-width → half-width (NFKC), drop spaces, dashes and dots, upper-case."""
    text = unicodedata.normalize("NFKC", text or "")
    return "".join(ch for ch in text if ch not in " \t\r\n-‐‑‒–—.·_/").upper()


def normalise_uscc(raw: str) -> str:
    """The compact form of a USCC, or raises ValueError with the reason (in English, for mapping)."""
    candidate = fold(raw)
    try:
        return stdnum_uscc.validate(candidate)
    except InvalidLength as error:
        raise ValueError("length") from error
    except InvalidChecksum as error:
        raise ValueError("checksum") from error
    except (InvalidFormat, InvalidComponent) as error:
        raise ValueError("format") from error
    except ValidationError as error:
        raise ValueError("format") from error


def is_valid_uscc(raw: str) -> bool:
    try:
        normalise_uscc(raw)
    except ValueError:
        return False
    return True


def make_uscc(first17: str) -> str:
    """Append the check character to 17 characters (for demo data and test factories)."""
    return first17 + stdnum_uscc.calc_check_digit(first17)


def normalise_certificate_number(raw: str) -> str:
    """Certificate numbers are compared folded: 'ａｂ-12 3' and 'AB123' are the same number."""
    return fold(raw)
