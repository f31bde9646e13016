"""Pure RFC 6962 / RFC 9162 Merkle tree arithmetic over stored perfect subtrees.

The tree is kept as its *perfect* subtrees: node (level, index) is the hash of leaves
[index * 2**level, (index + 1) * 2**level). Every hash a proof needs is either such a node or the hash of a
right-edge range [k, n), which folds from O(log n) perfect nodes. So proofs are planned first (which nodes),
the nodes are read in one query, and the proof is assembled here without touching the database.

Leaf and node hashing follow RFC 6962 §2.1: leaf = SHA-256(0x00 ‖ data), node = SHA-256(0x01 ‖ left ‖ right).
Indices are 0-based leaf indices (ledger entry seq − 1).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping

Node = tuple[int, int]  # (level, index)
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _largest_power_below(n: int) -> int:
    """The largest power of two strictly smaller than n (n ≥ 2): RFC 6962's split point k."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_parts(start: int, end: int) -> list[Node]:
    """[start, end) as perfect subtrees, left to right (largest aligned block first)."""
    parts, position = [], start
    while position < end:
        level = (end - position).bit_length() - 1
        while position % (1 << level):
            level -= 1
        parts.append((level, position >> level))
        position += 1 << level
    return parts


def range_hash(start: int, end: int, nodes: Mapping[Node, bytes]) -> bytes:
    """MTH(D[start:end]) for a range the RFC recursion produces (start aligned to the range's split)."""
    parts = [nodes[part] for part in perfect_parts(start, end)]
    value = parts[-1]
    for part in reversed(parts[:-1]):
        value = node_hash(part, value)
    return value


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.3.1 PATH(m, D[0:n]) as the leaf ranges whose hashes form the proof, leaf upward."""
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _largest_power_below(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start = start + k
    ranges.reverse()  # the recursion appends on the way back up: the leaf's sibling comes first
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.4.1 PROOF(m, D[0:n]) as leaf ranges (0 < m ≤ n; empty when m == n)."""
    ranges: list[tuple[int, int]] = []
    m, start, end, complete = old_size, 0, new_size, True
    while True:
        n = end - start
        if m == n:
            if not complete:
                ranges.append((start, end))
            break
        k = _largest_power_below(n)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            m, start, complete = m - k, start + k, False
    ranges.reverse()
    return ranges


def nodes_for(ranges: Iterable[tuple[int, int]]) -> set[Node]:
    """Every stored node needed to hash the given ranges."""
    needed: set[Node] = set()
    for start, end in ranges:
        needed.update(perfect_parts(start, end))
    return needed


def root_nodes(size: int) -> list[Node]:
    return perfect_parts(0, size) if size else []


def root_from(size: int, nodes: Mapping[Node, bytes]) -> bytes:
    return range_hash(0, size, nodes) if size else EMPTY_ROOT


def nodes_to_store(index: int, leaf: bytes, left_siblings: Mapping[Node, bytes]) -> list[tuple[Node, bytes]]:
    """The nodes that appending leaf `index` completes: the leaf, then each parent while we are a right child."""
    stored = [((0, index), leaf)]
    level, position, value = 0, index, leaf
    while position % 2 == 1:
        value = node_hash(left_siblings[(level, position - 1)], value)
        level, position = level + 1, position // 2
        stored.append(((level, position), value))
    return stored


def left_siblings_needed(index: int) -> list[Node]:
    """The left siblings read when appending leaf `index` (one per trailing 1-bit of index)."""
    needed, level, position = [], 0, index
    while position % 2 == 1:
        needed.append((level, position - 1))
        level, position = level + 1, position // 2
    return needed


# ---------------------------------------------------------------- verification (RFC 9162 §2.1.3.2, §2.1.4.2)

def root_from_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """The root an inclusion proof leads to; raises ValueError when the proof cannot belong to (index, size)."""
    if not 0 <= index < size:
        raise ValueError("index is not inside the tree")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ValueError("proof is too long")
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("proof is too short")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> bool:
    try:
        return root_from_inclusion(index, size, leaf, proof) == root
    except ValueError:
        return False


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: whether `proof` shows the tree of old_size is a prefix of the tree of new_size."""
    if not 0 < old_size <= new_size:
        return old_size == 0 and not proof  # the empty tree is a prefix of everything
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node of the path
        proof = [old_root] + list(proof)
    if not proof:
        return False
    fn, sn = old_size - 1, new_size - 1
    while fn % 2 == 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


def build(hashes: Callable[[set[Node]], Mapping[Node, bytes]], ranges: list[tuple[int, int]]) -> list[bytes]:
    """Hash each range, reading all nodes it needs through `hashes` at once."""
    nodes = hashes(nodes_for(ranges))
    return [range_hash(start, end, nodes) for start, end in ranges]
