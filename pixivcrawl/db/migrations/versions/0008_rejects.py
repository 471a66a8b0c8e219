"""The rejects table: items refused by validation or by the store, with the reason and the raw JSON.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rejects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.BigInteger(), nullable=True),
        sa.Column("spider", sa.String(length=64), nullable=True),
        sa.Column("url", sa.String(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("error", sa.String(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("rejected_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejects")),
    )
    op.create_index(op.f("ix_rejects_kind"), "rejects", ["kind"])
    op.create_index(op.f("ix_rejects_rejected_at"), "rejects", ["rejected_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_rejects_rejected_at"), table_name="rejects")
    op.drop_index(op.f("ix_rejects_kind"), table_name="rejects")
    op.drop_table("rejects")
