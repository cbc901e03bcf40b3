"""Django's PostgreSQL backend for server-side parameter binding (``DB_PREPARED_STATEMENTS``).

With server-side binding every value travels as a protocol parameter, and PostgreSQL takes
at most 65,535 of them per statement (client-side binding spliced them into the text, so
Django never had to count them). Django batches its bulk writes only by a backend's
``max_query_params``, which its PostgreSQL backend leaves unset: a ``bulk_update`` of a few
thousand rows and fields (a key rotation batch, the sealer's) or a ``bulk_create`` that cannot
go through ``UNNEST`` would fail ("number of parameters must be between 0 and 65535"). This
backend sets the limit and sizes the batches under it.
Nothing else differs from ``django.db.backends.postgresql``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.backends.postgresql import base, features, operations

#: The protocol's limit: the parameter count of a Bind message is a 16-bit integer.
MAX_PARAMETERS = 2**16 - 1


class DatabaseFeatures(features.DatabaseFeatures):
    max_query_params = MAX_PARAMETERS


class DatabaseOperations(operations.DatabaseOperations):
    def bulk_batch_size(self, fields: Sequence[Any], objs: Sequence[Any]) -> int:
        """Objects per statement so that their parameters stay under the limit.

        Twice the fields per object: ``bulk_create`` sends one parameter per field, but
        ``bulk_update`` passes ``["pk", "pk", *fields]`` and sends two per field (a ``WHEN pk
        THEN value`` each) plus the key, so the count Django hands over would undercount it.
        """
        if not fields:
            return len(objs)
        return max(1, MAX_PARAMETERS // (2 * len(fields)))


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
    ops_class = DatabaseOperations
