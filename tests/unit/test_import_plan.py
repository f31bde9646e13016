"""plan_import: what an import row does to a certificate the registry holds, as a table (no app, no database)."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.certificates.identifiers import make_uscc
from registry.certificates.import_plan import ExistingCertificate, ExistingCompany, plan_import
from registry.certificates.importer import ImportRow
from registry.certificates.rules import LifecycleAction

TODAY = dt.date(2026, 6, 1)
USCC = make_uscc("91370200MA3C7N2K4")
ROW = ImportRow(line=2, certificate_number="99925SV00101R0", company_name="青岛澜泽家电有限公司", uscc=USCC,
                province="山东省", city="青岛市", address="市南区香港中路88号", industry="家电",
                enterprise_type="production", scheme_id="gbt27922-2011", score=Decimal("91.50"), level="4",
                scope="家电维修", issued_on=dt.date(2025, 3, 1), expires_on=dt.date(2028, 2, 29),
                last_surveillance_on=dt.date(2026, 2, 20), score_level="4")
KNOWN = ExistingCertificate(number="99925SV00101R0", uscc=USCC, scheme_id="gbt27922-2011", level="4",
                            score=Decimal("91.50"), scope="家电维修", service_sites=(), issued_on=dt.date(2025, 3, 1),
                            expires_on=dt.date(2028, 2, 29), first_issued_on=dt.date(2025, 3, 1),
                            last_surveillance_on=dt.date(2026, 2, 20), status="valid")
COMPANY = ExistingCompany(USCC, "青岛澜泽家电有限公司", "山东省", "青岛市", "市南区香港中路88号", "家电", "production")
OFFICER_TODAY = {"last_decision_seq": 9, "last_decision_on": TODAY, "last_decision_kind": "suspended"}


def plan(row=ROW, known=KNOWN, **options):
    existing = {"99925SV00101R0": [known]} if known is not None else {}
    return plan_import([row], existing, {USCC: COMPANY}, TODAY, **options)


def outcome(result) -> tuple:
    """(action, transition, level) of the only row, or ('refused', code, column)."""
    if result.problems:
        (problem,) = result.problems
        return ("refused", problem.code, problem.column)
    (change,) = result.certificates
    return (change.action, change.transition, change.level)


def row(**changes) -> ImportRow:
    return dataclasses.replace(ROW, **changes)


def known(**changes) -> ExistingCertificate:
    return dataclasses.replace(KNOWN, **changes)


SUSPENDED = {"status": "suspended", "status_changed_on": dt.date(2026, 5, 20), "suspended_until": dt.date(2026, 9, 1),
             "status_reason": "严重投诉成立"}
RAN_OUT = {"status": "suspended", "status_changed_on": dt.date(2025, 11, 1), "suspended_until": dt.date(2026, 5, 1)}


@pytest.mark.parametrize(("the_row", "the_known", "options", "expected"), [
    # The same state: nothing to do.
    (ROW, KNOWN, {}, ("unchanged", None, None)),
    # New certificate.
    (ROW, None, {}, ("create", None, None)),
    # Descriptive changes always follow the file, even over a later decision of the registry.
    (row(scope="家电安装"), known(**OFFICER_TODAY), {}, ("update", None, None)),
    # Level and status changes, through the lifecycle.
    (row(score=Decimal("96"), level="5", score_level="5"), KNOWN, {}, ("update", None, "5")),
    (row(status="suspended"), KNOWN, {}, ("update", LifecycleAction.SUSPEND, None)),
    (row(status="revoked"), known(**SUSPENDED), {}, ("update", LifecycleAction.REVOKE, None)),
    (row(status="valid"), known(**SUSPENDED), {}, ("update", LifecycleAction.RESTORE, None)),
    (row(status="withdrawn"), KNOWN, {}, ("update", LifecycleAction.WITHDRAW, None)),
    # The registry holds a later decision: the old row would undo it.
    (ROW, known(level="3", **SUSPENDED, **OFFICER_TODAY), {}, ("refused", "later_decision", "level")),
    (row(status="valid"), known(**SUSPENDED, **OFFICER_TODAY), {}, ("refused", "later_decision", "status")),
    # ... unless the file is dated after it (as_of) or was exported after it (ledger head).
    (row(status="valid"), known(**SUSPENDED, **OFFICER_TODAY), {"as_of": TODAY},
     ("update", LifecycleAction.RESTORE, None)),
    (row(status="valid"), known(**SUSPENDED, **OFFICER_TODAY), {"ledger_seq": 9},
     ("update", LifecycleAction.RESTORE, None)),
    (row(status="valid"), known(**SUSPENDED, **OFFICER_TODAY), {"ledger_seq": 8, "as_of": TODAY},
     ("refused", "later_decision", "status")),
    # An on-read revocation (the suspension ran out) is final, as in the back office.
    (row(status="valid"), known(**RAN_OUT), {}, ("refused", "terminal_status", "status")),
    (row(status="valid", scope="家电安装"), known(status="revoked"), {}, ("refused", "terminal_status", "status")),
    (row(scope="家电安装", status="revoked"), known(status="revoked"), {}, ("update", None, None)),
    # Expired: no renewal through an import.
    (row(issued_on=dt.date(2026, 5, 1), expires_on=dt.date(2029, 4, 30), last_surveillance_on=None),
     known(issued_on=dt.date(2023, 1, 10), expires_on=dt.date(2026, 1, 9), first_issued_on=dt.date(2023, 1, 10)), {},
     ("refused", "terminal_status", "issued_on")),
    # Overdue surveillance suspends publicly: a suspension on top is not a transition the rules allow.
    (row(status="suspended", last_surveillance_on=None), known(last_surveillance_on=None), {},
     ("refused", "transition_not_allowed", "status")),
    # A suspension dated so long ago that it has run out cannot be started now.
    (row(status="suspended", status_changed_on=dt.date(2025, 10, 1)), KNOWN, {},
     ("refused", "suspension_already_over", "status")),
    # Another company or scheme.
    (row(uscc=make_uscc("91440300MA5F8R1X0")), KNOWN, {}, ("refused", "certificate_other_company", "uscc")),
    (row(scheme_id="satisfaction-1000"), KNOWN, {}, ("refused", "scheme_changed", "scheme")),
])
def test_plan_for_one_row(the_row, the_known, options, expected):
    assert outcome(plan(the_row, the_known, **options)) == expected


def test_a_number_written_differently_matches_the_registry_spelling_and_keeps_it():
    result = plan(row(certificate_number="99925-SV-00101-R0"))
    assert outcome(result) == ("unchanged", None, None)
    assert result.certificates[0].number == "99925SV00101R0"


def test_a_folded_number_matching_two_certificates_is_refused():
    other = known(number="99925-SV-00101-R0")
    result = plan_import([ROW], {"99925SV00101R0": [KNOWN, other]}, {USCC: COMPANY}, TODAY)
    assert [(p.code, p.column) for p in result.problems] == [("ambiguous_number", "certificate_number")]


def test_decisions_by_earlier_imports_do_not_block_a_newer_file():
    # The caller passes only the registry's own decisions (not the import's): none here.
    result = plan(row(status="valid"), known(**SUSPENDED))
    assert outcome(result) == ("update", LifecycleAction.RESTORE, None)


def test_transition_leaves_the_status_details_to_the_lifecycle():
    (change,) = plan(row(status="suspended", status_changed_on=dt.date(2026, 5, 20), status_reason="整改")).certificates
    assert change.fields == {} and change.suspended_until == dt.date(2026, 11, 20)


@pytest.mark.parametrize(("the_row", "column", "words"), [
    (row(last_surveillance_on=None), "last_surveillance_on", "暂停/suspended"),
    (row(issued_on=dt.date(2024, 1, 10), expires_on=dt.date(2027, 1, 9), last_surveillance_on=None),
     "last_surveillance_on", "撤销/revoked"),
    (row(status="suspended", status_changed_on=dt.date(2025, 11, 1)), "suspended_until", "撤销/revoked"),
    (row(issued_on=dt.date(2023, 1, 10), expires_on=dt.date(2026, 1, 9), last_surveillance_on=dt.date(2025, 1, 5)),
     "expires_on", "过期/expired"),
])
def test_new_rows_whose_dates_change_what_the_public_sees_are_accepted_with_a_warning(the_row, column, words):
    result = plan(the_row, None)
    assert result.ok
    (warning,) = result.warnings
    assert warning.column == column and words in warning.params["status"]


def test_a_current_row_gets_no_warning():
    assert plan(ROW, None).warnings == []


def test_an_unchanged_row_is_not_warned_about_again():
    assert plan(row(last_surveillance_on=None), known(last_surveillance_on=None)).warnings == []


def test_a_renamed_company_marks_its_certificates_updated():
    result = plan(row(company_name="青岛澜泽智能家电有限公司"))
    assert result.companies[USCC].action == "update"
    assert [(c.action, c.changed) for c in result.certificates] == [("update", ["company"])]


def test_only_new_leaves_existing_certificates_and_their_companies_alone():
    result = plan(row(scope="别的", company_name="别的名字"), only_new=True)
    assert outcome(result) == ("unchanged", None, None) and result.companies == {}


@given(st.sampled_from(["valid", "suspended", "revoked", "withdrawn"]), st.sampled_from(["valid", "suspended",
                                                                                        "revoked", "withdrawn"]),
       st.sampled_from(["4", "3", "compliant"]), st.booleans())
def test_a_registry_decision_after_the_row_is_never_changed_by_it(stored, wanted, level, later):
    """Whatever the row asks, a later decision of the registry stands: the plan changes no decision field."""
    details = SUSPENDED if stored == "suspended" else {"status": stored}
    existing = known(level=level, **details, **(OFFICER_TODAY if later else {}))
    result = plan(row(status=wanted, level="4"), existing)
    decided = [c for c in result.certificates if c.level is not None or c.transition is not None]
    if later:
        assert decided == []
    if stored in ("revoked", "withdrawn") and (wanted != stored or level != "4"):
        assert not result.ok


@pytest.mark.parametrize(("the_row", "expected"), [
    (row(status="suspended", suspended_until=dt.date(2026, 10, 1)), ("update", None, None)),
    (row(status="suspended", suspended_until=dt.date(2026, 12, 1)), ("refused", "suspension_too_long", "suspended_until")),
    (row(status="suspended", suspended_until=dt.date(2026, 5, 25)),
     ("refused", "suspension_already_over", "suspended_until")),
])
def test_a_suspension_end_changed_by_a_row_is_checked_against_the_registrys_start(the_row, expected):
    assert outcome(plan(the_row, known(**SUSPENDED))) == expected
