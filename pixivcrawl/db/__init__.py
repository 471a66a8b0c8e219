"""The archive database: schema (with its write rules), migrations, row building, upserts, and the crawl's Archive."""

from __future__ import annotations

from pixivcrawl.db.archive import Archive, archived_ids
from pixivcrawl.db.engine import create_engine, current_revision, head_revision, mask_url, upgrade
from pixivcrawl.db.rows import ROW_BUILDERS, Rows, rows_builder, rows_for
from pixivcrawl.db.rules import Merge, TableRules, rules_of
from pixivcrawl.db.upsert import Writer

__all__ = [
    "ROW_BUILDERS",
    "Archive",
    "Merge",
    "Rows",
    "TableRules",
    "Writer",
    "archived_ids",
    "create_engine",
    "current_revision",
    "head_revision",
    "mask_url",
    "rows_builder",
    "rows_for",
    "rules_of",
    "upgrade",
]
