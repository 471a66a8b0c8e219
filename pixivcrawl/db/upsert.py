"""Batched, idempotent upserts of table rows (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from pixivcrawl.db.schema import TABLES
from pixivcrawl.db.search import sync_search

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from pixivcrawl.db.rows import Row, Rows


class Merge(Enum):
    """How a column of an existing row takes a value seen again."""

    REPLACE = "replace"  # the new value
    KEEP = "keep"  # the value of the first insert (first_seen_at)
    COALESCE = "coalesce"  # the new value unless it is NULL
    FIRST = "first"  # the old value unless it is NULL
    NONBLANK = "nonblank"  # the new value unless NULL or ''
    IF_AVAILABLE = "if_available"  # the new value only when the new row's status is 'available'
    AVAILABLE_COALESCE = "available_coalesce"  # IF_AVAILABLE, then COALESCE


@dataclass(frozen=True)
class TableSpec:
    """How rows of one table are written: conflict key and per-column merge rules."""

    key: tuple[str, ...]
    merge: dict[str, Merge] = field(default_factory=dict)
    # (column, parent table): the rows of each parent in the batch replace its old rows.
    children_of: tuple[str, str] | None = None
    append_on_change: bool = False

    def rule(self, column: str) -> Merge:
        return self.merge.get(column, Merge.REPLACE)


def _work_merge(table: str, *coalesced: str) -> dict[str, Merge]:
    """A placeholder (hidden or deleted) only updates status, restriction and last_seen_at."""
    always = {"id", "status", "restriction", "last_seen_at"}
    rules = {c.name: Merge.IF_AVAILABLE for c in TABLES[table].columns if c.name not in always}
    rules.update(dict.fromkeys(coalesced, Merge.AVAILABLE_COALESCE))
    rules["first_seen_at"] = Merge.KEEP
    return rules


_SEEN = {"first_seen_at": Merge.KEEP}
# Downloaded-file columns: a run without downloads must not erase them.
_FILE = Merge.COALESCE

#: Tables in the order a batch writes them (parents before children).
SPECS: dict[str, TableSpec] = {
    "users": TableSpec(
        ("id",),
        {
            **_SEEN,
            "name": Merge.NONBLANK,
            "account": Merge.NONBLANK,
            **dict.fromkeys(
                ("profile_image_url", "profile_image_local_path", "profile_image_sha256", "comment", "is_followed", "profile", "profile_publicity", "workspace", "detail_fetched_at", "is_muted"),
                Merge.COALESCE,
            ),
        },
    ),
    "series": TableSpec(
        ("kind", "id"),
        {
            **_SEEN,
            "title": Merge.NONBLANK,
            **dict.fromkeys(
                ("caption", "user_id", "cover_url", "work_count", "create_date", "is_original", "is_concluded", "total_character_count", "width", "height", "watchlist_added", "ai_type", "display_text"),
                Merge.COALESCE,
            ),
        },
    ),
    "series_works": TableSpec(("kind", "series_id", "work_id"), _SEEN),
    "illusts": TableSpec(
        ("id",),
        _work_merge("illusts", "total_view", "total_bookmarks", "total_comments", "restriction_attributes", "comment_access_control"),
    ),
    "illust_pages": TableSpec(
        ("illust_id", "page"),
        {**dict.fromkeys(("file_url", "local_path", "size", "sha256", "width", "height"), _FILE), "downloaded_at": Merge.FIRST},
    ),
    "ugoira": TableSpec(
        ("illust_id",),
        dict.fromkeys(
            ("zip_local_path", "zip_size", "zip_sha256", "animation_local_path", "animation_format", "animation_size", "animation_sha256"),
            _FILE,
        ),
    ),
    "tags": TableSpec(("name",), {"translated_name": Merge.COALESCE}),
    "illust_tags": TableSpec(("illust_id", "tag"), children_of=("illust_id", "illusts")),
    "novels": TableSpec(("id",), _work_merge("novels", "total_view", "total_bookmarks", "total_comments", "text_length", "cover_local_path", "cover_sha256")),
    "novel_tags": TableSpec(("novel_id", "tag"), children_of=("novel_id", "novels")),
    "novel_texts": TableSpec(("novel_id",), {"like_count": Merge.COALESCE}),
    "novel_images": TableSpec(("novel_id", "kind", "image_key"), {**_SEEN, **dict.fromkeys(("local_path", "size", "sha256"), _FILE)}),
    "comments": TableSpec(("id",), {**_SEEN, "text": Merge.NONBLANK}),
    "rankings": TableSpec(("kind", "mode", "date", "work_id")),
    "bookmarks": TableSpec(
        ("user_id", "work_kind", "work_id"), {**_SEEN, "bookmark_id": Merge.COALESCE, "tags": Merge.COALESCE}
    ),
    "follows": TableSpec(("user_id", "followed_user_id"), _SEEN),
    "bookmark_tags": TableSpec(("user_id", "kind", "restrict", "name"), _SEEN),
    "user_relations": TableSpec(("relation", "user_id", "other_user_id"), _SEEN),
    "trending_tags": TableSpec(("kind", "date", "tag")),
    "work_stats": TableSpec(("kind", "work_id", "captured_at"), append_on_change=True),
}
COUNTERS = ("total_view", "total_bookmarks", "total_comments")


def _merge_value(rule: Merge, old: Any, new: Any, new_available: bool) -> Any:
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


def merge_row(spec: TableSpec, old: Row, new: Row) -> Row:
    """``new`` applied over ``old`` by the table's rules, as the database would do it."""
    available = new.get("status", "available") == "available"
    return {c: _merge_value(spec.rule(c), old.get(c), v, available) for c, v in new.items()}


def dedupe(spec: TableSpec, rows: Iterable[Row]) -> list[Row]:
    """One row per key (PostgreSQL refuses to update a row twice in one statement), in key order.

    Key order makes concurrent batches (many workers on one PostgreSQL) lock rows
    in the same order, so they wait for each other instead of deadlocking.
    """
    by_key: dict[tuple[Any, ...], Row] = {}
    for row in rows:
        key = tuple(row[c] for c in spec.key)
        by_key[key] = merge_row(spec, by_key[key], row) if key in by_key else row
    return [by_key[key] for key in sorted(by_key, key=lambda k: tuple((v is None, str(type(v)), v) for v in k))]


def _set_clause(table: sa.Table, spec: TableSpec, excluded: Any, columns: Sequence[str]) -> dict[str, Any]:
    available = excluded.status == "available" if "status" in table.c else sa.true()
    clause: dict[str, Any] = {}
    for name in columns:
        rule, new, old = spec.rule(name), excluded[name], table.c[name]
        if name in spec.key or rule is Merge.KEEP:
            continue
        if rule is Merge.COALESCE:
            clause[name] = sa.func.coalesce(new, old)
        elif rule is Merge.FIRST:
            clause[name] = sa.func.coalesce(old, new)
        elif rule is Merge.NONBLANK:
            clause[name] = sa.case((sa.or_(new.is_(None), new == ""), old), else_=new)
        elif rule is Merge.IF_AVAILABLE:
            clause[name] = sa.case((available, new), else_=old)
        elif rule is Merge.AVAILABLE_COALESCE:
            clause[name] = sa.case((available, sa.func.coalesce(new, old)), else_=old)
        else:
            clause[name] = new
    return clause


def _max_variables(dialect: sa.Dialect) -> int:
    if dialect.name == "sqlite":
        # SQLITE_MAX_VARIABLE_NUMBER defaults to 999 before 3.32 and 32766 since.
        return 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999
    return 65535


class Writer:
    """Writes a batch of rows, table by table in :data:`SPECS` order, in the caller's transaction."""

    def __init__(self, dialect: sa.Dialect) -> None:
        self.dialect = dialect
        self._insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
        self._max_variables = _max_variables(dialect)
        self._statements: dict[tuple[str, tuple[str, ...]], Any] = {}
        self._search_index: bool | None = None

    def write(self, connection: Connection, rows: Rows) -> dict[str, int]:
        """Upsert ``rows``; returns the number of rows written per table."""
        unknown = set(rows) - set(SPECS)
        if unknown:
            raise ValueError(f"no table spec for {sorted(unknown)}")
        written: dict[str, int] = {}
        for name, spec in SPECS.items():
            table_rows = dedupe(spec, rows.get(name) or [])
            if spec.children_of:
                table_rows = self._sync_children(connection, name, spec, rows, table_rows)
            if spec.append_on_change:
                table_rows = self._changed_stats(connection, table_rows)
            if table_rows:
                self._upsert(connection, TABLES[name], spec, table_rows)
                written[name] = len(table_rows)
        if self._search_index is None:  # an archive older than revision 0003 has no search queue
            self._search_index = self.dialect.name == "sqlite" and sa.inspect(connection).has_table("search_dirty")
        if self._search_index:
            sync_search(connection)
        return written

    def _upsert(self, connection: Connection, table: sa.Table, spec: TableSpec, rows: list[Row]) -> None:
        columns = tuple(rows[0])
        key = (table.name, columns)
        stmt = self._statements.get(key)
        if stmt is None:
            insert = self._insert(table)
            set_ = _set_clause(table, spec, insert.excluded, columns)
            if set_:
                stmt = insert.on_conflict_do_update(index_elements=list(spec.key), set_=set_)
            else:
                stmt = insert.on_conflict_do_nothing(index_elements=list(spec.key))
            self._statements[key] = stmt
        # One statement, many parameter sets: PostgreSQL gets multi-row VALUES pages
        # (SQLAlchemy's insertmanyvalues), SQLite one prepared statement run per row in C,
        # which measured faster than compiling a multi-row VALUES per batch.
        connection.execute(stmt, rows)

    def _sync_children(
        self, connection: Connection, name: str, spec: TableSpec, rows: Rows, new_rows: list[Row]
    ) -> list[Row]:
        """Make each parent's children exactly ``new_rows``; returns the rows still to upsert.

        Children that did not change are not rewritten, so a re-crawl costs no
        writes (nor search-index triggers) for them.
        """
        assert spec.children_of is not None
        column, parent = spec.children_of
        # Only a parent seen available speaks for its children; placeholders list none.
        parents = sorted({r["id"] for r in rows.get(parent) or [] if r.get("status", "available") == "available"})
        table = TABLES[name]
        existing: dict[tuple[Any, ...], Row] = {}
        for start in range(0, len(parents), self._max_variables):
            query = sa.select(table).where(table.c[column].in_(parents[start : start + self._max_variables]))
            for found in connection.execute(query).mappings():
                existing[tuple(found[c] for c in spec.key)] = dict(found)
        wanted = {tuple(r[c] for c in spec.key): r for r in new_rows}
        stale = [dict(zip(spec.key, key, strict=True)) for key in existing if key not in wanted]
        if stale:
            where = sa.and_(*(table.c[c] == sa.bindparam(f"k_{c}") for c in spec.key))
            connection.execute(table.delete().where(where), [{f"k_{c}": v for c, v in k.items()} for k in stale])
        return [
            row
            for key, row in wanted.items()
            if key not in existing or any(existing[key][c] != v for c, v in row.items())
        ]

    def _changed_stats(self, connection: Connection, rows: list[Row]) -> list[Row]:
        """The stats rows whose counts differ from the work's latest row (NULLs carried forward)."""
        table = TABLES["work_stats"]
        latest: dict[tuple[str, int], Row] = {}
        for kind in sorted({r["kind"] for r in rows}):
            ids = sorted({r["work_id"] for r in rows if r["kind"] == kind})
            newer = table.alias("newer")
            for start in range(0, len(ids), self._max_variables - 1):
                query = sa.select(table.c.work_id, *(table.c[c] for c in COUNTERS)).where(
                    table.c.kind == kind,
                    table.c.work_id.in_(ids[start : start + self._max_variables - 1]),
                    ~sa.exists().where(
                        newer.c.kind == table.c.kind,
                        newer.c.work_id == table.c.work_id,
                        newer.c.captured_at > table.c.captured_at,
                    ),
                )
                for found in connection.execute(query).mappings():
                    latest[(kind, found["work_id"])] = dict(found)
        changed = []
        # In time order, each row against the work's latest so far: a work listed twice in
        # one batch (a trending page and its detail, two related pages) adds one row, not two.
        for row in sorted(rows, key=lambda r: r["captured_at"]):
            key = (row["kind"], row["work_id"])
            before = latest.get(key)
            if before is not None:
                row = {**row, **{c: before[c] for c in COUNTERS if row[c] is None}}
                if all(row[c] == before[c] for c in COUNTERS):
                    continue
            changed.append(row)
            latest[key] = row
        return changed
