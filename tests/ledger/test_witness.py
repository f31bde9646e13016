"""`flask ledger witness URL`: against the registry served over real HTTP, a growing log is accepted and a
rewritten history is reported loudly with both signed checkpoints."""
from __future__ import annotations

import threading

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, text
from werkzeug.serving import make_server

from registry.extensions import db
from registry.ledger import note
from registry.ledger.models import LedgerCheckpoint, LedgerTreeNode
from tests.ledger.test_tlog import _append


@pytest.fixture
def served(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def _witness(runner, client, url, tmp_path):
    key = client.get("/ledger/key").get_data(as_text=True).strip()
    return runner.invoke(args=["ledger", "witness", url, "--key", key, "--state", str(tmp_path / "seen.jsonl")])


def test_witness_accepts_a_log_that_only_grew(app, client, runner, served, tmp_path):
    _append(app, 3)
    first = _witness(runner, client, served, tmp_path)
    _append(app, 4)
    second = _witness(runner, client, served, tmp_path)
    assert first.exit_code == 0 and "first checkpoint" in first.output and "3 entries" in first.output
    assert second.exit_code == 0 and "consistent: 3 → 7 entries" in second.output
    assert len((tmp_path / "seen.jsonl").read_text().splitlines()) == 2


def test_witness_reports_a_rewritten_history_with_both_checkpoints(app, client, runner, served, tmp_path):
    _append(app, 4)
    assert _witness(runner, client, served, tmp_path).exit_code == 0
    with app.app_context():  # the operator rewrites entry 2, rebuilds the tree and signs anew
        db.session.execute(text("UPDATE ledger_entry SET public_text = 'rewritten' WHERE seq = 2"))
        db.session.execute(delete(LedgerTreeNode))
        db.session.execute(delete(LedgerCheckpoint))
        db.session.commit()
    _append(app, 2)
    result = _witness(runner, client, served, tmp_path)
    assert result.exit_code == 2
    assert "NOT CONSISTENT" in result.output and "no consistency proof joins the 4-entry checkpoint" in result.output
    assert result.output.count("\u2014 registry.test/ledger ") == 2
    assert len((tmp_path / "seen.jsonl").read_text().splitlines()) == 1  # the forged one is not accepted


def test_witness_refuses_a_checkpoint_signed_by_another_key(app, client, runner, served, tmp_path):
    _append(app, 1)
    other = note.verifier_key("registry.test/ledger", Ed25519PrivateKey.generate().public_key())
    result = runner.invoke(args=["ledger", "witness", served, "--key", other, "--state", str(tmp_path / "s.jsonl")])
    assert result.exit_code == 1 and "not signed by this key" in result.output
