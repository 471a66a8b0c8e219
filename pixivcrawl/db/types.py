"""Column types shared by the schema and the migrations."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa


class UtcDateTime(sa.TypeDecorator[dt.datetime]):
    """A timezone-aware timestamp stored in UTC on every backend.

    SQLite has no timezone type and SQLAlchemy drops the offset on the way in,
    so values are converted to UTC first and get ``tzinfo=UTC`` back on read.
    Naive values are taken to be UTC already.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


class Json(sa.TypeDecorator[Any]):
    """JSON, as JSONB on PostgreSQL; Python None is SQL NULL (not JSON null), so COALESCE-style
    merges and IS NULL work.

    The same as ``sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True),
    "postgresql")``, except that JSONB is picked when a PostgreSQL dialect asks for it: a crawl
    into SQLite does not import SQLAlchemy's PostgreSQL dialect (~50 ms of every start).
    """

    impl = sa.JSON(none_as_null=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB(none_as_null=True))
        return dialect.type_descriptor(sa.JSON(none_as_null=True))
