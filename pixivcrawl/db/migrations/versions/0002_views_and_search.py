"""Views that save the joins, and full-text search (SQLite FTS5, PostgreSQL tsvector + pg_trgm).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

logger = logging.getLogger(__name__)

# Same column names on both backends; only the list aggregate differs.
AGGREGATE = {
    "sqlite": "(SELECT json_group_array({col}) FROM (SELECT {col} FROM {table} WHERE {where} ORDER BY {order}))",
    "postgresql": "(SELECT coalesce(json_agg({col} ORDER BY {order}), '[]'::json) FROM {table} WHERE {where})",
}


def _views(dialect: str) -> dict[str, str]:
    agg = AGGREGATE[dialect]
    tags = agg.format(col="tag", table="illust_tags", where="illust_id = i.id", order="position")
    paths = agg.format(col="local_path", table="illust_pages", where="illust_id = i.id AND local_path IS NOT NULL", order="page")
    novel_tags = agg.format(col="tag", table="novel_tags", where="novel_id = n.id", order="position")
    return {
        "illust_overview": f"""
            SELECT i.id AS illust_id, i.title, i.type, i.user_id, u.name AS user_name, u.account AS user_account,
                   i.create_date, i.status, i.restriction, i.x_restrict, i.ai_type, i.page_count,
                   i.total_view, i.total_bookmarks, i.total_comments, i.series_id,
                   {tags} AS tags,
                   {paths} AS local_paths,
                   i.first_seen_at, i.last_seen_at
            FROM illusts i LEFT JOIN users u ON u.id = i.user_id""",
        "novel_overview": f"""
            SELECT n.id AS novel_id, n.title, n.user_id, u.name AS user_name, n.create_date, n.status,
                   n.x_restrict, n.ai_type, n.text_length, t.length AS stored_text_length,
                   n.total_view, n.total_bookmarks, n.series_id, {novel_tags} AS tags,
                   n.first_seen_at, n.last_seen_at
            FROM novels n LEFT JOIN users u ON u.id = n.user_id LEFT JOIN novel_texts t ON t.novel_id = n.id""",
        "ranking_history": """
            SELECT r.illust_id, r.mode, r.date, r.rank, i.title, i.user_id, u.name AS user_name, i.status
            FROM rankings r LEFT JOIN illusts i ON i.id = r.illust_id LEFT JOIN users u ON u.id = i.user_id""",
        "latest_work_stats": """
            SELECT w.kind, w.work_id, w.captured_at, w.total_view, w.total_bookmarks, w.total_comments
            FROM work_stats w
            WHERE NOT EXISTS (SELECT 1 FROM work_stats n
                              WHERE n.kind = w.kind AND n.work_id = w.work_id AND n.captured_at > w.captured_at)""",
    }


# The FTS rows are recomputed from the content tables whenever a source row changes.
SQLITE_ILLUST_DOC = """
    DELETE FROM illusts_fts WHERE rowid = {id};
    INSERT INTO illusts_fts (rowid, title, caption, tags)
    SELECT i.id, i.title, i.caption,
           (SELECT group_concat(t.name || ' ' || coalesce(t.translated_name, ''), ' ')
            FROM illust_tags it JOIN tags t ON t.name = it.tag WHERE it.illust_id = i.id)
    FROM illusts i WHERE i.id = {id};"""
SQLITE_NOVEL_DOC = """
    DELETE FROM novels_fts WHERE rowid = {id};
    INSERT INTO novels_fts (rowid, title, caption, tags, text)
    SELECT {id}, n.title, n.caption,
           (SELECT group_concat(t.name || ' ' || coalesce(t.translated_name, ''), ' ')
            FROM novel_tags nt JOIN tags t ON t.name = nt.tag WHERE nt.novel_id = {id}),
           (SELECT plain_text FROM novel_texts WHERE novel_id = {id})
    FROM (SELECT 1) LEFT JOIN novels n ON n.id = {id};"""
SQLITE_TRIGGERS = {
    "illusts_fts_ai": ("AFTER INSERT ON illusts", SQLITE_ILLUST_DOC, "new.id"),
    "illusts_fts_au": (
        "AFTER UPDATE OF title, caption ON illusts WHEN old.title IS NOT new.title OR old.caption IS NOT new.caption",
        SQLITE_ILLUST_DOC,
        "new.id",
    ),
    "illusts_fts_ad": ("AFTER DELETE ON illusts", "DELETE FROM illusts_fts WHERE rowid = {id};", "old.id"),
    "illust_tags_fts_ai": ("AFTER INSERT ON illust_tags", SQLITE_ILLUST_DOC, "new.illust_id"),
    "illust_tags_fts_ad": ("AFTER DELETE ON illust_tags", SQLITE_ILLUST_DOC, "old.illust_id"),
    "novels_fts_ai": ("AFTER INSERT ON novels", SQLITE_NOVEL_DOC, "new.id"),
    "novels_fts_au": (
        "AFTER UPDATE OF title, caption ON novels WHEN old.title IS NOT new.title OR old.caption IS NOT new.caption",
        SQLITE_NOVEL_DOC,
        "new.id",
    ),
    "novels_fts_ad": ("AFTER DELETE ON novels", "DELETE FROM novels_fts WHERE rowid = {id};", "old.id"),
    "novel_tags_fts_ai": ("AFTER INSERT ON novel_tags", SQLITE_NOVEL_DOC, "new.novel_id"),
    "novel_tags_fts_ad": ("AFTER DELETE ON novel_tags", SQLITE_NOVEL_DOC, "old.novel_id"),
    "novel_texts_fts_ai": ("AFTER INSERT ON novel_texts", SQLITE_NOVEL_DOC, "new.novel_id"),
    "novel_texts_fts_au": ("AFTER UPDATE OF plain_text ON novel_texts", SQLITE_NOVEL_DOC, "new.novel_id"),
}


def _sqlite_search() -> None:
    # trigram matches inside Japanese text, which has no spaces between words.
    op.execute("CREATE VIRTUAL TABLE illusts_fts USING fts5(title, caption, tags, tokenize = 'trigram')")
    op.execute("CREATE VIRTUAL TABLE novels_fts USING fts5(title, caption, tags, text, tokenize = 'trigram')")
    for name, (when, body, key) in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} BEGIN {body.format(id=key)} END")
    op.execute(
        """INSERT INTO illusts_fts (rowid, title, caption, tags)
           SELECT i.id, i.title, i.caption,
                  (SELECT group_concat(t.name || ' ' || coalesce(t.translated_name, ''), ' ')
                   FROM illust_tags it JOIN tags t ON t.name = it.tag WHERE it.illust_id = i.id)
           FROM illusts i"""
    )
    op.execute(
        """INSERT INTO novels_fts (rowid, title, caption, tags, text)
           SELECT n.id, n.title, n.caption,
                  (SELECT group_concat(t.name || ' ' || coalesce(t.translated_name, ''), ' ')
                   FROM novel_tags nt JOIN tags t ON t.name = nt.tag WHERE nt.novel_id = n.id),
                  (SELECT plain_text FROM novel_texts WHERE novel_id = n.id)
           FROM novels n"""
    )


def _pg_trgm_available(bind: sa.Connection) -> bool:
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        logger.warning("pg_trgm is not available (CREATE EXTENSION refused): substring search will scan")
    found = bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first()
    return found is not None


def _postgresql_search() -> None:
    bind = op.get_bind()
    op.execute("CREATE INDEX ix_illusts_document ON illusts USING gin (to_tsvector('simple', title || ' ' || caption))")
    op.execute("CREATE INDEX ix_novels_document ON novels USING gin (to_tsvector('simple', title || ' ' || caption))")
    op.execute("CREATE INDEX ix_novel_texts_document ON novel_texts USING gin (to_tsvector('simple', plain_text))")
    if _pg_trgm_available(bind):
        op.execute("CREATE INDEX ix_illusts_content_trgm ON illusts USING gin ((title || ' ' || caption) gin_trgm_ops)")
        op.execute("CREATE INDEX ix_novel_texts_plain_text_trgm ON novel_texts USING gin (plain_text gin_trgm_ops)")
        op.execute("CREATE INDEX ix_tags_translated_name_trgm ON tags USING gin (translated_name gin_trgm_ops)")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, select in _views(dialect).items():
        op.execute(f"CREATE VIEW {name} AS {select}")
    if dialect == "sqlite":
        _sqlite_search()
    elif dialect == "postgresql":
        _postgresql_search()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in _views(dialect):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS illusts_fts")
        op.execute("DROP TABLE IF EXISTS novels_fts")
    else:
        for index in ("ix_illusts_document", "ix_novels_document", "ix_novel_texts_document",
                      "ix_illusts_content_trgm", "ix_novel_texts_plain_text_trgm", "ix_tags_translated_name_trgm"):
            op.execute(f"DROP INDEX IF EXISTS {index}")
