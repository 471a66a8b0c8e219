"""Reads of many keys at once: one statement per table, key column and columns, the keys bound when it runs."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

#: Keys per statement where the caller does not say (SQLite before 3.32 allows 999 variables).
CHUNK = 900


@functools.lru_cache(maxsize=64)
def select_in(table: sa.Table, column: str, columns: tuple[str, ...]) -> sa.Select[Any]:
    """``SELECT columns FROM table WHERE column IN :keys``, built once.

    Built per batch, ``column.in_(list)`` left reference cycles (its bound parameters) that only
    the garbage collector frees, and a collector tuned for long crawls (:mod:`pixivcrawl.gc_tuning`)
    let megabytes of them pile up between its passes.
    """
    return sa.select(*(table.c[c] for c in columns)).where(table.c[column].in_(sa.bindparam("keys", expanding=True)))


def keyed_rows(
    connection: Connection, query: sa.Select[Any], keys: Sequence[Any], chunk: int = CHUNK, **params: Any
) -> Iterator[tuple[Any, ...]]:
    """The rows of ``query``, built once with the expanding parameter ``keys``, as tuples, ``chunk`` keys per run.

    ``params`` binds the query's other parameters, the same in every run.
    """
    for start in range(0, len(keys), chunk):
        yield from map(tuple, connection.execute(query, {**params, "keys": list(keys[start : start + chunk])}).all())


def rows_in(
    connection: Connection, table: sa.Table, column: str, keys: Sequence[Any], columns: Sequence[str], chunk: int = CHUNK
) -> Iterator[tuple[Any, ...]]:
    """The ``columns`` of ``table``'s rows whose ``column`` is one of ``keys``, as tuples, ``chunk`` keys per query."""
    return keyed_rows(connection, select_in(table, column, tuple(columns)), keys, chunk)
