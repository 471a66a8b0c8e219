"""How the store writes each table, as the schema declares it: conflict key, merge rules, children, history.

A table says it next to its columns (:mod:`pixivcrawl.db.schema`):

- its **conflict key** is its primary key;
- each column's **merge rule** is ``info={"merge": Merge...}`` (the constants below), else the
  table's ``info={"merge": ...}``, else :attr:`Merge.REPLACE`;
- ``info={"children_of": column}``: the rows of each parent (the table ``column`` references)
  in a batch replace that parent's old rows (a work's tags);
- ``info={"history": column}``: rows are only added, ordered by ``column``, and only when their
  other columns differ from the latest row of the same key (work_stats);
- ``info={"upsert": False}``: the store's upserts leave the table alone (run records, rejects).

The writer reads these with :func:`rules_of` and writes tables in ``metadata.sorted_tables`` order.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from operator import itemgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlalchemy as sa

Row = dict[str, Any]
Rows = dict[str, list[Row]]


class UniqueRows(dict[str, list[Row]]):
    """A batch's rows after :func:`dedupe`, table by table (one row per key, in key order),
    and the rows as they came (``source``).

    The store dedupes a batch once and hands the result to both readers of it
    (:func:`pixivcrawl.db.events.find_changes` and the writer), which dedupe plain
    :data:`Rows` themselves.
    """

    def __init__(self, unique: dict[str, list[Row]], source: Rows) -> None:
        super().__init__(unique)
        self.source = source


class Merge(Enum):
    """How a column of an existing row takes a value seen again."""

    REPLACE = "replace"  # the new value
    KEEP = "keep"  # the value of the first insert (first_seen_at)
    COALESCE = "coalesce"  # the new value unless it is NULL
    FIRST = "first"  # the old value unless it is NULL
    NONBLANK = "nonblank"  # the new value unless NULL or ''
    IF_AVAILABLE = "if_available"  # the new value only when the new row's status is 'available'
    AVAILABLE_COALESCE = "available_coalesce"  # IF_AVAILABLE, then COALESCE


# Column declarations: ``mapped_column(info=COALESCE)``.
REPLACE = {"merge": Merge.REPLACE}
KEEP = {"merge": Merge.KEEP}
COALESCE = {"merge": Merge.COALESCE}
FIRST = {"merge": Merge.FIRST}
NONBLANK = {"merge": Merge.NONBLANK}
AVAILABLE_COALESCE = {"merge": Merge.AVAILABLE_COALESCE}
#: Downloaded-file columns: a run without downloads must not erase them.
FILE = COALESCE


@dataclass(frozen=True)
class TableRules:
    """How rows of one table are written, read from its declaration."""

    name: str
    key: tuple[str, ...]
    merge: dict[str, Merge]
    #: (column, parent table): the rows of each parent in the batch replace its old rows.
    children_of: tuple[str, str] | None = None
    #: (the row's time column, the compared columns): rows are appended when these change.
    history: tuple[str, tuple[str, ...]] | None = None

    def rule(self, column: str) -> Merge:
        return self.merge.get(column, Merge.REPLACE)

    @functools.cached_property
    def merged(self) -> tuple[tuple[str, Merge], ...]:
        """The columns whose rule is not :attr:`Merge.REPLACE`, with their rule."""
        return tuple((c, rule) for c, rule in self.merge.items() if rule is not Merge.REPLACE)


@functools.cache
def rules_of(table: sa.Table) -> TableRules:
    key = tuple(c.name for c in table.primary_key.columns)
    default: Merge = table.info.get("merge", Merge.REPLACE)
    merge: dict[str, Merge] = {c.name: c.info.get("merge", default) for c in table.columns if c.name not in key}
    children_of = None
    if column := table.info.get("children_of"):
        [fk] = table.c[column].foreign_keys
        children_of = (column, fk.column.table.name)
    history = None
    if at := table.info.get("history"):
        history = (at, tuple(c.name for c in table.columns if c.name not in key))
    return TableRules(table.name, key, merge, children_of, history)


def upserted(tables: Iterable[sa.Table]) -> list[TableRules]:
    """The rules of the tables the store upserts, in the order given (parents first)."""
    return [rules_of(t) for t in tables if t.info.get("upsert", True)]


def merge_value(rule: Merge, old: Any, new: Any, new_available: bool) -> Any:
    if rule is Merge.KEEP:
        return old
    if rule is Merge.FIRST:
        return new if old is None else old
    if rule in (Merge.IF_AVAILABLE, Merge.AVAILABLE_COALESCE) and not new_available:
        return old
    if rule in (Merge.COALESCE, Merge.AVAILABLE_COALESCE):
        return old if new is None else new
    if rule is Merge.NONBLANK:
        return old if new in (None, "") else new
    return new


def merge_row(rules: TableRules, old: Row, new: Row) -> Row:
    """``new`` applied over ``old`` by the table's rules, as the database would do it."""
    available = new.get("status", "available") == "available"
    merged = new.copy()  # REPLACE: the new value
    for c, rule in rules.merged:
        if c in new:
            merged[c] = merge_value(rule, old.get(c), new[c], available)
    return merged


def _sort_key(key: Any) -> tuple[Any, ...]:
    return tuple((v is None, str(type(v)), v) for v in (key if isinstance(key, tuple) else (key,)))


def dedupe(rules: TableRules, rows: Iterable[Row]) -> list[Row]:
    """One row per key (PostgreSQL refuses to update a row twice in one statement), in key order.

    Key order makes concurrent batches (many workers on one PostgreSQL) lock rows
    in the same order, so they wait for each other instead of deadlocking.
    """
    by_key: dict[Any, Row] = {}
    key_of = itemgetter(*rules.key)  # a one-column key is the value itself: cheaper to hash and sort
    for row in rows:
        key = key_of(row)
        old = by_key.get(key)
        # A row seen again as it was (a tag on many works of a batch) merges into itself.
        by_key[key] = row if old is None or old == row else merge_row(rules, old, row)
    try:
        ordered = sorted(by_key)
    except TypeError:  # a key holding NULL or mixed types: ordered all the same
        ordered = sorted(by_key, key=_sort_key)
    return [by_key[key] for key in ordered]
