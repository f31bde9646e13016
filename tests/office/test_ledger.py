"""The public ledger: export, independent recomputation, `flask ledger verify`, tampering, concurrent writers."""
from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from sqlalchemy import select, text

from registry.certificates import lifecycle
from registry.extensions import db
from registry.ledger.models import LedgerEntry
from registry.ledger.services import append_entry
from tests.factories import make_certificate

HASHED = ("seq", "certificate_number", "kind", "effective_on", "status_after", "level_after", "scheme_id",
          "public_text", "reason", "actor_role", "data", "recorded_at", "prev_hash")


def _three_entries(app) -> str:
    with app.app_context():
        certificate = make_certificate()
        lifecycle.record_event(certificate, "issued", actor_role="officer", effective_on=certificate.issued_on,
                               public_text="颁发，等级 四星")
        lifecycle.revoke_certificate(certificate, reason="严重违规", actor=lifecycle.SYSTEM)
        append_entry(kind="notice", actor_role="admin", public_text="公告：\"引号\" 与 emoji ✓")
        db.session.commit()
        return certificate.number


def independent_check(lines: list[str]) -> bool:
    """What anyone can do with the export and nothing but the standard library (as in docs/back-office.md)."""
    previous = "0" * 64
    for line in lines:
        entry = json.loads(line)
        body = {k: entry[k] for k in HASHED}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        if entry["prev_hash"] != previous or hashlib.sha256(canonical).hexdigest() != entry["hash"]:
            return False
        previous = entry["hash"]
    return True


def test_export_streams_every_entry_and_anyone_can_recompute_the_chain(app, client):
    _three_entries(app)
    response = client.get("/ledger.jsonl")
    assert response.status_code == 200 and response.mimetype == "application/x-ndjson"
    lines = response.get_data(as_text=True).splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3]
    assert independent_check(lines)
    assert json.loads(lines[1])["actor_role"] == "system" and json.loads(lines[1])["reason"] == "严重违规"


def test_export_pages_with_after_seq_and_limit(app, client):
    _three_entries(app)
    page = client.get("/ledger.jsonl?after_seq=1&limit=1")
    assert [json.loads(line)["seq"] for line in page.get_data(as_text=True).splitlines()] == [2]
    assert 'rel="next"' in page.headers["Link"] and "after_seq=2" in page.headers["Link"]
    last = client.get("/ledger.jsonl?after_seq=2&limit=5")
    assert "Link" not in last.headers and len(last.get_data(as_text=True).splitlines()) == 1


def test_export_refuses_bad_paging_values_clearly(client):
    for query in ("limit=abc", "limit=0", "limit=100000", "after_seq=-1", "after_seq=99999999999999999999"):
        response = client.get("/ledger.jsonl?" + query)
        assert response.status_code == 422, query


def test_verify_passes_on_an_intact_chain(app, runner):
    _three_entries(app)
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 0 and "ledger ok: 3 entries" in result.output


def test_verify_names_the_first_entry_edited_behind_the_apps_back(app, runner):
    _three_entries(app)
    with app.app_context():
        db.session.execute(text("UPDATE ledger_entry SET reason = '无' WHERE seq = 2"))
        db.session.commit()
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1
    assert "entry #2 has been altered" in result.output


def test_verify_catches_a_rewritten_hash_through_the_next_link(app, runner):
    _three_entries(app)
    with app.app_context():
        # A forger recomputes entry 2's hash after editing it; entry 3 still points at the old one.
        from registry.ledger.chain import entry_hash
        from registry.ledger.services import entry_fields
        db.session.execute(text("UPDATE ledger_entry SET public_text = '伪造' WHERE seq = 2"))
        entry = db.session.get(LedgerEntry, 2)
        db.session.refresh(entry)
        db.session.execute(text("UPDATE ledger_entry SET hash = :h WHERE seq = 2"), {"h": entry_hash(entry_fields(entry))})
        db.session.commit()
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1 and "entry #3 does not point to the hash of entry #2" in result.output


def test_verify_catches_a_deleted_entry(app, runner):
    _three_entries(app)
    with app.app_context():
        db.session.execute(text("DELETE FROM ledger_entry WHERE seq = 2"))
        db.session.commit()
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1 and "expected #2, found #3" in result.output


def test_verify_checks_a_downloaded_export_file(app, client, runner, tmp_path):
    _three_entries(app)
    good = tmp_path / "ledger.jsonl"
    good.write_text(client.get("/ledger.jsonl").get_data(as_text=True), encoding="utf-8")
    assert runner.invoke(args=["ledger", "verify", "--file", str(good)]).exit_code == 0
    bad = tmp_path / "bad.jsonl"
    bad.write_text(good.read_text(encoding="utf-8").replace("严重违规", "轻微违规"), encoding="utf-8")
    result = runner.invoke(args=["ledger", "verify", "--file", str(bad)])
    assert result.exit_code == 1 and "#2" in result.output


def test_concurrent_writers_never_fork_the_chain(app):
    writers = 8
    barrier = threading.Barrier(writers)
    failures: list[str] = []

    def write(n: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                append_entry(kind="notice", actor_role="admin", public_text=f"并发写入 {n}")
                db.session.commit()
            except Exception as error:  # a clean failure is allowed; a fork is not
                db.session.rollback()
                failures.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with app.app_context():
        entries = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq)).all()
        assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
        assert len(entries) + len(failures) == writers
        assert len(entries) == writers, failures  # with the head lock, every writer gets through
        assert all(entries[i].prev_hash == entries[i - 1].hash for i in range(1, len(entries)))
        from registry.ledger.services import verify_chain
        assert verify_chain()[2] is None


def test_code_offers_no_update_or_delete_path_for_ledger_entries():
    root = Path(__file__).resolve().parents[2] / "registry"
    source = "\n".join(p.read_text(encoding="utf-8") for p in root.rglob("*.py"))
    for forbidden in ("update(LedgerEntry", "delete(LedgerEntry", "LedgerEntry).delete", "LedgerEntry).update",
                      "UPDATE ledger_entry SET", "DELETE FROM ledger_entry"):
        occurrences = source.count(forbidden)
        if forbidden == "UPDATE ledger_entry SET":
            assert occurrences == 1  # the no-op write that takes SQLite's lock (WHERE 0 = 1)
        else:
            assert occurrences == 0, forbidden


def test_the_orm_refuses_to_change_or_delete_an_entry(app):
    import pytest

    from registry.ledger.models import LedgerIsAppendOnly
    _three_entries(app)
    with app.app_context():
        entry = db.session.get(LedgerEntry, 1)
        entry.reason = "改写"
        with pytest.raises(LedgerIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.get(LedgerEntry, 2))
        with pytest.raises(LedgerIsAppendOnly):
            db.session.flush()
        db.session.rollback()


def test_several_appends_in_one_transaction_chain_and_a_rollback_forgets_them(app):
    with app.app_context():
        append_entry(kind="notice", actor_role="admin", public_text="撤回的条目")
        db.session.rollback()
        first = append_entry(kind="notice", actor_role="admin", public_text="一")
        second = append_entry(kind="notice", actor_role="admin", public_text="二")
        db.session.commit()
        third = append_entry(kind="notice", actor_role="admin", public_text="三")
        db.session.commit()
        assert (first.seq, second.seq, third.seq) == (1, 2, 3)
        assert second.prev_hash == first.hash and third.prev_hash == second.hash
        from registry.ledger.services import verify_chain
        assert verify_chain()[2] is None
