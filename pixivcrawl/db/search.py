"""SQLite full-text search: which works' documents are stale, and rebuilding them per batch.

Triggers on the content tables only note a changed work in ``search_dirty``
(one cheap insert per row); :func:`sync_search` then rebuilds the FTS5 documents
of the noted works in a few set-based statements, once per batch. Rebuilding a
document inside each row's trigger made every tag row cost a whole document.
PostgreSQL needs none of this: its search indexes are expression indexes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

_TAGS = """(SELECT group_concat(t.name || ' ' || coalesce(t.translated_name, ''), ' ')
            FROM {table} x JOIN tags t ON t.name = x.tag WHERE x.{key} = {id})"""
_DIRTY = "(SELECT id FROM search_dirty WHERE kind = '{kind}')"

SYNC_STATEMENTS = (
    f"DELETE FROM illusts_fts WHERE rowid IN {_DIRTY.format(kind='illust')}",
    f"""INSERT INTO illusts_fts (rowid, title, caption, tags)
        SELECT i.id, i.title, i.caption, {_TAGS.format(table='illust_tags', key='illust_id', id='i.id')}
        FROM illusts i WHERE i.id IN {_DIRTY.format(kind='illust')}""",
    f"DELETE FROM novels_fts WHERE rowid IN {_DIRTY.format(kind='novel')}",
    # A novel's text may arrive before (or without) the novel's own row.
    f"""INSERT INTO novels_fts (rowid, title, caption, tags, text)
        SELECT d.id, n.title, n.caption, {_TAGS.format(table='novel_tags', key='novel_id', id='d.id')},
               (SELECT plain_text FROM novel_texts WHERE novel_id = d.id)
        FROM search_dirty d LEFT JOIN novels n ON n.id = d.id
        WHERE d.kind = 'novel' AND (n.id IS NOT NULL OR d.id IN (SELECT novel_id FROM novel_texts))""",
    "DELETE FROM search_dirty",
)

#: trigger name -> (when, kind, id expression): each notes one work as dirty.
DIRTY_TRIGGERS = {
    "illusts_search_ai": ("AFTER INSERT ON illusts", "illust", "new.id"),
    "illusts_search_au": (
        "AFTER UPDATE OF title, caption ON illusts WHEN old.title IS NOT new.title OR old.caption IS NOT new.caption",
        "illust",
        "new.id",
    ),
    "illusts_search_ad": ("AFTER DELETE ON illusts", "illust", "old.id"),
    "illust_tags_search_ai": ("AFTER INSERT ON illust_tags", "illust", "new.illust_id"),
    "illust_tags_search_ad": ("AFTER DELETE ON illust_tags", "illust", "old.illust_id"),
    "novels_search_ai": ("AFTER INSERT ON novels", "novel", "new.id"),
    "novels_search_au": (
        "AFTER UPDATE OF title, caption ON novels WHEN old.title IS NOT new.title OR old.caption IS NOT new.caption",
        "novel",
        "new.id",
    ),
    "novels_search_ad": ("AFTER DELETE ON novels", "novel", "old.id"),
    "novel_tags_search_ai": ("AFTER INSERT ON novel_tags", "novel", "new.novel_id"),
    "novel_tags_search_ad": ("AFTER DELETE ON novel_tags", "novel", "old.novel_id"),
    "novel_texts_search_ai": ("AFTER INSERT ON novel_texts", "novel", "new.novel_id"),
    "novel_texts_search_au": ("AFTER UPDATE OF plain_text ON novel_texts", "novel", "new.novel_id"),
}


def dirty_trigger_sql(name: str) -> str:
    when, kind, key = DIRTY_TRIGGERS[name]
    return f"CREATE TRIGGER {name} {when} BEGIN INSERT OR IGNORE INTO search_dirty VALUES ('{kind}', {key}); END"


def sync_search(connection: Connection) -> None:
    """Rebuild the search documents of every work changed since the last sync (SQLite, rev. 0003+)."""
    if connection.execute(sa.text("SELECT 1 FROM search_dirty LIMIT 1")).first() is None:
        return
    for statement in SYNC_STATEMENTS:
        connection.execute(sa.text(statement))
