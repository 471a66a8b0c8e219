"""What the archive recorded about downloaded files: each file's source URL and facts, by work."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from pixivcrawl.db.reads import rows_in
from pixivcrawl.db.schema import TABLES

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine import Connection


def _rows(connection: Connection, query: sa.Select[Any]) -> list[dict[str, Any]]:
    return [dict(row) for row in connection.execute(query).mappings()]


def illust_pages(connection: Connection, illust_id: int) -> list[dict[str, Any]]:
    """The pages of an illust that have a file: file_url, local_path, size, sha256, width, height."""
    t = TABLES["illust_pages"]
    query = sa.select(t.c.file_url, t.c.local_path, t.c.size, t.c.sha256, t.c.width, t.c.height)
    return _rows(connection, query.where(t.c.illust_id == illust_id, t.c.local_path.is_not(None)))


def novel_images(connection: Connection, novel_id: int) -> list[dict[str, Any]]:
    """The images of a novel's text that have a file: url, local_path, size, sha256."""
    t = TABLES["novel_images"]
    query = sa.select(t.c.url, t.c.local_path, t.c.size, t.c.sha256)
    return _rows(connection, query.where(t.c.novel_id == novel_id, t.c.local_path.is_not(None)))


def profile_image_urls(connection: Connection, user_ids: Sequence[int]) -> dict[int, str | None]:
    return dict(rows_in(connection, TABLES["users"], "id", sorted(set(user_ids)), ("id", "profile_image_url")))


def cover_url(connection: Connection, novel_id: int) -> str | None:
    t = TABLES["novels"]
    url: str | None = connection.execute(sa.select(t.c.cover_url).where(t.c.id == novel_id)).scalar()
    return url


def ugoira(connection: Connection, illust_id: int) -> dict[str, Any] | None:
    """The ugoira row of an illust: its zip URL and the zip's and animation's files."""
    t = TABLES["ugoira"]
    query = sa.select(
        t.c.zip_url, t.c.zip_local_path, t.c.zip_size, t.c.zip_sha256,
        t.c.animation_local_path, t.c.animation_size, t.c.animation_sha256,
    ).where(t.c.illust_id == illust_id)
    rows = _rows(connection, query)
    return rows[0] if rows else None
