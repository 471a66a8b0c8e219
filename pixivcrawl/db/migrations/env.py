"""Alembic environment: migrate the connection handed over by :func:`pixivcrawl.db.engine.upgrade`."""

from __future__ import annotations

from alembic import context

from pixivcrawl.db.engine import include_object
from pixivcrawl.db.schema import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through pixivcrawl.db.engine.upgrade() or `scrapy db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most constraints; batch mode recreates the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
