"""Property: whatever register state imports and officers' decisions produce, its export re-imports into the same
registry without any change, and into an empty registry with the same public state."""
from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.certificates import lifecycle
from registry.certificates.identifiers import make_uscc
from registry.certificates.rules import overdue_suspension_end, surveillance_due_on
from registry.errors import InvalidTransition, ValidationError
from registry.extensions import db
from tests.conftest import close_app, make_app
from tests.services.test_import import counts, csv_bytes, register_row
from tests.services.test_import_sync import OFFICER, certificate, public_state

TODAY = dt.date(2026, 6, 1)
_run = itertools.count()


@st.composite
def register_rows(draw) -> list[dict]:
    rows = []
    for n in range(draw(st.integers(1, 4))):
        issued = TODAY - dt.timedelta(days=draw(st.integers(1, 1000)))
        expires = dt.date(issued.year + 3, issued.month, 1) - dt.timedelta(days=1)
        latest = min(TODAY, expires)
        surveillance = draw(st.none() | st.integers(0, (latest - issued).days))
        status = draw(st.sampled_from(["valid", "valid", "suspended", "revoked", "withdrawn"]))
        row = register_row(certificate_number=f"99925SV{n:05d}R0", uscc=make_uscc(f"91370200MA3C7N{n:02d}K4"[:17]),
                           company_name=f"测试企业{n}", issued_on=issued.isoformat(), expires_on=expires.isoformat(),
                           last_surveillance_on="" if surveillance is None
                           else (issued + dt.timedelta(days=surveillance)).isoformat(),
                           score=draw(st.sampled_from(["72", "85.5", "91", "97.25"])), level="")
        row.update(level_reason="", status=status, status_changed_on="", status_reason="")
        if status != "valid":
            # A status can take effect only while the dates do not yet make the certificate revoked (final).
            last = issued if surveillance is None else issued + dt.timedelta(days=surveillance)
            revoked_from = overdue_suspension_end(surveillance_due_on(last, 12), 0, 6) + dt.timedelta(days=1)
            end = min(latest, revoked_from - dt.timedelta(days=1))
            changed = issued + dt.timedelta(days=draw(st.integers(0, (end - issued).days)))
            row.update(status_changed_on=changed.isoformat(), status_reason=draw(st.sampled_from(["", "逾期未整改"])))
        if draw(st.booleans()) and row["score"] != "72":
            row.update(level="compliant", level_reason="首年按达标发证")
        rows.append(row)
    return rows


@settings(max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(rows=register_rows(), lower=st.booleans(), suspend=st.booleans())
def test_any_register_state_survives_export_and_reimport(tmp_path_factory, backend, rows, lower, suspend):
    base = tmp_path_factory.mktemp(f"round-trip-{next(_run)}")
    header = list(rows[0])
    app = make_app(base / "a", backend)
    try:
        runner = app.test_cli_runner()
        first = base / "register.csv"
        first.write_bytes(csv_bytes(rows, header=header))
        result = runner.invoke(args=["certificates", "import", str(first)])
        assert result.exit_code == 0, result.output
        with app.app_context():  # an officer's decisions on the first certificate, where the rules allow them
            cert = certificate(rows[0]["certificate_number"])
            for allowed, act in ((lower, lambda: lifecycle.change_level(cert, new_level="compliant", reason="处分降级",
                                                                        actor=OFFICER)),
                                 (suspend, lambda: lifecycle.suspend_certificate(
                                     cert, reason="严重投诉", until=TODAY + dt.timedelta(days=60), actor=OFFICER))):
                if allowed:
                    try:
                        act()
                    except (InvalidTransition, ValidationError):
                        pass
            db.session.commit()
        export = base / "export.csv"
        assert runner.invoke(args=["certificates", "export", str(export)]).exit_code == 0
        before, state = counts(app), public_state(app)
        again = runner.invoke(args=["certificates", "import", str(export)])
        assert again.exit_code == 0, again.output
        assert "ledger entries 0" in again.output and counts(app) == before and public_state(app) == state
    finally:
        close_app(app, base / "a")

    fresh = make_app(base / "b", backend)
    try:
        result = fresh.test_cli_runner().invoke(args=["certificates", "import", str(export)])
        assert result.exit_code == 0, result.output
        assert public_state(fresh) == state
    finally:
        close_app(fresh, base / "b")
