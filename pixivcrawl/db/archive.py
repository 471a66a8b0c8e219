"""Read access to the archive for spiders: which works are already stored."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable
from pathlib import Path
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


#: ``archive_meta`` key saying what the archive holds: ``pixiv`` (real crawls) or ``sandbox`` (the demo's fake works).
CONTENTS_KEY = "contents"
#: Where the in-process sandbox serves from (real Pixiv never does).
SANDBOX_ORIGIN = "http://127.0.0.1:"


def archive_meta(url: str) -> dict[str, str]:
    """The ``archive_meta`` facts of the archive at ``url``, read without creating or migrating it.

    A SQLite file that does not exist, a database without the table, or one that
    cannot be reached has no facts (the crawl itself reports an unreachable database).
    An archive from before ``archive_meta`` whose pages come from a loopback host (the
    demo wrote into ``data/pixiv.db`` then) has ``contents`` ``sandbox``.
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if not path or path == ":memory:" or not Path(path).expanduser().is_file():
            return {}
    engine = create_engine(parsed)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            facts: dict[str, str] = {}
            if inspector.has_table("archive_meta"):
                table = TABLES["archive_meta"]
                facts = dict(connection.execute(sa.select(table.c.key, table.c.value)).all())
            if CONTENTS_KEY not in facts and inspector.has_table("illust_pages") and _has_sandbox_pages(connection):
                facts[CONTENTS_KEY] = "sandbox"
            return facts
    except (sa.exc.SQLAlchemyError, OSError):
        return {}
    finally:
        engine.dispose()


def _has_sandbox_pages(connection: Connection) -> bool:
    pages = TABLES["illust_pages"]
    query = sa.select(pages.c.illust_id).where(pages.c.original_url.like(f"{SANDBOX_ORIGIN}%")).limit(1)
    return connection.execute(query).first() is not None


def set_archive_meta(connection: Connection, key: str, value: str, *, replace: bool = True) -> None:
    """Record one fact about the archive (an upsert; with ``replace=False`` only when it is absent)."""
    table = TABLES["archive_meta"]
    now = dt.datetime.now(dt.UTC)
    if replace:
        connection.execute(table.update().where(table.c.key == key).values(value=value, updated_at=now))
    if connection.execute(sa.select(table.c.key).where(table.c.key == key)).first() is None:
        connection.execute(table.insert().values(key=key, value=value, updated_at=now))
