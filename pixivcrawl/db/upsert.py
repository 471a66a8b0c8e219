"""Batched, idempotent upserts of table rows (SQLite and PostgreSQL), by the rules the schema declares."""

from __future__ import annotations

import functools
import re
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from pixivcrawl.db.rules import Merge, TableRules, UniqueRows, dedupe, upserted
from pixivcrawl.db.schema import Base
from pixivcrawl.db.search import sync_search
from pixivcrawl.db.types import UtcDateTime

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.engine import Connection

    from pixivcrawl.db.rules import Row, Rows

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


@dataclass(frozen=True)
class Upsert:
    """One table's upsert of given columns, compiled once: SQL for the driver and each value's conversion.

    Rows go to the driver as tuples, each value converted by the column type's own
    bind processor (what SQLAlchemy would do), without SQLAlchemy's per-row parameter
    handling, the store's main CPU cost. SQLite runs one prepared statement per row
    (``executemany``, in C); PostgreSQL gets one statement per batch, each column's
    values as one array (``INSERT ... SELECT * FROM unnest(%s::BIGINT[], ...)``): a
    short statement the driver parses once, and no per-row round of the protocol.
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

    def execute(self, connection: Connection, rows: list[Row]) -> None:
        parameters = self.parameters(rows)
        if self.arrays_sql is None:
            connection.exec_driver_sql(self.sql, parameters)
        else:
            connection.exec_driver_sql(self.arrays_sql, tuple(list(column) for column in zip(*parameters, strict=True)))

    @classmethod
    def compile(cls, table: sa.Table, rules: TableRules, columns: tuple[str, ...], dialect: sa.Dialect) -> Upsert:
        if dialect.name == "postgresql":  # its module only when the archive is on PostgreSQL (~50 ms to import)
            from sqlalchemy.dialects import postgresql

            insert: postgresql.Insert | sqlite.Insert = postgresql.insert(table)
        else:
            insert = sqlite.insert(table)
        set_ = _set_clause(table, rules, insert.excluded, columns)
        if set_:
            statement = insert.on_conflict_do_update(index_elements=list(rules.key), set_=set_)
        else:
            statement = insert.on_conflict_do_nothing(index_elements=list(rules.key))
        compiled = statement.compile(dialect=dialect, column_keys=list(columns))
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
        arrays_sql = _arrays_statement(sql, [table.c[c] for c in order], dialect) if dialect.name == "postgresql" else None
        return cls(sql, tuple(order), processors, defaults, timely, arrays_sql)

    def parameters(self, rows: list[Row]) -> list[tuple[Any, ...]]:
        if self.defaults:
            rows = [{**{c: make() for c, make in self.defaults}, **row} for row in rows]
        get = itemgetter(*self.columns)
        if len(self.columns) == 1:
            return [(get(row),) for row in rows]
        if not self.processors:
            return [get(row) for row in rows]
        processors: list[tuple[int, Callable[[Any], Any], dict[Any, Any] | None]] = [
            (i, process, {} if i in self.memo else None) for i, process in self.processors
        ]
        parameters: list[tuple[Any, ...]] = []
        for row in rows:
            values = list(get(row))
            for i, process, done in processors:
                if done is None:
                    values[i] = process(values[i])
                elif (value := values[i]) in done:
                    values[i] = done[value]
                else:
                    values[i] = done[value] = process(value)
            parameters.append(tuple(values))
        return parameters


#: A type's length (VARCHAR(16)): an array cast to it would truncate values the column refuses.
_LENGTH = re.compile(r"\(\d+\)")


def _arrays_statement(sql: str, columns: list[sa.Column[Any]], dialect: sa.Dialect) -> str:
    """A one-row PostgreSQL upsert (``VALUES (%s, ...) ON CONFLICT ...``) taking one array per column."""
    head, rest = sql.split(" VALUES (", 1)
    _, tail = rest.split(") ON CONFLICT ", 1)
    arrays = ", ".join(f"%s::{_LENGTH.sub('', c.type.compile(dialect=dialect))}[]" for c in columns)
    return f"{head} SELECT * FROM unnest({arrays}) ON CONFLICT {tail}"


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
        for rules in self.tables:
            table_rows = unique.get(rules.name) or []
            if rules.children_of:
                table_rows = self._sync_children(connection, rules, rows, table_rows)
            if rules.history:
                table_rows = self._changed(connection, rules, table_rows)
            if table_rows:
                self._upsert(connection, rules, table_rows)
                written[rules.name] = len(table_rows)
        if self._search_index is None:  # an archive older than revision 0003 has no search queue
            self._search_index = self.dialect.name == "sqlite" and sa.inspect(connection).has_table("search_dirty")
        if self._search_index:
            sync_search(connection)
        return written

    def _upsert(self, connection: Connection, rules: TableRules, rows: list[Row]) -> None:
        columns = tuple(rows[0])
        key = (rules.name, columns)
        upsert = self._statements.get(key)
        if upsert is None:
            table = self._metadata.tables[rules.name]
            upsert = self._statements[key] = Upsert.compile(table, rules, columns, self.dialect)
        upsert.execute(connection, rows)

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
        existing: dict[tuple[Any, ...], Row] = {}
        for start in range(0, len(parents), self._max_variables):
            query = sa.select(table).where(table.c[column].in_(parents[start : start + self._max_variables]))
            for found in connection.execute(query).mappings():
                existing[tuple(found[c] for c in key)] = dict(found)
        wanted = {tuple(r[c] for c in key): r for r in new_rows}
        stale = [dict(zip(key, k, strict=True)) for k in existing if k not in wanted]
        if stale:
            where = sa.and_(*(table.c[c] == sa.bindparam(f"k_{c}") for c in key))
            connection.execute(table.delete().where(where), [{f"k_{c}": v for c, v in k.items()} for k in stale])
        return [
            row
            for k, row in wanted.items()
            if k not in existing or any(existing[k][c] != v for c, v in row.items())
        ]

    def _changed(self, connection: Connection, rules: TableRules, rows: list[Row]) -> list[Row]:
        """The history rows whose values differ from their key's latest row (NULLs carried forward).

        work_stats: a work's counts (``history`` column captured_at) get a row only when they change.
        """
        assert rules.history is not None
        at, values = rules.history
        *group, last = series = tuple(c for c in rules.key if c != at)
        table = self._metadata.tables[rules.name]
        newer = table.alias("newer")
        latest: dict[tuple[Any, ...], Row] = {}
        by_group: dict[tuple[Any, ...], set[Any]] = defaultdict(set)
        for row in rows:
            by_group[tuple(row[c] for c in group)].add(row[last])
        chunk = self._max_variables - len(group)
        for fixed, ids in sorted(by_group.items()):
            ids_sorted = sorted(ids)
            for start in range(0, len(ids_sorted), chunk):
                query = sa.select(*(table.c[c] for c in series), *(table.c[c] for c in values)).where(
                    *(table.c[c] == v for c, v in zip(group, fixed, strict=True)),
                    table.c[last].in_(ids_sorted[start : start + chunk]),
                    ~sa.exists().where(
                        *(newer.c[c] == table.c[c] for c in series),
                        newer.c[at] > table.c[at],
                    ),
                )
                for found in connection.execute(query).mappings():
                    latest[tuple(found[c] for c in series)] = dict(found)
        changed = []
        # In time order, each row against its key's latest so far: a work listed twice in
        # one batch (a trending page and its detail, two related pages) adds one row, not two.
        for row in sorted(rows, key=lambda r: r[at]):
            k = tuple(row[c] for c in series)
            before = latest.get(k)
            if before is not None:
                row = {**row, **{c: before[c] for c in values if row[c] is None}}
                if all(row[c] == before[c] for c in values):
                    continue
            changed.append(row)
            latest[k] = row
        return changed
