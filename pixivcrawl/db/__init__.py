"""The archive database: schema, migrations, row building and upserts."""

from __future__ import annotations

from pixivcrawl.db.archive import Archive, archived_ids
from pixivcrawl.db.engine import create_engine, current_revision, head_revision, mask_url, upgrade
from pixivcrawl.db.rows import ROW_BUILDERS, Rows, rows_builder, rows_for
from pixivcrawl.db.upsert import SPECS, Merge, TableSpec, Writer

__all__ = [
    "ROW_BUILDERS",
    "SPECS",
    "Archive",
    "Merge",
    "Rows",
    "TableSpec",
    "Writer",
    "archived_ids",
    "create_engine",
    "current_revision",
    "head_revision",
    "mask_url",
    "rows_builder",
    "rows_for",
    "upgrade",
]
