"""work_events (what each crawl found new or changed) and crawl_runs.job (the archive plan job).

Revision ID: 0009
Revises: 0008

The new/changed counts of a run live in ``crawl_runs.counts`` (keys ``new``,
``changed_works``, ``events``, ``rejected_items``), so they need no column.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

EVENTS = "event IN ('new', 'hidden', 'deleted', 'restored', 'reuploaded', 'retitled', 'retagged')"
JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch:
        batch.add_column(sa.Column("job", sa.String(length=128), nullable=True))
    op.create_index(op.f("ix_crawl_runs_job"), "crawl_runs", ["job"])
    op.create_table(
        "work_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("crawl_runs.id", ondelete="SET NULL",
                                                       name=op.f("fk_work_events_run_id_crawl_runs")), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("work_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", JSON, nullable=True),
        sa.CheckConstraint("kind IN ('illust', 'novel')", name=op.f("ck_work_events_kind")),
        sa.CheckConstraint(EVENTS, name=op.f("ck_work_events_event")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_events")),
    )
    op.create_index(op.f("ix_work_events_run_id"), "work_events", ["run_id"])
    op.create_index(op.f("ix_work_events_event"), "work_events", ["event"])
    op.create_index(op.f("ix_work_events_at"), "work_events", ["at"])
    op.create_index("ix_work_events_kind_work_id", "work_events", ["kind", "work_id"])


def downgrade() -> None:
    op.drop_table("work_events")
    op.drop_index(op.f("ix_crawl_runs_job"), table_name="crawl_runs")
    with op.batch_alter_table("crawl_runs") as batch:
        batch.drop_column("job")
