"""Pure parts of verification: dates people type, the day a level began, answers for a day, check codes."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from registry.certificates import qr, verification
from registry.certificates.verification import DateProblem, DayKind


@dataclass
class Entry:
    seq: int
    effective_on: dt.date
    status_after: str | None
    level_after: str | None
    scheme_id: str = "gbt27922-2011"
    data: dict | None = None


D = dt.date
SNAP = {"snapshot": {"expires_on": "2028-08-31", "suspended_until": None, "surveillance_due_on": "2026-09-01"}}
HISTORY = [Entry(1, D(2025, 9, 1), "valid", "5", data=SNAP), Entry(2, D(2026, 2, 1), "suspended", "5", data=SNAP),
           Entry(3, D(2026, 3, 10), "valid", "5", data=SNAP), Entry(4, D(2026, 5, 3), "valid", "4", data=SNAP)]
CURRENT = {"status": "valid", "expires_on": D(2028, 8, 31), "level": "4", "scheme_id": "gbt27922-2011",
           "suspended_until": None, "surveillance_due_on": D(2026, 9, 1)}


@pytest.mark.parametrize("typed, day", [("2026-03-01", D(2026, 3, 1)), (" 2026/3/01 ", None), ("2026/03/01", D(2026, 3, 1)),
                                        ("20260301", D(2026, 3, 1)), ("２０２６－０３－０１", D(2026, 3, 1)),
                                        ("2026.03.01", D(2026, 3, 1))])
def test_dates_people_type_are_understood(typed, day):
    if day is None:
        with pytest.raises(DateProblem):
            verification.parse_day(typed)
    else:
        assert verification.parse_day(typed) == day


@pytest.mark.parametrize("typed, reason", [("", "format"), ("2026-02-30", "format"), ("tomorrow", "format"),
                                           ("1899-01-01", "range"), ("2101-01-01", "range"), ("x" * 100, "format")])
def test_unusable_dates_say_why(typed, reason):
    with pytest.raises(DateProblem) as problem:
        verification.parse_day(typed)
    assert problem.value.reason == reason


def test_level_since_is_the_latest_change_to_that_level():
    assert verification.level_since(HISTORY, "4") == D(2026, 5, 3)
    assert verification.level_since(HISTORY, "5") == D(2025, 9, 1)
    assert verification.level_since(HISTORY, "3") is None
    back_up = HISTORY + [Entry(5, D(2026, 5, 20), "valid", "5", data=SNAP)]
    assert verification.level_since(back_up, "5") == D(2026, 5, 20)


@pytest.mark.parametrize("day, kind, status, level", [
    (D(2025, 8, 31), DayKind.BEFORE_ISSUE, None, None),
    (D(2026, 2, 15), DayKind.RECORDED, "suspended", "5"),
    (D(2026, 5, 3), DayKind.RECORDED, "valid", "4"),
    (D(2026, 12, 1), DayKind.FUTURE, "suspended", "4"),  # surveillance due 2026-09-01 would be overdue by then
    # Nothing else happening, the surveillance due 2026-09-01 is missed, the suspension ends 2027-03-02 and
    # the certificate is revoked before its expiry: 撤销 stays after 2028-08-31.
    (D(2029, 1, 1), DayKind.FUTURE, "revoked", "4"),
])
def test_answer_for_a_day(day, kind, status, level):
    answer = verification.answer_for_day(day, D(2026, 6, 1), HISTORY, first_issued_on=D(2025, 9, 1), current=CURRENT)
    assert (answer.kind, answer.status, answer.level) == (kind, status, level)


def test_day_after_issue_but_before_the_registry_records_begin_is_said_so():
    answer = verification.answer_for_day(D(2025, 10, 1), D(2026, 6, 1), HISTORY[3:], first_issued_on=D(2025, 9, 1), current=CURRENT)
    assert answer.kind is DayKind.UNRECORDED and answer.records_begin == D(2026, 5, 3)


def test_check_codes_are_short_stable_and_differ_per_number_and_key():
    key = qr.check_key("k")
    code = qr.check_code("99925SV00001R0", key)
    assert len(code) == qr.CHECK_LENGTH and code.isalnum() and code == qr.check_code("99925SV00001R0", key)
    assert code != qr.check_code("99925SV00002R0", key)
    assert code != qr.check_code("99925SV00001R0", qr.check_key("other"))
    assert qr.is_valid_check("99925SV00001R0", f" {code.lower()} ", key)


def test_verify_url_escapes_the_number_and_adds_the_printed_level():
    assert qr.verify_url("https://r.test/", "A B", "CODE", "5") == "https://r.test/v/A%20B?c=CODE&l=5"
