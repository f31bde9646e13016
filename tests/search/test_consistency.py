"""The index follows the database through the outbox, `check` finds drift, and search survives a lost index."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import select, text

from registry.certificates.models import Certificate
from registry.extensions import db
from registry.search import state
from registry.search.indexer import pending_count
from registry.search.outbox import queue_certificate
from tests.conftest import make_app
from tests.search.conftest import build_register
from tests.search.test_search_page import result_names, search_page

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _certificate(number: str) -> Certificate:
    return db.session.scalar(select(Certificate).where(Certificate.number == number))


def test_a_renamed_company_is_found_by_its_new_name_right_after_commit(app, client, register):
    with app.app_context():
        certificate = _certificate(register["qingfeng"])
        certificate.company.former_names = [certificate.company.name]
        certificate.company.name = "北京明月制冷科技有限公司"
        queue_certificate(certificate.id)
        db.session.commit()
    assert result_names(search_page(client, q="明月制冷")) == ["北京明月制冷科技有限公司"]
    # The old name still finds it, as a former name.
    assert result_names(search_page(client, q="清风空调")) == ["北京明月制冷科技有限公司"]


def test_a_suspension_shows_in_results_and_status_filter_after_commit(app, client, register):
    with app.app_context():
        certificate = _certificate(register["qingfeng"])
        certificate.status = "suspended"
        queue_certificate(certificate.id)
        db.session.commit()
    page = search_page(client, q="清风")
    assert "暂停" in page and "hit-suspended" in page
    assert "北京清风空调服务有限公司" in result_names(search_page(client, status="suspended"))
    assert "北京清风空调服务有限公司" not in result_names(search_page(client, status="valid"))


def test_a_deleted_certificate_disappears_after_commit(app, client, register):
    with app.app_context():
        certificate = _certificate(register["tcl"])
        queue_certificate(certificate.id)
        db.session.delete(certificate)
        db.session.commit()
    assert result_names(search_page(client, q="TCL")) == []


def test_outbox_is_empty_after_inline_indexing(app, register):
    with app.app_context():
        assert pending_count(db.session, state().store) == 0


def test_a_rolled_back_change_is_not_indexed(app, client, register):
    with app.app_context():
        certificate = _certificate(register["qingfeng"])
        certificate.company.name = "回滚不应出现有限公司"
        queue_certificate(certificate.id)
        db.session.flush()
        db.session.rollback()
    assert result_names(search_page(client, q="回滚不应出现")) == []


def test_check_lists_planted_differences_and_rebuild_repairs_them(app, runner, register):
    with app.app_context():
        # Changed behind the outbox's back: the index now shows an old name and a deleted certificate.
        db.session.execute(text("UPDATE company SET name = '偷偷改名有限公司' WHERE name = '远景售后服务有限公司'"))
        revoked = _certificate(register["revoked"])
        db.session.execute(text("DELETE FROM certificate WHERE id = :id"), {"id": revoked.id})
        db.session.commit()
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1
    assert "outdated in the index: 1" in result.output and register["renamed"] in result.output
    assert "in the index but not in the database: 1" in result.output and register["revoked"] in result.output
    rebuilt = runner.invoke(args=["search", "rebuild", "--procs", "1"])
    assert rebuilt.exit_code == 0, rebuilt.output
    again = runner.invoke(args=["search", "check"])
    assert again.exit_code == 0 and "index matches the database" in again.output


def test_check_lists_a_certificate_missing_from_the_index(app, runner, register):
    with app.app_context():
        add = Certificate(**{c.key: getattr(_certificate(register["hailan"]), c.key)
                             for c in Certificate.__table__.columns if c.key not in ("id", "number")},
                          number="99925SV99999R0")
        db.session.add(add)
        db.session.commit()  # no outbox row: the index never hears of it
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1 and "missing from the index: 1" in result.output and "99925SV99999R0" in result.output


def test_sync_applies_leftover_outbox_rows(app, client, runner, register):
    with app.app_context():
        state().mode = "external"  # as under gunicorn: the web process does not index
        certificate = _certificate(register["qingfeng"])
        certificate.company.name = "北京新风暖通有限公司"
        queue_certificate(certificate.id)
        db.session.commit()
    assert result_names(search_page(client, q="新风暖通")) == []
    result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 0 and "applied 1 outbox rows" in result.output
    assert result_names(search_page(client, q="新风暖通")) == ["北京新风暖通有限公司"]


def test_external_mode_web_process_never_writes_and_the_worker_drains(tmp_path, backend):
    app = make_app(tmp_path, backend, SEARCH_INDEXER="external")
    with app.app_context():
        build_register()
        assert state().store.current_name() is None  # nothing indexed by the web process
    result = app.test_cli_runner().invoke(args=["search", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "青岛海澜家电有限公司" in result_names(search_page(app.test_client(), q="海澜"))
    with app.app_context():
        assert pending_count(db.session, state().store) == 0
        db.session.remove()
        db.engine.dispose()


def test_with_the_index_directory_deleted_search_answers_from_the_database_with_a_notice(app, client, register):
    with app.app_context():
        shutil.rmtree(state().store.root)
    page = search_page(client, q="海澜")
    assert "青岛海澜家电有限公司" in result_names(page)
    assert "search-degraded" in page
    response = client.get("/healthz")
    health = response.get_json()
    assert response.status_code == 200 and health["status"] == "degraded"
    assert health["checks"]["search"]["status"] == "degraded"
    assert health["checks"]["search"]["index"] == "missing"
    # Filters, facets, sorting and exact identifiers keep working in the fallback.
    filtered = search_page(client, q="电器", province="浙江省", sort="level")
    assert sorted(result_names(filtered)) == ["杭州撤销电器有限公司", "杭州暂停电器有限公司"]
    assert "浙江省" in filtered
    assert client.get("/search", query_string={"q": "99925 SV 90001 R0"}).status_code == 302


def test_the_database_fallback_also_finds_a_company_by_its_former_name(app, client, register):
    with app.app_context():
        shutil.rmtree(state().store.root)
    page = search_page(client, q="老字号修理")
    assert "search-degraded" in page
    assert result_names(page) == ["远景售后服务有限公司"]


def test_rebuild_after_loss_restores_full_search_and_health(app, client, runner, register):
    with app.app_context():
        shutil.rmtree(state().store.root)
    result = runner.invoke(args=["search", "rebuild", "--procs", "1"])
    assert result.exit_code == 0, result.output
    page = search_page(client, q="海爾")
    assert "search-degraded" not in page and result_names(page)[0] == "海尔智家股份有限公司"
    assert client.get("/healthz").get_json()["checks"]["search"]["status"] == "ok"


def test_a_corrupted_index_falls_back_instead_of_failing(app, client, register):
    with app.app_context():
        store = state().store
        state().holder.close()
        for toc in store.current_path().glob("*.toc"):
            toc.write_bytes(b"garbage")
    page = search_page(client, q="海澜")
    assert "search-degraded" in page and "青岛海澜家电有限公司" in result_names(page)
    assert client.get("/healthz").get_json()["checks"]["search"]["status"] == "degraded"


def test_healthy_search_is_reported_ok_with_document_count(client, register):
    search = client.get("/healthz").get_json()["checks"]["search"]
    assert search["status"] == "ok" and search["documents"] == 9 and search["pending"] == 0


WRITER_SCRIPT = textwrap.dedent("""
    import sys
    from registry import create_app
    from registry.extensions import db
    from registry.certificates.models import Certificate
    from registry.search.outbox import queue_certificate

    uri, index_dir, label, ids = sys.argv[1], sys.argv[2], sys.argv[3], [int(i) for i in sys.argv[4].split(",")]
    app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "SEARCH_INDEX_DIR": index_dir, "REGISTRY_TODAY": "2026-06-01",
                      "SEARCH_INLINE_LOCK_WAIT": 30, "INSTANCE_PATH": index_dir + "-instance"})
    with app.app_context():
        for round_ in range(6):
            for cert_id in ids:
                certificate = db.session.get(Certificate, cert_id)
                certificate.scope = f"并发{label}第{round_}轮 空调维修"
                queue_certificate(cert_id)
                db.session.commit()
    print("done", label)
""")


def test_two_processes_writing_at_once_never_show_a_lock_error_and_lose_nothing(app, client, runner, register):
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    index_dir = app.config["SEARCH_INDEX_DIR"]
    with app.app_context():
        ids = [c.id for c in db.session.scalars(select(Certificate).order_by(Certificate.id))]
        db.session.remove()
    halves = {"甲": ids[::2], "乙": ids[1::2]}
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    processes = [subprocess.Popen([sys.executable, "-c", WRITER_SCRIPT, uri, index_dir, label,
                                   ",".join(map(str, half))], env=env, cwd=PROJECT_ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for label, half in halves.items()]
    outputs = [p.communicate(timeout=180) for p in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        assert "LockError" not in err and "Traceback" not in err, err
        assert out.startswith("done")
    check = runner.invoke(args=["search", "check"])
    assert check.exit_code == 0, check.output  # every last edit is in the index, nothing pending
    assert len(result_names(search_page(client, q="并发甲第5轮"))) == len(halves["甲"])
    assert len(result_names(search_page(client, q="并发乙第5轮"))) == len(halves["乙"])


def test_a_fresh_empty_register_is_healthy_without_an_index(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"
    page = search_page(client, q="海尔")
    assert "search-degraded" not in page and result_names(page) == []
