"""The SQL status expression says what the status rule says, row by row, on a generated grid.

rules.effective_status is the definition; services.effective_status_expr is its SQL form for lists,
filters and counts. Hypothesis generates rows (stored status, expiry, suspension end, surveillance due
date, first issue) and a policy; each row is written as it is (Core insert: no ORM hook recomputes a
date) and the expression is evaluated in the database on every day where the rule may change for some
row (and the days either side), on SQLite and on PostgreSQL when TEST_DATABASE_URL is set.
"""
from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from registry.certificates import rules
from registry.certificates.models import Certificate, Company
from registry.certificates.rules import CertificateStatus, StatusPolicy
from registry.certificates.services import effective_status_expr
from registry.extensions import db
from tests.factories import uscc_for

ONE_DAY = dt.timedelta(days=1)
# Month ends, leap days and their neighbours are where month arithmetic goes wrong.
EDGES = [dt.date(y, m, d) for y in (2027, 2028) for m, d in ((1, 28), (1, 31), (2, 28), (3, 31), (8, 31), (12, 31))] \
    + [dt.date(2028, 2, 29)]
days = st.one_of(st.dates(dt.date(2026, 6, 1), dt.date(2029, 6, 30)),
                 st.sampled_from(EDGES).flatmap(lambda d: st.sampled_from([d - ONE_DAY, d, d + ONE_DAY])))
optional_days = st.one_of(st.none(), days)
free_row = st.fixed_dictionaries({
    "status": st.sampled_from([s.value for s in rules.STORED_STATUSES]),
    "first_issued_on": st.dates(dt.date(2023, 1, 1), dt.date(2026, 5, 31)),
    "expires_on": days,
    "suspended_until": optional_days,
    "surveillance_due_on": optional_days,
})
policies = st.builds(StatusPolicy, surveillance_grace_days=st.sampled_from([0, 1, 14, 30]),
                     max_suspension_months=st.sampled_from([1, 3, 6]))


@st.composite
def rows_for(draw, policy: StatusPolicy):
    """A row; half the time its expiry is put right beside the day the rule would revoke it, where
    "revoked for good" and "expired" part."""
    values = draw(free_row)
    revoked_from = rules.on_read_revocation_day(values["status"], values["suspended_until"],
                                                values["surveillance_due_on"], policy)
    if revoked_from and draw(st.booleans()):
        values["expires_on"] = revoked_from + ONE_DAY * draw(st.sampled_from([-1, 0, 1]))
    return values


def _change_days(values: dict, policy: StatusPolicy) -> set[dt.date]:
    """The days around which the rule's answer for this row may change."""
    points = {values["expires_on"] + ONE_DAY}
    revoked_from = rules.on_read_revocation_day(values["status"], values["suspended_until"],
                                                values["surveillance_due_on"], policy)
    if revoked_from:
        points.add(revoked_from)
    if values["surveillance_due_on"]:
        points.add(rules.overdue_suspension_start(values["surveillance_due_on"], policy.surveillance_grace_days))
    return {p + delta for p in points for delta in (-ONE_DAY, dt.timedelta(0), ONE_DAY)}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), policy=policies, extra_today=days)
def test_sql_status_equals_the_rule_on_every_row_and_day(app_ctx, data, policy, extra_today):
    rows = data.draw(st.lists(rows_for(policy), min_size=1, max_size=12))
    db.session.execute(delete(Certificate))
    db.session.execute(delete(Company))
    company_id = db.session.execute(insert(Company).values(
        name="网格测试有限公司", uscc=uscc_for(777001), former_names=[], province="北京市", industry="家电",
        enterprise_type="production").returning(Company.id)).scalar_one()
    for n, values in enumerate(rows):
        db.session.execute(insert(Certificate).values(
            number=f"GRID{n:04d}", company_id=company_id, scheme_id="gbt27922-2011", level="4",
            issued_on=values["first_issued_on"], **values))
    todays = {extra_today}.union(*(_change_days(v, policy) for v in rows))
    for today in sorted(todays):
        got = dict(db.session.execute(select(Certificate.number, effective_status_expr(today, policy))).all())
        for n, values in enumerate(rows):
            expected = rules.effective_status(values["status"], values["expires_on"], today,
                                              suspended_until=values["suspended_until"],
                                              surveillance_due_on=values["surveillance_due_on"], policy=policy)
            assert got[f"GRID{n:04d}"] == expected.value, (today, values, policy)
    db.session.rollback()


def test_the_sql_month_arithmetic_clamps_to_the_month_end_like_the_rule(app_ctx):
    from sqlalchemy import literal

    from registry.certificates.services import add_days_months
    for day, plus_days, months in [(dt.date(2027, 1, 30), 1, 1), (dt.date(2027, 8, 30), 1, 6),
                                   (dt.date(2027, 12, 31), 0, 2), (dt.date(2028, 1, 31), 0, 1),
                                   (dt.date(2027, 3, 1), 30, 6)]:
        got = db.session.execute(select(add_days_months(literal(day), literal(plus_days), literal(months)))).scalar_one()
        if isinstance(got, str):
            got = dt.date.fromisoformat(got)
        assert got == rules.add_months(day + dt.timedelta(days=plus_days), months)
    assert CertificateStatus.EXPIRED.value == "expired"
