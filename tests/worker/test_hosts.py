"""Several hosts: each index follows the append-only outbox by its own cursor, against one database.

Two (or three) apps share a database and keep their own index directory, as web hosts do; each runs its
worker (`flask registry worker --once`). A change made through either host reaches both hosts' search."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text, update

from registry import clock, create_app
from registry.certificates.models import Certificate
from registry.extensions import db
from registry.search import state
from registry.search.indexer import apply_outbox, index_identity, pending_count, prune_expired, rebuild
from registry.search.outbox import SearchCursor, SearchOutbox, queue_certificate
from tests.conftest import close_app, make_app
from tests.office.conftest import make_user, sign_in
from tests.search.conftest import build_register
from tests.search.test_search_page import result_names, search_page


class Host:
    """One web host: its app (own index directory) on the shared database."""

    def __init__(self, tmp_path, backend, name, first: Host | None = None):
        self.path = tmp_path / name
        if first is None:
            self.app = make_app(self.path, backend, SEARCH_INDEXER="external")
        else:  # the same database as it is (make_app would empty it), an index and instance of its own
            self.app = create_app({**first.app.config, "INSTANCE_PATH": str(self.path / "instance"),
                                   "SEARCH_INDEX_DIR": str(self.path / "search_index"),
                                   "SQLALCHEMY_ENGINE_OPTIONS": {}})

    def worker(self) -> str:
        result = self.app.test_cli_runner().invoke(args=["registry", "worker", "--once"])
        assert result.exit_code == 0, result.output
        return result.output

    def names(self, **params) -> list[str]:
        return result_names(search_page(self.app.test_client(), **params))

    def run(self, *args) -> str:
        result = self.app.test_cli_runner().invoke(args=list(args))
        assert result.exit_code == 0, result.output
        return result.output

    def close(self):
        close_app(self.app, self.path)


@pytest.fixture
def hosts(tmp_path, backend):
    a = Host(tmp_path, backend, "a")
    b = Host(tmp_path, backend, "b", first=a)
    made = [a, b]
    yield made
    for host in made:
        host.close()


def _suspend_through(host: Host, number: str, officer_id: int) -> None:
    client = host.app.test_client()
    sign_in(client, officer_id)
    response = client.post(f"/office/certificates/{number}/suspend",
                           data={"suspend-until": "2026-09-01", "suspend-reason": "监督发现严重不符合"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def _outbox_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SearchOutbox))


def test_a_change_through_either_host_reaches_both_hosts_search(hosts):
    a, b = hosts
    with a.app.app_context():
        numbers = build_register()
        officer = make_user("officer").id
        db.session.commit()
    a.worker()
    b.worker()
    assert a.names(q="清风") == b.names(q="清风") == ["北京清风空调服务有限公司"]

    _suspend_through(a, numbers["qingfeng"], officer)
    assert "北京清风空调服务有限公司" not in a.names(status="suspended")  # external: the web process never indexes
    a.worker()  # host A's worker applies the change first; the row must stay for host B
    assert "北京清风空调服务有限公司" in a.names(status="suspended")
    assert _outbox_rows(a.app) > 1
    b.worker()
    assert "北京清风空调服务有限公司" in b.names(status="suspended")

    _suspend_through(b, numbers["tcl"], officer)
    b.worker()
    a.worker()
    for host in (a, b):
        assert {"北京清风空调服务有限公司", "TCL王牌电器（惠州）有限公司"} <= set(host.names(status="suspended"))
        assert "index matches the database" in host.run("search", "check")
    # Both passed every row: all but the newest are pruned (it stays so SQLite never reuses its number).
    assert _outbox_rows(a.app) == 1
    with a.app.app_context():
        assert pending_count(db.session, state().store) == 0
        assert db.session.scalar(select(func.count()).select_from(SearchCursor)) == 2


def test_a_new_host_starts_with_rebuild_and_catches_up(tmp_path, backend, hosts):
    a, b = hosts
    with a.app.app_context():
        numbers = build_register()
        officer = make_user("officer").id
        db.session.commit()
    a.worker()
    b.worker()
    _suspend_through(a, numbers["qingfeng"], officer)
    a.worker()
    b.worker()
    c = Host(tmp_path, backend, "c", first=a)
    hosts.append(c)
    assert "built 9 documents" in c.run("search", "rebuild", "--procs", "1")
    assert "北京清风空调服务有限公司" in c.names(status="suspended")
    _suspend_through(b, numbers["tcl"], officer)
    for host in (a, b, c):
        host.worker()
        assert "TCL王牌电器（惠州）有限公司" in host.names(status="suspended")
    listing = c.run("search", "cursors")
    assert listing.count("\n") == 4 and "(this host)" in listing


def test_an_index_left_behind_the_retention_is_marked_expired_and_rebuilds(hosts):
    a, b = hosts
    with a.app.app_context():
        numbers = build_register()
        db.session.commit()
    a.worker()
    b.worker()
    with a.app.app_context():
        certificate = db.session.scalar(select(Certificate).where(Certificate.number == numbers["haier"]))
        certificate.company.name = "海尔智家新名有限公司"
        queue_certificate(certificate.id)
        queue_certificate(certificate.id)
        db.session.commit()
    a.worker()  # B is offline for longer than the retention
    with a.app.app_context():
        db.session.execute(update(SearchOutbox).values(created_at=clock.utcnow() - dt.timedelta(days=8)))
        assert prune_expired(db.session, 7) >= 1
        db.session.commit()
        b_id = index_identity(state(b.app).store, create=False)
        assert db.session.get(SearchCursor, b_id).expired
    assert "搜索" in b.app.test_client().get("/search?q=海尔").get_data(as_text=True)
    output = b.worker()  # B notices, rebuilds from the database, and is current again
    assert b.names(q="海尔智家新名") == ["海尔智家新名有限公司"]
    assert "index matches the database" in b.run("search", "check"), output


def test_a_lower_sequence_number_committed_late_is_not_skipped(hosts, backend):
    """PostgreSQL hands out sequence numbers at insert, not at commit: 41 may commit after 42."""
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time: numbers commit in order")
    a, _b = hosts
    with a.app.app_context():
        numbers = build_register()
        db.session.commit()
        rebuild(db.engine, state().store, procs=1)
        slow = db.engine.connect()
        slow_tx = slow.begin()
        haier = db.session.scalar(select(Certificate).where(Certificate.number == numbers["haier"]))
        slow.execute(text("UPDATE company SET name = '迟到提交有限公司' WHERE id = :id"), {"id": haier.company_id})
        slow.execute(text("INSERT INTO search_outbox (entity, entity_id, created_at) VALUES ('certificate', :id, :t)"),
                     {"id": haier.id, "t": clock.utcnow()})
        tcl = db.session.scalar(select(Certificate).where(Certificate.number == numbers["tcl"]))
        tcl.company.name = "先提交电器有限公司"
        queue_certificate(tcl.id)
        db.session.commit()  # the higher number commits first
        apply_outbox(db.engine, state().store)
        slow_tx.commit()
        slow.close()
        apply_outbox(db.engine, state().store)
        db.session.remove()
    assert a.names(q="先提交") == ["先提交电器有限公司"]
    assert a.names(q="迟到提交") == ["迟到提交有限公司"]


def test_the_embedded_default_indexes_right_after_commit_and_prunes(tmp_path, backend):
    app = make_app(tmp_path, backend)  # SEARCH_INDEXER=inline
    try:
        with app.app_context():
            build_register()
            certificate = db.session.scalar(select(Certificate).where(Certificate.number == "99925SV90004R0"))
            certificate.company.name = "北京新风暖通有限公司"
            queue_certificate(certificate.id)
            db.session.commit()
            assert pending_count(db.session, state().store) == 0
            assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) == 1
        assert result_names(search_page(app.test_client(), q="新风暖通")) == ["北京新风暖通有限公司"]
    finally:
        close_app(app, tmp_path)


def test_a_lagging_host_holds_rows_back_until_it_is_forgotten(hosts):
    a, b = hosts
    with a.app.app_context():
        numbers = build_register()
        db.session.commit()
    a.worker()
    b.worker()
    with a.app.app_context():
        certificate = db.session.scalar(select(Certificate).where(Certificate.number == numbers["tcl"]))
        for word in "一二三":
            certificate.company.name = f"滞后{word}有限公司"
            queue_certificate(certificate.id)
            db.session.commit()
    a.worker()  # B is down: A has applied everything, B's cursor keeps the rows
    assert _outbox_rows(a.app) >= 3
    with b.app.app_context():
        b_id = index_identity(state().store, create=False)
    assert "forgot index" in a.run("search", "forget", b_id)
    assert _outbox_rows(a.app) == 1
    assert "no index" in a.app.test_cli_runner().invoke(args=["search", "forget", b_id]).output
