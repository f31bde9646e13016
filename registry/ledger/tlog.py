"""The transparency log over the ledger: the stored Merkle tree, proofs and signed checkpoints.

Leaf i is SHA-256(0x00 ‖ canonical bytes of entry seq i+1) (chain.canonical_bytes, which includes prev_hash,
so the tree also commits to the chain). The tree grows in the same transaction as the ledger, under the
ledger's lock (services.lock_head), so it never forks from it. See docs/transparency.md.
"""
from __future__ import annotations

import base64
import datetime as dt
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, func, insert, select

from registry import clock
from registry.extensions import db
from registry.ledger import merkle, note
from registry.ledger.chain import canonical_bytes
from registry.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerTreeNode

_FRONTIER_KEY = "registry.ledger_frontier"
BATCH = 1000


class ProofRequestInvalid(ValueError):
    """Sizes or indices that no proof exists for; `code` says which rule, the view words it."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# ---------------------------------------------------------------- reading nodes

LEVEL_SHIFT = 48  # node key = level · 2^48 + index: room for 2^48 entries


def node_key(node: merkle.Node) -> int:
    return (node[0] << LEVEL_SHIFT) + node[1]


def _found_nodes(wanted) -> dict[merkle.Node, bytes]:
    keys = sorted({node_key(node) for node in wanted})
    found: dict[merkle.Node, bytes] = {}
    mask = (1 << LEVEL_SHIFT) - 1
    for offset in range(0, len(keys), 500):
        rows = db.session.execute(select(LedgerTreeNode.node, LedgerTreeNode.hash)
                                  .where(LedgerTreeNode.node.in_(keys[offset:offset + 500])))
        found.update({(key >> LEVEL_SHIFT, key & mask): bytes(value) for key, value in rows})
    return found


def read_nodes(wanted) -> dict[merkle.Node, bytes]:
    wanted = set(wanted)
    found = _found_nodes(wanted)
    missing = wanted - set(found)
    if missing:
        raise RuntimeError(f"ledger tree is missing nodes {sorted(missing)[:5]}: run `flask ledger tree rebuild`")
    return found


def tree_size() -> int:
    """Leaves in the stored tree (may trail the ledger until the next append or `flask ledger tree rebuild`)."""
    cached = db.session.info.get(_FRONTIER_KEY)
    if cached is not None:
        return cached[0]
    last = db.session.scalar(select(func.max(LedgerTreeNode.node)).where(LedgerTreeNode.node < 1 << LEVEL_SHIFT))
    return 0 if last is None else last + 1


def root(size: int) -> bytes:
    return merkle.root_from(size, read_nodes(merkle.root_nodes(size)))


# ---------------------------------------------------------------- growing the tree

def _frontier() -> tuple[int, dict]:
    """(tree size, its right edge) for this transaction: the perfect subtrees the next appends combine with."""
    cached = db.session.info.get(_FRONTIER_KEY)
    if cached is None:
        size = tree_size()
        cached = (size, read_nodes(merkle.root_nodes(size)))
        db.session.info[_FRONTIER_KEY] = cached
    return cached


def _add_leaves(datas) -> None:
    size, edge = _frontier()
    rows = []
    for data in datas:
        stored = merkle.nodes_to_store(size, merkle.leaf_hash(data), edge)
        for consumed in merkle.left_siblings_needed(size):
            del edge[consumed]
        edge[stored[-1][0]] = stored[-1][1]
        rows.extend({"node": node_key(node), "hash": value} for node, value in stored)
        size += 1
        if len(rows) >= BATCH:
            db.session.execute(insert(LedgerTreeNode), rows)
            rows = []
    if rows:
        db.session.execute(insert(LedgerTreeNode), rows)
    db.session.info[_FRONTIER_KEY] = (size, edge)


def catch_up(until_seq: int) -> int:
    """Add leaves for ledger entries the tree does not have yet, up to `until_seq`; the caller holds the lock.

    Returns the number of leaves added (0 in the steady state, where each append adds its own leaf).
    """
    size, _edge = _frontier()
    added = 0
    while size < until_seq:
        # Plain rows, not ORM objects: a backfill of a long ledger must not fill the identity map.
        columns = [getattr(LedgerEntry, name) for name in _hashed()]
        entries = db.session.execute(select(*columns).where(LedgerEntry.seq > size, LedgerEntry.seq <= until_seq)
                                     .order_by(LedgerEntry.seq).limit(BATCH)).mappings().all()
        if not entries:
            break
        if entries[0]["seq"] != size + 1:
            raise RuntimeError(f"ledger sequence gap before entry #{entries[0]['seq']}")
        _add_leaves(canonical_bytes(dict(e)) for e in entries)
        size, added = size + len(entries), added + len(entries)
    return added


def _hashed():
    from registry.ledger.chain import HASHED_FIELDS
    return HASHED_FIELDS


def append_leaf(seq: int, fields: dict) -> None:
    """Called by services.append_entry (lock held): catch up if the tree trails, then add this entry's leaf."""
    if _FRONTIER_KEY not in db.session.info:
        # The steady state costs one read: the right edge of the tree of seq − 1 leaves plus its last leaf.
        # All there means the tree is exactly that size; anything missing (a ledger older than the tree)
        # takes the slow path, which finds the tree's real size and catches up.
        expected = seq - 1
        edge = merkle.root_nodes(expected)
        found = _found_nodes(edge + ([(0, expected - 1)] if expected else []))
        if len(found) == len(set(edge) | ({(0, expected - 1)} if expected else set())):
            db.session.info[_FRONTIER_KEY] = (expected, {node: found[node] for node in edge})
        else:
            catch_up(seq - 1)
    size = tree_size()
    if size < seq - 1:
        catch_up(seq - 1)
        size = tree_size()
    if size != seq - 1:
        raise RuntimeError(f"ledger tree has {size} leaves, cannot add entry #{seq}")
    _add_leaves([canonical_bytes(fields)])


def forget(session) -> None:
    session.info.pop(_FRONTIER_KEY, None)


def rebuild() -> int:
    """Recompute the whole tree from the ledger (after an upgrade, or to check it); the caller commits."""
    from registry.ledger.services import head, lock_head
    lock_head()
    db.session.execute(delete(LedgerTreeNode))
    db.session.info[_FRONTIER_KEY] = (0, {})
    last = head()
    return catch_up(last.seq if last else 0)


# ---------------------------------------------------------------- proofs

def _check_size(size: int) -> int:
    current = tree_size()
    if size > current:
        raise ProofRequestInvalid("size_too_large")
    return current


def inclusion_proof(index: int, size: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1 inclusion proof of leaf `index` (0-based, = seq − 1) in the tree of `size` leaves.

    Raises:
        ProofRequestInvalid: index not below size, or size beyond the current tree.
    """
    if size < 1 or not 0 <= index < size:
        raise ProofRequestInvalid("index_outside")
    _check_size(size)
    return merkle.build(read_nodes, merkle.inclusion_ranges(index, size))


def consistency_proof(old_size: int, new_size: int) -> list[bytes]:
    """RFC 9162 §2.1.4.1 consistency proof between two tree sizes (1 ≤ old ≤ new ≤ current).

    Raises:
        ProofRequestInvalid: sizes out of order, zero, or beyond the current tree.
    """
    if not 1 <= old_size <= new_size:
        raise ProofRequestInvalid("sizes_order")
    _check_size(new_size)
    return merkle.build(read_nodes, merkle.consistency_ranges(old_size, new_size))


def leaf_of(entry: LedgerEntry) -> bytes:
    return merkle.leaf_hash(canonical_bytes({name: getattr(entry, name) for name in _hashed()}))


def b64(values) -> list[str]:
    return [base64.b64encode(value).decode() for value in values]


# ---------------------------------------------------------------- checkpoints

def origin() -> str:
    """The checkpoint's origin line: LEDGER_ORIGIN, else the public host and path with "/ledger"."""
    configured = current_app.config.get("LEDGER_ORIGIN")
    if configured:
        return configured
    parts = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    return (parts.netloc + parts.path.rstrip("/") + "/ledger") or "registry/ledger"


def signing_key():
    from registry.procurement.services import current_signing_key
    return current_signing_key()


def verifier_key() -> str:
    return note.verifier_key(origin(), signing_key().public_key())


def latest_checkpoint() -> LedgerCheckpoint | None:
    return db.session.scalar(select(LedgerCheckpoint).order_by(LedgerCheckpoint.tree_size.desc()).limit(1))


def current_checkpoint() -> LedgerCheckpoint:
    """The checkpoint of the whole current tree, signed and stored now if the tree grew since the last one.

    Flushes a new row when it issues one; the caller commits.
    """
    from registry.ledger.services import head, lock_head
    latest = latest_checkpoint()
    if latest is not None and latest.tree_size == tree_size() and (head() is None or head().seq == latest.tree_size):
        return latest  # the steady state of a read: nothing to sign, no lock
    lock_head()  # lock, then read, then write: two requests never sign the same size twice
    last_entry = head()
    catch_up(last_entry.seq if last_entry else 0)
    size = tree_size()
    latest = latest_checkpoint()
    if latest is not None and latest.tree_size >= size:
        return latest
    root_hash = root(size)
    text = note.sign_note(note.checkpoint_body(origin(), size, root_hash), origin(), signing_key())
    checkpoint = LedgerCheckpoint(tree_size=size, root_hash=root_hash, note=text,
                                  issued_at=clock.utcnow().replace(microsecond=0))
    db.session.add(checkpoint)
    db.session.flush()
    return checkpoint


def list_checkpoints(limit: int = 100, before: int | None = None) -> list[LedgerCheckpoint]:
    query = select(LedgerCheckpoint).order_by(LedgerCheckpoint.tree_size.desc()).limit(limit)
    if before is not None:
        query = query.where(LedgerCheckpoint.tree_size < before)
    return list(db.session.scalars(query))


def entry_proof(entry: LedgerEntry, checkpoint: LedgerCheckpoint) -> dict:
    """Everything needed to check `entry` offline against `checkpoint`: index, leaf bytes, proof (JSON + text)."""
    proof = inclusion_proof(entry.seq - 1, checkpoint.tree_size)
    data = canonical_bytes({name: getattr(entry, name) for name in _hashed()})
    return {
        "index": entry.seq - 1,
        "seq": entry.seq,
        "tree_size": checkpoint.tree_size,
        "entry": data.decode("utf-8"),
        "leaf_hash": base64.b64encode(merkle.leaf_hash(data)).decode(),
        "inclusion_proof": b64(proof),
        "tlog_proof": note.tlog_proof(entry.seq - 1, proof, checkpoint.note),
    }


def issued_at_text(checkpoint: LedgerCheckpoint) -> str:
    return checkpoint.issued_at.replace(tzinfo=dt.UTC).isoformat()


def receipt_proofs(numbers: list[str]) -> dict:
    """For a receipt: the checkpoint it was verified against and, per certificate, its latest entry's proof.

    Issues a checkpoint if the tree grew (flushed; the caller commits, so the checkpoint a receipt cites is
    always among those /ledger/checkpoints lists).
    """
    checkpoint = current_checkpoint()
    latest = dict(db.session.execute(
        select(LedgerEntry.certificate_number, func.max(LedgerEntry.seq))
        .where(LedgerEntry.certificate_number.in_(sorted(set(numbers))), LedgerEntry.seq <= checkpoint.tree_size)
        .group_by(LedgerEntry.certificate_number)).all()) if numbers else {}
    entries = {entry.seq: entry for entry in db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.seq.in_(list(latest.values()))))} if latest else {}
    return {
        "origin": origin(),
        "verifier_key": verifier_key(),
        "checkpoint": checkpoint.note,
        "tree_size": checkpoint.tree_size,
        "entries": [{"number": number, **entry_proof(entries[latest[number]], checkpoint)}
                    for number in sorted(latest)],
    }
