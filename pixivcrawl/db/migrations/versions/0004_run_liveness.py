"""crawl_runs: which process runs the crawl (host, pid), its heartbeat, and the `lost` status.

Revision ID: 0004
Revises: 0003

A crawl killed with SIGKILL (or a machine that lost power) cannot record its
end, so its row stayed ``running`` forever. The recorder now writes the host
and process id and a heartbeat; the next crawl marks a run whose process is
gone, or whose heartbeat stopped, as ``lost``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('running', 'finished', 'interrupted', 'failed')"
NEW_STATUSES = "status IN ('running', 'finished', 'interrupted', 'failed', 'lost')"


def upgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch:
        batch.add_column(sa.Column("host", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch.drop_constraint(op.f("ck_crawl_runs_status"), type_="check")
        batch.create_check_constraint(op.f("ck_crawl_runs_status"), sa.text(NEW_STATUSES))
    op.create_index(op.f("ix_crawl_runs_status"), "crawl_runs", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_crawl_runs_status"), table_name="crawl_runs")
    op.execute("UPDATE crawl_runs SET status = 'failed' WHERE status = 'lost'")
    with op.batch_alter_table("crawl_runs") as batch:
        batch.drop_constraint(op.f("ck_crawl_runs_status"), type_="check")
        batch.create_check_constraint(op.f("ck_crawl_runs_status"), sa.text(OLD_STATUSES))
        batch.drop_column("heartbeat_at")
        batch.drop_column("pid")
        batch.drop_column("host")
