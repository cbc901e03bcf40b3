"""RFC 9162 Merkle tree hashing, inclusion and consistency proofs (pure functions, no database).

Leaves are hashed with a 0x00 prefix and interior nodes with 0x01 (RFC 9162, 2.1.1), so a
leaf can never be passed off as a node. The tree over n leaves splits at the largest power
of two below n. ``Frontier`` keeps the roots of the perfect subtrees that make up a prefix of
the log (its binary decomposition), so the sealer appends in O(log n) and retention can drop
leaves while keeping what later proofs need.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_BYTES = 32


def leaf_hash(data: bytes) -> bytes:
    """MTH of one entry: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """The perfect subtrees covering leaves [0, size): enough to append and to compute the root."""

    def __init__(self, size: int = 0, nodes: Sequence[bytes] = ()) -> None:
        if len(nodes) != bin(size).count("1"):
            raise ValueError(
                f"a frontier of {size} leaves has {bin(size).count('1')} nodes, got {len(nodes)}"
            )
        self.size = size
        self.nodes = list(nodes)  # left to right, largest subtree first

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash at position ``size``."""
        node, size = leaf, self.size
        while size & 1:
            node = node_hash(self.nodes.pop(), node)
            size >>= 1
        self.nodes.append(node)
        self.size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        """MTH(D[0:size]): the subtrees combined right to left, as RFC 9162's recursion does."""
        if not self.nodes:
            return EMPTY_ROOT
        node = self.nodes[-1]
        for left in reversed(self.nodes[:-1]):
            node = node_hash(left, node)
        return node

    def blocks(self) -> dict[tuple[int, int], bytes]:
        """Each subtree with the leaf range [start, end) it covers."""
        out, start = {}, 0
        sizes = [1 << bit for bit in reversed(range(self.size.bit_length())) if self.size >> bit & 1]
        for width, node in zip(sizes, self.nodes, strict=True):
            out[(start, start + width)] = node
            start += width
        return out

    def hex(self) -> list[str]:
        return [n.hex() for n in self.nodes]

    @classmethod
    def from_hex(cls, size: int, nodes: Sequence[str]) -> Frontier:
        return cls(size, [bytes.fromhex(n) for n in nodes])


class Tree:
    """Subtree hashes over leaves [floor, size), the pruned prefix [0, floor) given by its frontier."""

    def __init__(self, leaves: Sequence[bytes], floor: Frontier | None = None) -> None:
        self.floor = floor or Frontier()
        self.leaves = leaves  # leaves[i] is leaf floor.size + i
        self.size = self.floor.size + len(leaves)
        self._pruned = self.floor.blocks()

    def mth(self, start: int, end: int) -> bytes:
        """MTH(D[start:end])."""
        if (start, end) in self._pruned:
            return self._pruned[(start, end)]
        if start < self.floor.size and end <= self.floor.size:
            raise ValueError(f"leaves {start}..{end - 1} were pruned")
        if end - start == 1:
            return self.leaves[start - self.floor.size]
        if start >= self.floor.size:
            frontier = Frontier()
            frontier.extend(self.leaves[start - self.floor.size : end - self.floor.size])
            return frontier.root()
        k = _split(end - start)
        return node_hash(self.mth(start, start + k), self.mth(start + k, end))

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[0:size]) (RFC 9162, 2.1.3.1)."""
        if not 0 <= index < size <= self.size:
            raise ValueError("index outside the tree")
        return self._path(index, 0, size)

    def _path(self, m: int, start: int, end: int) -> list[bytes]:
        if end - start <= 1:
            return []
        k = _split(end - start)
        if m < k:
            return [*self._path(m, start, start + k), self.mth(start + k, end)]
        return [*self._path(m - k, start + k, end), self.mth(start, start + k)]

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """PROOF(old_size, D[0:new_size]) (RFC 9162, 2.1.4.1)."""
        if not 0 < old_size <= new_size <= self.size:
            raise ValueError("sizes outside the tree")
        return self._subproof(old_size, 0, new_size, True)

    def _subproof(self, m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [self.mth(start, end)]
        k = _split(n)
        if m <= k:
            return [*self._subproof(m, start, start + k, whole), self.mth(start + k, end)]
        return [*self._subproof(m - k, start + k, end, False), self.mth(start, start + k)]


def root_of(leaves: Sequence[bytes]) -> bytes:
    frontier = Frontier()
    frontier.extend(leaves)
    return frontier.root()


def verify_inclusion(*, leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162, 2.1.3.2: does ``proof`` place ``leaf`` at ``index`` in the tree with ``root``?"""
    if index >= size or index < 0:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    *, old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162, 2.1.4.2: is the tree ``new_root`` an append-only extension of ``old_root``?"""
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size <= 0 or old_size > new_size or not proof:
        return old_size == 0 and not proof
    nodes = list(proof)
    if old_size & (old_size - 1) == 0:
        nodes.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
