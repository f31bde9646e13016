"""Property: whatever the interleaving of changes, rolled-back changes, host workers and pruning, once every
host has applied the outbox each index matches the database exactly."""
from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from registry.certificates.models import Certificate
from registry.extensions import db
from registry.search import indexer, state
from registry.search.outbox import SearchOutbox, queue_certificate
from tests.search.conftest import build_register
from tests.worker.test_hosts import Host

OPERATIONS = st.lists(st.one_of(
    st.tuples(st.just("rename"), st.integers(0, 8), st.sampled_from(["甲", "乙", "丙", "丁"])),
    st.tuples(st.just("rolled back"), st.integers(0, 8), st.just("回滚")),
    st.tuples(st.just("apply"), st.integers(0, 1), st.just("")),
), max_size=12)


def test_every_index_converges_whatever_the_interleaving(tmp_path, backend):
    a = Host(tmp_path, backend, "a")
    b = Host(tmp_path, backend, "b", first=a)
    hosts = [a, b]
    try:
        with a.app.app_context():
            build_register()
            ids = sorted(db.session.scalars(select(Certificate.id)))
        for host in hosts:
            host.worker()
        rounds = iter(range(10_000))

        @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(OPERATIONS)
        def run(operations):
            # Hypothesis replays the global `random` state for every example, and Whoosh names new segments
            # from it: without fresh seeding two examples would create segments of the same name.
            random.seed()
            n = next(rounds)
            for kind, which, word in operations:
                if kind == "apply":
                    with hosts[which].app.app_context():
                        indexer.apply_outbox(db.engine, state().store)
                    continue
                with hosts[which % 2].app.app_context():
                    certificate = db.session.get(Certificate, ids[which])
                    certificate.company.name = f"属性测试{word}{n}有限公司"
                    queue_certificate(certificate.id)
                    if kind == "rename":
                        db.session.commit()
                    else:
                        db.session.flush()
                        db.session.rollback()
            for host in hosts:
                with host.app.app_context():
                    # Every transaction has ended: a gap left by a rollback (PostgreSQL never reuses a
                    # number) need not wait its SEARCH_OUTBOX_GAP_SECONDS here.
                    indexer.apply_outbox(db.engine, state().store, gap_seconds=0)
                    report = indexer.check(db.engine, state().store)
                    assert report.ok and report.pending == 0, (report.missing, report.extra, report.stale)
            with a.app.app_context():
                assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) <= 1

        run()
    finally:
        for host in hosts:
            host.close()
