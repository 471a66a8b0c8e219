"""Every endpoint of the App API reference: novel rankings, bookmark tags, user lists, novel images,
the fields dropped so far, and NULL (not a placeholder's 0 or 100) for what a hidden work does not show.

Revision ID: 0005
Revises: 0004

- ``rankings`` gets ``kind`` (illust or novel) and ``illust_id`` becomes ``work_id``; every row is
  kept, as an illust ranking. ``ranking_history`` keeps its columns (illust rankings only).
- ``illusts.width``, ``height``, ``page_count`` and ``novels.page_count`` may be NULL: a work first
  seen behind a placeholder has no size or page count yet. SQLite drops a NOT NULL by editing the
  stored CREATE TABLE (``PRAGMA writable_schema``, the way SQLite documents for exactly this
  change): rebuilding ``illusts`` would cascade-delete its pages and tags and break the views.
- New columns: ``illusts.restriction_attributes``, ``illusts.comment_access_control``,
  ``users.is_muted``, ``novel_texts.like_count``, ``series.width``, ``height``,
  ``watchlist_added``, ``ai_type``, ``display_text``.
- New tables: ``novel_images``, ``bookmark_tags``, ``user_relations``.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Spelled out here, not imported from the schema, so this revision never changes.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Timestamp = sa.DateTime(timezone=True)

NULLABLE = {"illusts": ("page_count", "width", "height"), "novels": ("page_count",)}

RANKING_HISTORY = {
    "0003": """
        SELECT r.illust_id, r.mode, r.date, r.rank, i.title, i.user_id, u.name AS user_name, i.status
        FROM rankings r LEFT JOIN illusts i ON i.id = r.illust_id LEFT JOIN users u ON u.id = i.user_id""",
    "0005": """
        SELECT r.work_id AS illust_id, r.mode, r.date, r.rank, i.title, i.user_id, u.name AS user_name, i.status
        FROM rankings r LEFT JOIN illusts i ON i.id = r.work_id LEFT JOIN users u ON u.id = i.user_id
        WHERE r.kind = 'illust'""",
}

def _new_columns() -> dict[str, tuple[sa.Column[object], ...]]:
    return {
        "illusts": (
            sa.Column("restriction_attributes", Json, nullable=True),
            sa.Column("comment_access_control", sa.Integer(), nullable=True),
        ),
        "users": (sa.Column("is_muted", sa.Boolean(), nullable=True),),
        "novel_texts": (sa.Column("like_count", sa.Integer(), nullable=True),),
        "series": (
            sa.Column("width", sa.Integer(), nullable=True),
            sa.Column("height", sa.Integer(), nullable=True),
            sa.Column("watchlist_added", sa.Boolean(), nullable=True),
            sa.Column("ai_type", sa.Integer(), nullable=True),
            sa.Column("display_text", sa.String(), nullable=True),
        ),
    }


def _sqlite_set_not_null(table: str, columns: tuple[str, ...], not_null: bool) -> None:
    """Add or drop NOT NULL on ``columns`` in SQLite's stored CREATE TABLE (no data changes)."""
    bind = op.get_bind()
    sql = bind.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :n"), {"n": table}).scalar_one()
    for column in columns:
        pattern = rf"(\b{column}\s+INTEGER)(\s+NOT\s+NULL)?(?=\s*,)"
        sql, count = re.subn(pattern, rf"\1{' NOT NULL' if not_null else ''}", sql)
        if count != 1:
            raise RuntimeError(f"{table}.{column}: column definition not found in the stored schema")
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :n"), {"sql": sql, "n": table})
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))


def _set_nullable(nullable: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, columns in NULLABLE.items():
            _sqlite_set_not_null(table, columns, not nullable)
        return
    for table, columns in NULLABLE.items():
        for column in columns:
            op.alter_column(table, column, existing_type=sa.Integer(), nullable=nullable)


def _rankings(kind_column: bool) -> list[sa.SchemaItem]:
    """The columns, key and constraints of ``rankings`` after (``kind_column``) or before this revision."""
    if kind_column:
        return [
            sa.Column("kind", sa.String(length=16), server_default="illust", nullable=False),
            sa.Column("mode", sa.String(length=32), nullable=False),
            sa.Column("date", sa.Date(), nullable=False),
            sa.Column("work_id", BigId, autoincrement=False, nullable=False),
            sa.Column("rank", sa.Integer(), nullable=False),
            sa.Column("crawled_at", Timestamp, nullable=False),
            sa.CheckConstraint("kind IN ('illust', 'novel')", name=op.f("ck_rankings_kind")),
            sa.PrimaryKeyConstraint("kind", "mode", "date", "work_id", name=op.f("pk_rankings")),
        ]
    return [
        sa.Column("mode", sa.String(length=32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("illust_id", BigId, autoincrement=False, nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("crawled_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("mode", "date", "illust_id", name=op.f("pk_rankings")),
    ]


RANKING_INDEXES = {
    True: {"ix_rankings_kind_mode_date_rank": ["kind", "mode", "date", "rank"], "ix_rankings_kind_work_id_date": ["kind", "work_id", "date"]},
    False: {"ix_rankings_mode_date_rank": ["mode", "date", "rank"], "ix_rankings_illust_id_date": ["illust_id", "date"]},
}


def _rebuild_rankings(to_kind: bool) -> None:
    """Recreate ``rankings`` in its new (or old) shape, copying every row."""
    op.execute("DROP VIEW IF EXISTS ranking_history")
    for index in RANKING_INDEXES[not to_kind]:
        op.drop_index(index, table_name="rankings")
    op.rename_table("rankings", "rankings_old")
    if op.get_bind().dialect.name == "postgresql":  # the old key's index keeps its name in PostgreSQL
        op.execute("ALTER INDEX pk_rankings RENAME TO pk_rankings_old")
    op.create_table("rankings", *_rankings(to_kind))
    if to_kind:
        op.execute("INSERT INTO rankings (kind, mode, date, work_id, rank, crawled_at) "
                   "SELECT 'illust', mode, date, illust_id, rank, crawled_at FROM rankings_old")
    else:
        op.execute("INSERT INTO rankings (mode, date, illust_id, rank, crawled_at) "
                   "SELECT mode, date, work_id, rank, crawled_at FROM rankings_old WHERE kind = 'illust'")
    op.drop_table("rankings_old")
    for index, columns in RANKING_INDEXES[to_kind].items():
        op.create_index(index, "rankings", columns)
    op.execute(f"CREATE VIEW ranking_history AS {RANKING_HISTORY['0005' if to_kind else '0003']}")


def upgrade() -> None:
    _rebuild_rankings(to_kind=True)
    _set_nullable(True)
    for table, columns in _new_columns().items():
        for column in columns:
            op.add_column(table, column)
    op.create_table(
        "novel_images",
        sa.Column("novel_id", BigId, autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("image_key", sa.String(), nullable=False),
        sa.Column("illust_id", BigId, nullable=True),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("sanity_level", sa.Integer(), nullable=True),
        sa.Column("url", sa.String(), nullable=True),
        sa.Column("urls", Json, nullable=True),
        sa.Column("local_path", sa.String(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("first_seen_at", Timestamp, nullable=False),
        sa.Column("last_seen_at", Timestamp, nullable=False),
        sa.CheckConstraint("kind IN ('uploaded', 'pixiv')", name=op.f("ck_novel_images_kind")),
        sa.PrimaryKeyConstraint("novel_id", "kind", "image_key", name=op.f("pk_novel_images")),
    )
    op.create_index(op.f("ix_novel_images_illust_id"), "novel_images", ["illust_id"])
    op.create_table(
        "bookmark_tags",
        sa.Column("user_id", BigId, autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("restrict", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("first_seen_at", Timestamp, nullable=False),
        sa.Column("last_seen_at", Timestamp, nullable=False),
        sa.CheckConstraint("kind IN ('illust', 'novel')", name=op.f("ck_bookmark_tags_kind")),
        sa.PrimaryKeyConstraint("user_id", "kind", "restrict", "name", name=op.f("pk_bookmark_tags")),
    )
    op.create_index(op.f("ix_bookmark_tags_first_seen_at"), "bookmark_tags", ["first_seen_at"])
    op.create_index(op.f("ix_bookmark_tags_last_seen_at"), "bookmark_tags", ["last_seen_at"])
    op.create_table(
        "user_relations",
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("user_id", BigId, autoincrement=False, nullable=False),
        sa.Column("other_user_id", BigId, autoincrement=False, nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("first_seen_at", Timestamp, nullable=False),
        sa.Column("last_seen_at", Timestamp, nullable=False),
        sa.CheckConstraint("relation IN ('related', 'mypixiv', 'recommended', 'listed')", name=op.f("ck_user_relations_relation")),
        sa.PrimaryKeyConstraint("relation", "user_id", "other_user_id", name=op.f("pk_user_relations")),
    )
    op.create_index(op.f("ix_user_relations_other_user_id"), "user_relations", ["other_user_id"])
    op.create_index(op.f("ix_user_relations_first_seen_at"), "user_relations", ["first_seen_at"])
    op.create_index(op.f("ix_user_relations_last_seen_at"), "user_relations", ["last_seen_at"])


def downgrade() -> None:
    for table in ("user_relations", "bookmark_tags", "novel_images"):
        op.drop_table(table)
    for table, columns in _new_columns().items():
        for column in columns:
            op.drop_column(table, column.name)
    # The old schema has no NULL for these: a placeholder's values come back.
    for table, columns in NULLABLE.items():
        for column in columns:
            default = 1 if column == "page_count" else 0
            op.execute(f"UPDATE {table} SET {column} = {default} WHERE {column} IS NULL")  # noqa: S608
    _set_nullable(False)
    _rebuild_rankings(to_kind=False)
