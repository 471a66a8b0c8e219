"""Read access to the archive for spiders: which works are already stored."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING, Self

import sqlalchemy as sa

from pixivcrawl.db.engine import create_engine
from pixivcrawl.db.schema import TABLES

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from sqlalchemy.engine import Connection, Engine

WORK_TABLES = {"illust": "illusts", "novel": "novels"}
_CHUNK = 900


def archived_ids(connection: Connection, kind: str, ids: Iterable[int]) -> set[int]:
    """Which of ``ids`` (``kind`` is ``illust`` or ``novel``) are stored with status available.

    A novel counts only with its text: a novel whose text was never read is not archived yet.
    """
    if kind not in WORK_TABLES:
        raise ValueError(f"kind must be one of {sorted(WORK_TABLES)}, not {kind!r}")
    table = TABLES[WORK_TABLES[kind]]
    complete = [table.c.status == "available"]
    if kind == "novel":
        texts = TABLES["novel_texts"]
        complete.append(sa.exists().where(texts.c.novel_id == table.c.id))
    wanted = sorted(set(ids))
    found: set[int] = set()
    for start in range(0, len(wanted), _CHUNK):
        query = sa.select(table.c.id).where(table.c.id.in_(wanted[start : start + _CHUNK]), *complete)
        found.update(connection.execute(query).scalars())
    return found


class Archive:
    """The archive at ``PIXIV_DATABASE_URL``, for incremental crawls.

    ``await archive.archived_ids("illust", ids)`` runs off the event loop. A
    database that has no tables yet has nothing archived.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> Self:
        return cls(create_engine(url))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls.from_url(crawler.settings["PIXIV_DATABASE_URL"])

    def archived_ids_sync(self, kind: str, ids: Iterable[int]) -> set[int]:
        if kind not in WORK_TABLES:
            raise ValueError(f"kind must be one of {sorted(WORK_TABLES)}, not {kind!r}")
        ids = list(ids)
        with self.engine.connect() as connection:
            if not sa.inspect(connection).has_table(WORK_TABLES[kind]):
                return set()
            return archived_ids(connection, kind, ids)

    async def archived_ids(self, kind: str, ids: Iterable[int]) -> set[int]:
        return await asyncio.to_thread(self.archived_ids_sync, kind, list(ids))

    def close(self) -> None:
        self.engine.dispose()
