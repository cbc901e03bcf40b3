"""RFC 9162 hashing and proofs against a direct transcription of the RFC's recursive definitions."""

from __future__ import annotations

import hashlib

import pytest

from privacy.merkle import (
    Frontier,
    Tree,
    leaf_hash,
    node_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)


def mth(leaves: list[bytes]) -> bytes:
    """MTH as written in RFC 9162, 2.1.1."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


LEAVES = [leaf_hash(f"entry {i}".encode()) for i in range(40)]


def test_prefixes_separate_leaves_from_nodes() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    # RFC 9162 test vector: the empty tree is SHA-256 of the empty string
    assert root_of([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("n", range(1, 41))
def test_frontier_root_matches_rfc_definition(n: int) -> None:
    assert root_of(LEAVES[:n]) == mth(LEAVES[:n])


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 8, 13, 32, 33, 40])
def test_inclusion_proofs_verify_and_reject_wrong_leaf(n: int) -> None:
    tree = Tree(LEAVES)
    root = mth(LEAVES[:n])
    for i in range(n):
        proof = tree.inclusion_proof(i, n)
        assert verify_inclusion(leaf=LEAVES[i], index=i, size=n, proof=proof, root=root)
        assert not verify_inclusion(leaf=leaf_hash(b"forged"), index=i, size=n, proof=proof, root=root)
        if n > 1:
            assert not verify_inclusion(leaf=LEAVES[i], index=(i + 1) % n, size=n, proof=proof, root=root)


@pytest.mark.parametrize(
    ("m", "n"), [(1, 2), (1, 8), (3, 7), (4, 8), (5, 40), (7, 8), (8, 13), (16, 33), (33, 40)]
)
def test_consistency_proofs_verify_and_reject_rewritten_history(m: int, n: int) -> None:
    tree = Tree(LEAVES)
    proof = tree.consistency_proof(m, n)
    old, new = mth(LEAVES[:m]), mth(LEAVES[:n])
    assert verify_consistency(old_size=m, new_size=n, old_root=old, new_root=new, proof=proof)
    rewritten = [*LEAVES[: m - 1], leaf_hash(b"rewritten"), *LEAVES[m:n]]
    assert not verify_consistency(old_size=m, new_size=n, old_root=old, new_root=mth(rewritten), proof=proof)


@pytest.mark.parametrize("floor", [1, 5, 8, 13, 20])
def test_proofs_after_pruning_use_the_frontier(floor: int) -> None:
    pruned = Frontier()
    pruned.extend(LEAVES[:floor])
    tree = Tree(LEAVES[floor:], floor=pruned)
    assert tree.mth(0, 40) == mth(LEAVES)
    for i in range(floor, 40):
        proof = tree.inclusion_proof(i, 40)
        assert proof == Tree(LEAVES).inclusion_proof(i, 40)
    with pytest.raises(ValueError, match="pruned"):
        tree.inclusion_proof(0, 40) if floor > 1 else tree.mth(0, 0)
