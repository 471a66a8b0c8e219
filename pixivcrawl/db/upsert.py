"""Batched, idempotent upserts of table rows (SQLite and PostgreSQL), by the rules the schema declares."""

from __future__ import annotations

import functools
import itertools
import re
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from pixivcrawl.db.reads import rows_in
from pixivcrawl.db.rules import Merge, TableRules, UniqueRows, dedupe, upserted
from pixivcrawl.db.schema import Base
from pixivcrawl.db.search import sync_search
from pixivcrawl.db.types import UtcDateTime

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.engine import Connection

    from pixivcrawl.db.rules import Row, Rows

#: Rows of SQLite's many-row statement (fewer when the columns would exceed its variables):
#: measured over 10k works, 32 to 128 rows halve the upserts' CPU; more cost more again.
SQLITE_ROWS = 64
#: bind processor -> {value: the value it converts to}: one batch's date and time values, converted once.
Memo = dict[Callable[[Any], Any], dict[Any, Any]]
#: A pyformat placeholder (PostgreSQL's drivers), turned positional so rows go as tuples.
_NAMED = re.compile(r"%\((\w+)\)s")
_AVAILABLE: sa.ColumnClause[str] = sa.literal_column("'available'")
_BLANK: sa.ColumnClause[str] = sa.literal_column("''")


def _set_clause(table: sa.Table, rules: TableRules, excluded: Any, columns: Sequence[str]) -> dict[str, Any]:
    # Constants are literal SQL, not bound parameters: the statement's only parameters are the row's values.
    available = excluded.status == _AVAILABLE if "status" in table.c else sa.true()
    clause: dict[str, Any] = {}
    for name in columns:
        rule, new, old = rules.rule(name), excluded[name], table.c[name]
        if name in rules.key or rule is Merge.KEEP:
            continue
        if rule is Merge.COALESCE:
            clause[name] = sa.func.coalesce(new, old)
        elif rule is Merge.FIRST:
            clause[name] = sa.func.coalesce(old, new)
        elif rule is Merge.NONBLANK:
            clause[name] = sa.case((sa.or_(new.is_(None), new == _BLANK), old), else_=new)
        elif rule is Merge.IF_AVAILABLE:
            clause[name] = sa.case((available, new), else_=old)
        elif rule is Merge.AVAILABLE_COALESCE:
            clause[name] = sa.case((available, sa.func.coalesce(new, old)), else_=old)
        else:
            clause[name] = new
    return clause


def insert_for(table: sa.Table, dialect: sa.Dialect) -> postgresql.Insert | sqlite.Insert:
    """The dialect's INSERT of ``table`` (it has ``on_conflict_*``); SQLAlchemy's PostgreSQL
    dialect is imported only for a PostgreSQL archive (~50 ms)."""
    if dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    return sqlite.insert(table)


@dataclass(frozen=True)
class Upsert:
    """One table's upsert of given columns, compiled once: SQL for the driver and each value's conversion.

    Rows go to the driver as tuples, each value converted by the column type's own
    bind processor (what SQLAlchemy would do), without SQLAlchemy's per-row parameter
    handling, the store's main CPU cost. SQLite runs a statement of :data:`SQLITE_ROWS`
    rows (``VALUES (...), (...), ...``) as many times as the batch fills it, in C
    (``executemany``), and the one-row statement for the rest: every execution of a
    statement on a table with triggers (the search queue's) opens a statement journal
    and copies into it each page it changes, once per row with one-row statements,
    over half the cost of a new work's tags. PostgreSQL gets one statement per batch,
    each column's values as one array (``INSERT ... SELECT * FROM unnest(%s::BIGINT[], ...)``):
    a short statement the driver parses once, and no per-row round of the protocol.
    """

    sql: str
    columns: tuple[str, ...]
    #: (position, bind processor) of the columns whose values the driver cannot take as they are.
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]
    #: (column, its default) of the columns the rows leave out.
    defaults: tuple[tuple[str, Callable[[], Any]], ...] = ()
    #: Positions of date and time columns: a batch repeats its few values (seen_at), converted once each.
    memo: frozenset[int] = frozenset()
    #: The statement taking one array per column (PostgreSQL), else None (executemany).
    arrays_sql: str | None = None
    #: The statement of ``many_rows`` rows (SQLite), else None.
    many_sql: str | None = None
    many_rows: int = 1

    def execute(self, connection: Connection, rows: list[Row], memo: Memo | None = None) -> None:
        """Upsert ``rows``; ``memo`` keeps the date and time values converted so far (one batch's)."""
        columns = self.column_values(rows, {} if memo is None else memo)
        if self.arrays_sql is not None:
            connection.exec_driver_sql(self.arrays_sql, tuple(columns))
            return
        parameters = list(zip(*columns, strict=True))
        size, whole = self.many_rows, 0
        if self.many_sql is not None and (whole := len(parameters) // size * size):
            chain = itertools.chain.from_iterable
            connection.exec_driver_sql(
                self.many_sql, [tuple(chain(parameters[i : i + size])) for i in range(0, whole, size)]
            )
        if whole < len(parameters):
            connection.exec_driver_sql(self.sql, parameters[whole:])

    @classmethod
    def compile(
        cls, table: sa.Table, rules: TableRules | None, columns: tuple[str, ...], dialect: sa.Dialect
    ) -> Upsert:
        """The upsert of ``columns`` by ``rules``; with no rules, a plain insert (a table only added to)."""
        insert = insert_for(table, dialect)
        statement: sa.Insert = insert
        if rules is not None and (set_ := _set_clause(table, rules, insert.excluded, columns)):
            statement = insert.on_conflict_do_update(index_elements=list(rules.key), set_=set_)
        elif rules is not None:
            statement = insert.on_conflict_do_nothing(index_elements=list(rules.key))
        # As executemany: no RETURNING of an autoincremented key (work_events.id).
        compiled = statement.compile(dialect=dialect, column_keys=list(columns), for_executemany=True)
        sql = compiled.string
        if compiled.positional:
            order = list(compiled.positiontup or ())
        else:
            order = _NAMED.findall(sql)
            sql = _NAMED.sub("%s", sql)
        # A column the rows leave out is in the statement when it has a Python-side default.
        defaults = tuple((c, _default(table.c[c])) for c in order if c not in columns)
        if len(order) != len(columns) + len(defaults):
            raise ValueError(f"{table.name}: the statement's parameters {order} are not the row's columns {columns}")
        found: dict[str, Any] = dict(compiled._bind_processors)
        processors = tuple((i, found[c]) for i, c in enumerate(order) if found.get(c) is not None)
        timely = frozenset(i for i, c in enumerate(order) if isinstance(table.c[c].type, (sa.DateTime, sa.Date, UtcDateTime)))
        arrays_sql = many_sql = None
        many_rows = 1
        if dialect.name == "postgresql":
            arrays_sql = _arrays_statement(sql, [table.c[c] for c in order], dialect)
        elif dialect.name == "sqlite":
            many_rows = min(SQLITE_ROWS, _max_variables(dialect) // len(order))
            many_sql = _rows_statement(sql, many_rows) if many_rows > 1 else None
        return cls(sql, tuple(order), processors, defaults, timely, arrays_sql, many_sql, many_rows)

    def column_values(self, rows: list[Row], memo: Memo) -> list[list[Any]]:
        """Each column's values, converted, in the statement's order: a column at a time, in C
        but for the conversions (of each distinct value once, for date and time columns)."""
        if self.defaults:
            rows = [{**{c: make() for c, make in self.defaults}, **row} for row in rows]
        columns = [list(values) for values in zip(*map(_tuples(self.columns), rows), strict=True)]
        for i, process in self.processors:
            if i in self.memo:
                # Keyed by the processor: columns of one type share it (first_seen_at, last_seen_at).
                done = memo.setdefault(process, {})
                for value in set(columns[i]).difference(done):
                    done[value] = process(value)
                columns[i] = list(map(done.__getitem__, columns[i]))
            else:
                columns[i] = list(map(process, columns[i]))
        return columns


#: A type's length (VARCHAR(16)): an array cast to it would truncate values the column refuses.
_LENGTH = re.compile(r"\(\d+\)")


def _split(sql: str) -> tuple[str, str, str]:
    """A one-row insert's ``INSERT INTO t (...)``, its values' placeholders and what follows (``ON CONFLICT ...``)."""
    head, rest = sql.split(" VALUES (", 1)
    values, tail = rest.split(") ON CONFLICT ", 1) if ") ON CONFLICT " in rest else (rest.removesuffix(")"), "")
    return head, values, tail and f" ON CONFLICT {tail}"


def _arrays_statement(sql: str, columns: list[sa.Column[Any]], dialect: sa.Dialect) -> str:
    """A one-row PostgreSQL upsert (``VALUES (%s, ...) ON CONFLICT ...``) taking one array per column."""
    head, _, tail = _split(sql)
    arrays = ", ".join(f"%s::{_LENGTH.sub('', c.type.compile(dialect=dialect))}[]" for c in columns)
    return f"{head} SELECT * FROM unnest({arrays}){tail}"


def _rows_statement(sql: str, rows: int) -> str:
    """A one-row upsert (``VALUES (?, ...) ON CONFLICT ...``) of ``rows`` rows."""
    head, values, tail = _split(sql)
    return f"{head} VALUES {', '.join([f'({values})'] * rows)}{tail}"


def _default(column: sa.Column[Any]) -> Callable[[], Any]:
    default = column.default
    if not isinstance(default, sa.ColumnDefault):
        raise ValueError(f"{column.table.name}.{column.name} has no value in the rows and no default")
    if default.is_callable:
        return functools.partial(default.arg, None)
    return functools.partial(lambda value: value, default.arg)


def _max_variables(dialect: sa.Dialect) -> int:
    if dialect.name == "sqlite":
        # SQLITE_MAX_VARIABLE_NUMBER defaults to 999 before 3.32 and 32766 since.
        return 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999
    return 65535


class Writer:
    """Writes a batch of rows, table by table in foreign-key order, in the caller's transaction.

    Which tables, their keys and merge rules come from the schema (:mod:`pixivcrawl.db.rules`).
    """

    def __init__(self, dialect: sa.Dialect, metadata: sa.MetaData = Base.metadata) -> None:
        self.dialect = dialect
        self.tables = upserted(metadata.sorted_tables)
        self.rules = {r.name: r for r in self.tables}
        self._metadata = metadata
        self._max_variables = _max_variables(dialect)
        self._statements: dict[tuple[str, tuple[str, ...]], Upsert] = {}
        self._latest: dict[str, sa.Select[Any]] = {}
        self._search_index: bool | None = None

    def dedupe(self, rows: Rows) -> UniqueRows:
        """``rows`` with one row per key in each table (see :func:`dedupe`)."""
        unknown = set(rows) - set(self.rules)
        if unknown:
            raise ValueError(f"no upserted table {sorted(unknown)}")
        return UniqueRows({name: dedupe(self.rules[name], table_rows) for name, table_rows in rows.items()}, rows)

    def write(self, connection: Connection, rows: Rows) -> dict[str, int]:
        """Upsert ``rows`` (or ``self.dedupe(rows)``); returns the number of rows written per table."""
        if isinstance(rows, UniqueRows):
            unique, rows = rows, rows.source
        else:
            unique = self.dedupe(rows)
        written: dict[str, int] = {}
        memo: Memo = {}
        for rules in self.tables:
            table_rows = unique.get(rules.name) or []
            if rules.children_of:
                table_rows = self._sync_children(connection, rules, rows, table_rows)
            if rules.history:
                table_rows = self._changed(connection, rules, table_rows)
            if table_rows:
                self._upsert(connection, rules, table_rows, memo)
                written[rules.name] = len(table_rows)
        if self._search_index is None:  # an archive older than revision 0003 has no search queue
            self._search_index = self.dialect.name == "sqlite" and sa.inspect(connection).has_table("search_dirty")
        if self._search_index:
            sync_search(connection)
        return written

    def insert(self, connection: Connection, name: str, rows: list[Row]) -> None:
        """Add ``rows`` to a table the store only adds to (``work_events``), the upserts' way."""
        if rows:
            self._statement(name, None, tuple(rows[0])).execute(connection, rows)

    def _upsert(self, connection: Connection, rules: TableRules, rows: list[Row], memo: Memo) -> None:
        self._statement(rules.name, rules, tuple(rows[0])).execute(connection, rows, memo)

    def _statement(self, name: str, rules: TableRules | None, columns: tuple[str, ...]) -> Upsert:
        statement = self._statements.get((name, columns))
        if statement is None:
            table = self._metadata.tables[name]
            statement = self._statements[name, columns] = Upsert.compile(table, rules, columns, self.dialect)
        return statement

    def _sync_children(self, connection: Connection, rules: TableRules, rows: Rows, new_rows: list[Row]) -> list[Row]:
        """Make each parent's children exactly ``new_rows``; returns the rows still to upsert.

        Children that did not change are not rewritten, so a re-crawl costs no
        writes (nor search-index triggers) for them.
        """
        assert rules.children_of is not None
        column, parent = rules.children_of
        # Only a parent seen available speaks for its children; placeholders list none.
        parents = sorted({r["id"] for r in rows.get(parent) or [] if r.get("status", "available") == "available"})
        table = self._metadata.tables[rules.name]
        key = rules.key
        # The row's columns as one tuple, key first, to compare with the stored ones.
        columns = (*key, *(c for c in (new_rows[0] if new_rows else ()) if c not in key))
        values = _tuples(columns)
        existing = {found[: len(key)]: found for found in rows_in(connection, table, column, parents, columns, self._max_variables)}
        wanted = {values(r)[: len(key)]: r for r in new_rows}
        stale = [dict(zip(key, k, strict=True)) for k in existing if k not in wanted]
        if stale:
            where = sa.and_(*(table.c[c] == sa.bindparam(f"k_{c}") for c in key))
            connection.execute(table.delete().where(where), [{f"k_{c}": v for c, v in k.items()} for k in stale])
        return [row for k, row in wanted.items() if existing.get(k) != values(row)]

    def _latest_query(self, rules: TableRules) -> sa.Select[Any]:
        """The latest history row of each key of a group (``g_<column>``) among ``ids``.

        Built once per table: built per batch, its alias and subquery made reference cycles, which
        only the garbage collector frees (a few MB of peak RSS between its passes).
        """
        query = self._latest.get(rules.name)
        if query is None:
            assert rules.history is not None
            at, values = rules.history
            *group, last = series = tuple(c for c in rules.key if c != at)
            table = self._metadata.tables[rules.name]
            newer = table.alias("newer")
            query = self._latest[rules.name] = sa.select(*(table.c[c] for c in (*series, *values))).where(
                *(table.c[c] == sa.bindparam(f"g_{c}") for c in group),
                table.c[last].in_(sa.bindparam("ids", expanding=True)),
                ~sa.exists().where(*(newer.c[c] == table.c[c] for c in series), newer.c[at] > table.c[at]),
            )
        return query

    def _changed(self, connection: Connection, rules: TableRules, rows: list[Row]) -> list[Row]:
        """The history rows whose values differ from their key's latest row (NULLs carried forward).

        work_stats: a work's counts (``history`` column captured_at) get a row only when they change.
        """
        assert rules.history is not None
        at, values = rules.history
        *group, last = series = tuple(c for c in rules.key if c != at)
        query = self._latest_query(rules)
        latest: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        by_group: dict[tuple[Any, ...], set[Any]] = defaultdict(set)
        for row in rows:
            by_group[tuple(row[c] for c in group)].add(row[last])
        chunk = self._max_variables - len(group)
        for fixed, ids in sorted(by_group.items()):
            ids_sorted = sorted(ids)
            for start in range(0, len(ids_sorted), chunk):
                parameters = {f"g_{c}": v for c, v in zip(group, fixed, strict=True)}
                parameters["ids"] = ids_sorted[start : start + chunk]
                for found in map(tuple, connection.execute(query, parameters).all()):  # a Row's slice is slow
                    latest[found[: len(series)]] = found[len(series) :]
        changed = []
        series_of, values_of = _tuples(series), _tuples(values)
        # In time order, each row against its key's latest so far: a work listed twice in
        # one batch (a trending page and its detail, two related pages) adds one row, not two.
        for row in sorted(rows, key=itemgetter(at)):
            k, new = series_of(row), values_of(row)
            before = latest.get(k)
            if before is not None:
                if None in new:  # NULLs carried forward
                    new = tuple(b if n is None else n for n, b in zip(new, before, strict=True))
                    row = {**row, **dict(zip(values, new, strict=True))}
                if new == before:
                    continue
            changed.append(row)
            latest[k] = new
        return changed


def _tuples(columns: Sequence[str]) -> Callable[[Row], tuple[Any, ...]]:
    """A row's values of ``columns``, always a tuple (``itemgetter`` of one column is the value)."""
    if len(columns) == 1:
        [column] = columns
        return lambda row: (row[column],)
    return itemgetter(*columns)
