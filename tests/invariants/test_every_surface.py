"""The cross-surface invariant, as a Hypothesis state machine.

Generated sequences of what happens to certificates (issue, surveillance audit, recertification, suspend,
restore, revoke, withdraw, level change, the daily tick, days passing; complaints upheld, sanction proposals,
provisional suspension, decisions and appeals; the register export re-imported, plain or with one row edited)
run through the registry's own use cases and commands on a small fresh database (SQLite, and PostgreSQL
when TEST_DATABASE_URL is set). After every step:

- every public surface gives each certificate the status and level the status rule gives its row today:
  the certificate page, /v/, the register filter /certificates?status=, search results, the search status
  filter and facet counts, the API (record, list filter, status on a date), the bulk check, open data,
  and the certificate's feed lists exactly its ledger entries;
- the status on every day seen so far, replayed from the ledger (API status?on=, /v/?on=, the bulk check
  with a date), equals what was shown that day (the last thing shown on it).

Example counts are kept small so each backend runs in well under two minutes; raise them locally with
INVARIANT_EXAMPLES / INVARIANT_STEPS (INVARIANT_NO_SHRINK=1 reports a failure without shrinking it).
"""
from __future__ import annotations

import collections
import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from registry import presenters
from registry.certificates.models import Certificate
from registry.extensions import db
from registry.ledger.models import LedgerEntry
from tests.conftest import BACKENDS, close_app, make_app
from tests.invariants import surfaces, world

EXAMPLES = int(os.environ.get("INVARIANT_EXAMPLES", "15"))
STEPS = int(os.environ.get("INVARIANT_STEPS", "12"))
MAX_CERTIFICATES = 3
LEVELS = ["compliant", "3", "4", "5"]
SCORES = [60, 75, 85, 92, 97]  # a fail, then 达标, 三星, 四星, 五星


class Registry(RuleBasedStateMachine):
    """One small register, driven through the use cases and read through every public surface."""

    backend = "sqlite"

    def __init__(self):
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="invariant-"))
        self.app = make_app(self.tmp, self.backend, REGISTRY_TODAY="2026-01-05")
        self.client = self.app.test_client()
        self.numbers: list[str] = []
        self.ended: set[str] = set()
        # day → {number: (status, level)} as the surfaces showed it, the last time that day.
        self.shown: dict[dt.date, dict[str, tuple[str, str]]] = collections.defaultdict(dict)
        with self.app.test_request_context():
            self.level_names = {presenters.level_name("gbt27922-2011", level): level for level in LEVELS}

    def teardown(self):
        close_app(self.app, self.tmp)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- what happens ----------------------------------------------------------------------------

    @initialize()
    def first_certificate(self):
        self.numbers.append(world.issue(self.app))

    def _live(self) -> int:
        return len(self.numbers) - len(self.ended)

    @precondition(lambda self: self._live() < MAX_CERTIFICATES and len(self.numbers) < 2 * MAX_CERTIFICATES)
    @rule(score=st.sampled_from(SCORES[1:]), outstanding=st.booleans())
    def issue(self, score, outstanding):
        self.numbers.append(world.issue(self.app, score, outstanding))

    @rule(data=st.data(), score=st.sampled_from(SCORES))
    def surveillance_audit(self, data, score):
        world.surveillance(self.app, data.draw(st.sampled_from(self.numbers)), score)

    @rule(data=st.data(), score=st.sampled_from(SCORES))
    def recertification(self, data, score):
        world.recertify(self.app, data.draw(st.sampled_from(self.numbers)), score)

    @rule(data=st.data(), months=st.integers(1, 6))
    def suspend(self, data, months):
        world.suspend(self.app, data.draw(st.sampled_from(self.numbers)), months)

    @rule(data=st.data())
    def restore(self, data):
        world.restore(self.app, data.draw(st.sampled_from(self.numbers)))

    # Revoking and withdrawing end a certificate for good: one rule for both, so sequences keep some alive.
    @rule(data=st.data(), revoke=st.booleans())
    def revoke_or_withdraw(self, data, revoke):
        number = data.draw(st.sampled_from(self.numbers))
        if (world.revoke if revoke else world.withdraw)(self.app, number):
            self.ended.add(number)

    @rule(data=st.data(), level=st.sampled_from(LEVELS))
    def change_level(self, data, level):
        world.change_level(self.app, data.draw(st.sampled_from(self.numbers)), level)

    @rule()
    def tick(self):
        world.tick(self.app)

    # Time is what turns dates into statuses: two rules, so it passes often, by days and by months.
    @rule(days=st.sampled_from([1, 20, 45, 100]))
    def days_pass(self, days):
        world.set_today(self.app, world.today(self.app) + dt.timedelta(days=days))

    @rule(days=st.sampled_from([190, 370]))
    def months_pass(self, days):
        world.set_today(self.app, world.today(self.app) + dt.timedelta(days=days))

    # Sanctions with due process: upheld complaints (points by severity; critical proposes a suspension at
    # once) → a proposal with a hearing window → an officer may suspend provisionally → confirms or rejects
    # once the company answered or its window passed → the company appeals once → another officer upholds
    # (undoing exactly what the sanction changed, unless a later decision replaced it) or dismisses.
    @rule(data=st.data(), severity=st.sampled_from(["major", "major", "critical"]))
    def complaint_upheld(self, data, severity):
        world.complaint_upheld(self.app, data.draw(st.sampled_from(self.numbers)), severity)

    def _pick(self, state: str, index: int) -> int | None:
        ids = world.proposals(self.app, state)
        return ids[index % len(ids)] if ids else None

    @rule(index=st.integers(0, 3))
    def provisional_suspension(self, index):
        if (proposal := self._pick("proposed", index)) is not None:
            world.suspend_provisionally(self.app, proposal)

    @rule(index=st.integers(0, 3), confirm=st.booleans(), company_answers=st.booleans())
    def decide_sanction(self, index, confirm, company_answers):
        if (proposal := self._pick("proposed", index)) is not None:
            world.decide_sanction(self.app, proposal, confirm, company_answers)

    @rule(index=st.integers(0, 3))
    def appeal(self, index):
        if (proposal := self._pick("confirmed", index)) is not None:
            world.appeal(self.app, proposal)

    @rule(index=st.integers(0, 3), uphold=st.booleans())
    def decide_appeal(self, index, uphold):
        if (proposal := self._pick("appealed", index)) is not None:
            world.decide_appeal(self.app, proposal, uphold)

    # The register import as a sync: the register's own export re-imports without changing anything, and an
    # edited row (a descriptive field, or a status with its reason) goes through the lifecycle or is refused
    # as a whole, leaving everything as it was.
    # Known and reported: a suspension a sanction made longer than the maximum (a provisional one confirmed
    # late, one resumed after a long appeal) makes the export refuse to re-import; test_sanction_export.py
    # reproduces both (xfail). Until that is decided, this rule is not run on such a register; nor on one
    # where `change_level` raised a level above its score, which no user can do (see world.level_above_score).
    @precondition(lambda self: not world.overlong_suspension(self.app) and not world.level_above_score(self.app))
    @rule()
    def reimport_export(self):
        path = self.tmp / "register.csv"
        world.export_register(self.app, path)
        before = ({n: world.truth(self.app, n) for n in self.numbers}, self._ledger_total())
        code, output = world.import_file(self.app, path)
        assert code == 0, output
        assert ({n: world.truth(self.app, n) for n in self.numbers}, self._ledger_total()) == before, output

    @rule(data=st.data(), change=st.sampled_from([
        {"scope": "家用电器的销售、配送、安装及维修服务"},
        {"level": "3", "level_reason": "导入：监督审核降为三星"},
        {"status": "suspended", "status_reason": "导入：未按期整改"},
        {"status": "revoked", "status_reason": "导入：整改未完成", "suspended_until": ""},
        {"status": "withdrawn", "status_reason": "导入：企业申请注销", "suspended_until": ""},
        {"status": "", "status_reason": "", "status_changed_on": "", "suspended_until": ""},
    ]))
    def import_row(self, data, change):
        number = data.draw(st.sampled_from(self.numbers))
        path = self.tmp / "register.csv"
        world.export_register(self.app, path)
        world.edit_export(path, number, change)
        world.import_file(self.app, path)
        if world.truth(self.app, number)[0] in ("revoked", "withdrawn"):
            self.ended.add(number)

    def _ledger_total(self) -> int:
        with self.app.app_context():
            return len(db.session.scalars(select(LedgerEntry.seq)).all())

    # -- what everybody must see -----------------------------------------------------------------

    @invariant()
    def every_surface_says_what_the_rule_says(self):
        app, client, numbers = self.app, self.client, self.numbers
        truth = {n: world.truth(app, n) for n in numbers}
        statuses = {n: status for n, (status, _level) in truth.items()}
        assert surfaces.register_filter(client) == statuses, "register filter /certificates?status="
        assert surfaces.search_results(client) == statuses, "search result lines"
        assert surfaces.search_filter(client) == statuses, "search status filter"
        assert surfaces.search_facets(client) == dict(collections.Counter(statuses.values())), "search facets"
        assert surfaces.api_filter(client) == statuses, "API list filter"
        assert surfaces.open_data(client) == truth, "open data"
        checked = surfaces.bulk_check(client, numbers)
        assert {n: (s, level) for n, (s, level, _on) in checked.items()} == truth, "bulk check"
        assert {n: on for n, (_s, _level, on) in checked.items()} == statuses, "bulk check, status on today"
        for number, (status, level) in truth.items():
            page_status, page_level = surfaces.detail_page(client, number)
            assert (page_status, self.level_names[page_level]) == (status, level), f"/certificates/{number}"
            v_status, v_level = surfaces.verify_page(client, number)
            assert (v_status, self.level_names[v_level]) == (status, level), f"/v/{number}"
            assert surfaces.api_record(client, number) == (status, level), f"API record {number}"
            replayed = surfaces.api_status_on(client, number)
            assert (replayed["status"], replayed["level"]) == (status, level), f"ledger replay today {number}"
            assert len(surfaces.feed_entry_ids(client, number)) == self._ledger_count(number), f"feed {number}"
        self.shown[world.today(app)].update(truth)
        # Then the history: every day seen so far (today included, as it is now) replayed from the ledger.
        # Three readers of the status on a date: the API, /v/?on= and the bulk check with a date.
        for day, shown in sorted(self.shown.items()):
            on = day.isoformat()
            by_bulk = surfaces.bulk_check_on(client, list(shown), on)
            for number, (status, level) in shown.items():
                replayed = surfaces.api_status_on(client, number, on=on)
                assert (replayed["status"], replayed["level"]) == (status, level), ("API status?on=", number, on)
                v_status, v_level = surfaces.verify_day(client, number, on)
                assert (v_status, self.level_names.get(v_level)) == (status, level), ("/v/?on=", number, on)
                assert by_bulk[number] == (status, level), ("bulk check on", number, on)

    def _ledger_count(self, number: str) -> int:
        with self.app.app_context():
            return len(db.session.scalars(select(LedgerEntry.seq).join(Certificate, Certificate.id == LedgerEntry.certificate_id)
                                          .where(Certificate.number == number)).all())


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_every_surface_tells_the_same_story_on_every_day(backend_name):
    machine = type(f"Registry_{backend_name}", (Registry,), {"backend": backend_name})
    run_state_machine_as_test(machine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        **({"phases": [Phase.explicit, Phase.reuse, Phase.generate]} if os.environ.get("INVARIANT_NO_SHRINK") else {})))
