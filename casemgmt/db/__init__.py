"""Database backends: Django's own, adjusted where this project's settings need it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")

#: Ids per ``__in`` list: with server-side binding (PostgreSQL, ``DB_PREPARED_STATEMENTS``)
#: each element is one protocol parameter, and a statement takes at most 65,535.
IN_LIST_BATCH = 10_000


def in_batches(items: Iterable[T], size: int = IN_LIST_BATCH) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size``: for ``__in`` lists built from unbounded data."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
