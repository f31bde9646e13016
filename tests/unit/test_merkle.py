"""The Merkle arithmetic against RFC 6962's own test vectors, a second implementation (pymerkle, not written
by this project) and a naive recomputation of MTH from all leaves, for every size and index."""
from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree

from registry.ledger import merkle

# The leaves and roots of the test vectors used by the Certificate Transparency implementations.
LEAVES = [bytes.fromhex(x) for x in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


class Tree:
    """The stored-node scheme of ledger/tlog.py, kept in a dict (same merkle functions, no database)."""

    def __init__(self):
        self.nodes, self.edge, self.size = {}, {}, 0

    def append(self, data: bytes) -> None:
        stored = merkle.nodes_to_store(self.size, merkle.leaf_hash(data), self.edge)
        for consumed in merkle.left_siblings_needed(self.size):
            del self.edge[consumed]
        self.edge[stored[-1][0]] = stored[-1][1]
        self.nodes.update(stored)
        self.size += 1

    def read(self, wanted):
        return {node: self.nodes[node] for node in wanted}

    def root(self, size):
        return merkle.root_from(size, self.read(merkle.root_nodes(size)))

    def inclusion(self, index, size):
        return merkle.build(self.read, merkle.inclusion_ranges(index, size))

    def consistency(self, old, new):
        return merkle.build(self.read, merkle.consistency_ranges(old, new))


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 §2.1 MTH, written straight from the definition."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return merkle.leaf_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return merkle.node_hash(mth(leaves[:k]), mth(leaves[k:]))


def _tree(leaves):
    tree = Tree()
    for leaf in leaves:
        tree.append(leaf)
    return tree


def test_roots_match_the_rfc6962_test_vectors_at_every_size():
    tree = _tree(LEAVES)
    assert [tree.root(size).hex() for size in range(1, 9)] == ROOTS


def test_known_inclusion_and_consistency_proofs_from_the_test_vectors():
    tree = _tree(LEAVES)
    assert [h.hex() for h in tree.inclusion(0, 8)] == [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]
    assert [h.hex() for h in tree.consistency(1, 8)] == [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]


def test_roots_and_proofs_agree_with_pymerkle_for_the_first_70_sizes():
    leaves = [f"entry {i}".encode() for i in range(70)]
    ours, theirs = _tree(leaves), InmemoryTree(algorithm="sha256")
    for leaf in leaves:
        theirs.append_entry(leaf)
    for size in range(1, 71):
        assert ours.root(size) == theirs.get_root(size)
        for index in range(size):
            # pymerkle's root through our proof: our path leads to *its* root.
            assert merkle.root_from_inclusion(index, size, merkle.leaf_hash(leaves[index]),
                                              ours.inclusion(index, size)) == theirs.get_root(size)
    for old in range(1, 71, 3):
        for new in range(old, 71, 5):
            assert merkle.verify_consistency(old, new, theirs.get_root(old), theirs.get_root(new),
                                             ours.consistency(old, new))


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 300), data=st.data())
def test_every_inclusion_proof_verifies_and_a_changed_entry_breaks_it(size, data):
    leaves = [i.to_bytes(4, "big") for i in range(size)]
    tree = _tree(leaves)
    index = data.draw(st.integers(0, size - 1))
    root = mth(leaves)
    proof = tree.inclusion(index, size)
    assert tree.root(size) == root
    assert merkle.verify_inclusion(index, size, merkle.leaf_hash(leaves[index]), proof, root)
    assert not merkle.verify_inclusion(index, size, merkle.leaf_hash(leaves[index] + b"x"), proof, root)
    if size > 1:
        assert not merkle.verify_inclusion((index + 1) % size, size, merkle.leaf_hash(leaves[index]), proof, root)


@settings(max_examples=60, deadline=None)
@given(new=st.integers(1, 300), data=st.data())
def test_every_consistency_proof_verifies_and_a_rewritten_prefix_breaks_it(new, data):
    old = data.draw(st.integers(1, new))
    leaves = [i.to_bytes(4, "big") for i in range(new)]
    tree = _tree(leaves)
    proof = tree.consistency(old, new)
    assert merkle.verify_consistency(old, new, mth(leaves[:old]), mth(leaves), proof)
    changed = data.draw(st.integers(0, old - 1))
    rewritten = leaves[:changed] + [b"rewritten"] + leaves[changed + 1:]
    assert not merkle.verify_consistency(old, new, mth(leaves[:old]), mth(rewritten), proof)
    assert not merkle.verify_consistency(old, new, mth(rewritten[:old]), mth(leaves), proof)


@pytest.mark.parametrize("index", [1, 2, 3, 7, 8, 1023, 1024, 999_999])
def test_an_append_reads_one_left_sibling_per_trailing_one_bit(index):
    assert len(merkle.left_siblings_needed(index)) == (index ^ (index + 1)).bit_length() - 1
    assert len(merkle.nodes_for(merkle.inclusion_ranges(index, 1_000_000))) <= 2 * 20
