"""The transparency log on a real database: the tree grows with the ledger, checkpoints are signed C2SP notes
that every client can check, and proofs from the HTTP endpoints verify against pymerkle's roots."""
from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pymerkle import InmemoryTree
from sqlalchemy import delete, text

from registry.extensions import db
from registry.ledger import merkle, note, services, tlog
from registry.ledger.chain import canonical_bytes
from registry.ledger.models import LedgerTreeNode
from tests.factories import make_certificate


def _append(app, count: int) -> None:
    with app.app_context():
        certificate = make_certificate()
        for i in range(count):
            services.append_entry(kind="note", actor_role="registrar", certificate=certificate,
                                  public_text=f"entry {i} 变更", data={"i": i})
        db.session.commit()


def _exported_leaves(client) -> list[bytes]:
    """The leaves recomputed from the public export alone (what an outsider has)."""
    lines = client.get("/ledger.jsonl").get_data(as_text=True).splitlines()
    return [canonical_bytes(json.loads(line)) for line in lines]


def _public_key(app) -> Ed25519PublicKey:
    with app.app_context():
        return tlog.signing_key().public_key()


def _checkpoint(client, app):
    return note.open_checkpoint(client.get("/ledger/checkpoint").get_data(as_text=True), "registry.test/ledger",
                                _public_key(app))


def test_checkpoint_is_a_signed_note_whose_root_pymerkle_recomputes_from_the_export(app, client):
    _append(app, 13)
    checkpoint = _checkpoint(client, app)
    theirs = InmemoryTree(algorithm="sha256")
    for leaf in _exported_leaves(client):
        theirs.append_entry(leaf)
    assert checkpoint.origin == "registry.test/ledger"
    assert checkpoint.size == 13
    assert checkpoint.root == theirs.get_root()


def test_checkpoint_text_matches_the_c2sp_layout(app, client):
    _append(app, 3)
    body, blank, signature = client.get("/ledger/checkpoint").get_data(as_text=True).partition("\n\n")
    lines = body.split("\n")
    assert lines[:2] == ["registry.test/ledger", "3"] and len(base64.b64decode(lines[2])) == 32
    assert signature.startswith("\u2014 registry.test/ledger ") and signature.endswith("\n")
    key_line = client.get("/ledger/key").get_data(as_text=True).strip()
    name, key_hash, key = key_line.split("+", 2)
    assert name == "registry.test/ledger"
    assert base64.b64decode(signature.split(" ")[2])[:4].hex() == key_hash
    assert base64.b64decode(key)[0] == 1


def test_a_changed_byte_in_the_checkpoint_fails_its_signature(app, client):
    _append(app, 2)
    text_ = client.get("/ledger/checkpoint").get_data(as_text=True)
    forged = text_.replace("\n2\n", "\n3\n", 1)
    try:
        note.open_checkpoint(forged, "registry.test/ledger", _public_key(app))
    except note.NoteInvalid as error:
        assert str(error) == "bad signature"
    else:
        raise AssertionError("a forged checkpoint verified")


def test_every_checkpoint_is_kept_and_listed(app, client):
    _append(app, 2)
    first = _checkpoint(client, app)
    assert _checkpoint(client, app).size == 2  # asking again issues nothing new
    _append(app, 3)
    second = _checkpoint(client, app)
    listed = client.get("/ledger/checkpoints?format=json").get_json()["checkpoints"]
    assert [c["tree_size"] for c in listed] == [5, 2]
    assert [c["checkpoint"] for c in listed] == [second.text, first.text]
    page = client.get("/ledger/checkpoints").get_data(as_text=True)
    assert "registry.test/ledger+" in page and base64.b64encode(first.root).decode() in page


def test_inclusion_proofs_from_the_endpoint_verify_for_every_index_and_size(app, client):
    _append(app, 11)
    leaves = [merkle.leaf_hash(leaf) for leaf in _exported_leaves(client)]
    theirs = InmemoryTree(algorithm="sha256")
    for leaf in _exported_leaves(client):
        theirs.append_entry(leaf)
    for size in range(1, 12):
        for index in range(size):
            answer = client.get(f"/ledger/proof/inclusion?index={index}&size={size}").get_json()
            proof = [base64.b64decode(h) for h in answer["inclusion_path"]]
            assert merkle.root_from_inclusion(index, size, leaves[index], proof) == theirs.get_root(size)


def test_consistency_proofs_from_the_endpoint_link_every_pair_of_sizes(app, client):
    _append(app, 9)
    theirs = InmemoryTree(algorithm="sha256")
    for leaf in _exported_leaves(client):
        theirs.append_entry(leaf)
    for old in range(1, 10):
        for new in range(old, 10):
            answer = client.get(f"/ledger/proof/consistency?from={old}&to={new}").get_json()
            proof = [base64.b64decode(h) for h in answer["consistency_path"]]
            assert merkle.verify_consistency(old, new, theirs.get_root(old), theirs.get_root(new), proof)


def test_bad_proof_parameters_answer_400_with_a_message_never_500(app, client):
    _append(app, 4)
    cases = {
        "/ledger/proof/inclusion?index=4&size=4": "index must be smaller than size.",
        "/ledger/proof/inclusion?index=0&size=5": "The log is not that large yet: at most 4 entries.",
        "/ledger/proof/inclusion?index=x&size=4": "index must be a whole number.",
        "/ledger/proof/inclusion?index=-1&size=4": "index must be a whole number.",
        "/ledger/proof/inclusion?size=4": "index is required.",
        "/ledger/proof/inclusion?index=0&size=0": "size is out of range.",
        "/ledger/proof/inclusion?index=0&size=99999999999999999999999": "size is out of range.",
        "/ledger/proof/consistency?from=3&to=2": "from must be at least 1 and not larger than to.",
        "/ledger/proof/consistency?from=0&to=2": "from is out of range.",
        "/ledger/proof/consistency?from=1&to=9": "The log is not that large yet: at most 4 entries.",
        "/ledger/proof/consistency?from=1&to=%EF%BC%92": "to must be a whole number.",
    }
    for url, message in cases.items():
        response = client.get(url, headers={"Accept-Language": "en"})
        assert (response.status_code, response.get_json()["error"]["message"]) == (400, message), url


def test_bad_proof_parameters_are_explained_in_chinese(app, client):
    response = client.get("/ledger/proof/inclusion?index=x&size=1", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 400
    assert "整数" in response.get_json()["error"]["message"]


def test_entries_written_before_the_tree_existed_get_their_leaves_on_the_next_append(app, client):
    _append(app, 6)
    with app.app_context():
        expected = tlog.root(6)
        db.session.execute(delete(LedgerTreeNode))  # a ledger as it was before the upgrade
        db.session.commit()
    _append(app, 1)
    with app.app_context():
        assert tlog.tree_size() == 7
        assert tlog.inclusion_proof(0, 6) and tlog.root(6) == expected


def test_tree_rebuild_restores_the_tree_and_catches_a_rewritten_history(app, client, runner):
    _append(app, 5)
    _checkpoint(client, app)
    with app.app_context():
        db.session.execute(delete(LedgerTreeNode))
        db.session.commit()
    result = runner.invoke(args=["ledger", "tree", "rebuild"])
    assert result.exit_code == 0 and "5 leaves" in result.output
    assert client.get("/ledger/proof/inclusion?index=4&size=5").status_code == 200
    with app.app_context():  # an operator edits an entry behind the application's back
        db.session.execute(text("UPDATE ledger_entry SET public_text = 'rewritten' WHERE seq = 2"))
        db.session.commit()
    result = runner.invoke(args=["ledger", "tree", "rebuild"])
    assert result.exit_code == 1
    assert "checkpoint at size 5 does NOT match the ledger" in result.output


def test_concurrent_appends_keep_the_tree_equal_to_the_ledger(app, client):
    import threading
    writers = 6
    barrier = threading.Barrier(writers)
    failures: list[str] = []

    def write(n: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                services.append_entry(kind="notice", actor_role="admin", public_text=f"并发 {n}")
                db.session.commit()
            except Exception as error:
                db.session.rollback()
                failures.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    theirs = InmemoryTree(algorithm="sha256")
    for leaf in _exported_leaves(client):
        theirs.append_entry(leaf)
    checkpoint = _checkpoint(client, app)
    assert checkpoint.size == writers and checkpoint.root == theirs.get_root()
