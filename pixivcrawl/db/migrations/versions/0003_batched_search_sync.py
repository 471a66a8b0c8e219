"""SQLite search: triggers note changed works; the store rebuilds their documents once per batch.

Revision ID: 0003
Revises: 0002

Revision 0002 rebuilt a work's whole FTS document inside every row trigger, so
storing a work with five tags rebuilt its document six times; storing became
~20x slower than the rows themselves. Documents are unchanged by this revision.
"""

from __future__ import annotations

import importlib

from alembic import op

from pixivcrawl.db.search import DIRTY_TRIGGERS, SYNC_STATEMENTS, dirty_trigger_sql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_0002 = importlib.import_module("pixivcrawl.db.migrations.versions.0002_views_and_search")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in _0002.SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("CREATE TABLE search_dirty (kind TEXT NOT NULL, id BIGINT NOT NULL, PRIMARY KEY (kind, id)) WITHOUT ROWID")
    for name in DIRTY_TRIGGERS:
        op.execute(dirty_trigger_sql(name))


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in SYNC_STATEMENTS:  # bring the documents of pending works up to date first
        op.execute(statement)
    for name in DIRTY_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS search_dirty")
    for name, (when, body, key) in _0002.SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} BEGIN {body.format(id=key)} END")
