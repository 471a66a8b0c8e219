"""crawl_runs.crawl_id: the crawl a worker's run belongs to.

Revision ID: 0007
Revises: 0006

With PIXIV_REDIS_URL set, many workers run one crawl; each writes its own
crawl_runs row (host, pid, heartbeat) and they share this id, which also names
the crawl's keys in Redis.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch:
        batch.add_column(sa.Column("crawl_id", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_crawl_runs_crawl_id"), "crawl_runs", ["crawl_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_crawl_runs_crawl_id"), table_name="crawl_runs")
    with op.batch_alter_table("crawl_runs") as batch:
        batch.drop_column("crawl_id")
