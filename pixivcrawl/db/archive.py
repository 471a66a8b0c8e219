"""The crawl's archive: one engine, migrated once, and every query a crawl makes."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import threading
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar

import sqlalchemy as sa
from scrapy import signals

from pixivcrawl.db import files, runs
from pixivcrawl.db.engine import begin_write, create_engine, machine_fault, upgrade
from pixivcrawl.db.events import Changes, find_changes
from pixivcrawl.db.reads import keyed_rows
from pixivcrawl.db.schema import TABLES
from pixivcrawl.db.upsert import Writer, insert_for

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from scrapy.crawler import Crawler
    from sqlalchemy.engine import Connection, Engine

    from pixivcrawl.db.rules import Row, Rows

logger = logging.getLogger(__name__)
T = TypeVar("T")

WORK_TABLES = {"illust": "illusts", "novel": "novels"}


def archived_ids(connection: Connection, kind: str, ids: Iterable[int]) -> set[int]:
    """Which of ``ids`` (``kind`` is ``illust`` or ``novel``) are stored with status available.

    A novel counts only with its text: a novel whose text was never read is not archived yet.
    """
    if kind not in WORK_TABLES:
        raise ValueError(f"kind must be one of {sorted(WORK_TABLES)}, not {kind!r}")
    return {i for (i,) in keyed_rows(connection, _archived_query(kind), sorted(set(ids)))}


def recorded_bookmarks(
    connection: Connection, user_id: int, kind: str, restrict: str, ids: Iterable[int], *, with_tags: bool = False
) -> set[int]:
    """Which works of ``ids`` (``kind``) ``user_id``'s ``restrict`` bookmarks are recorded for;
    ``with_tags``: only bookmarks whose tags were recorded too."""
    query = _bookmarks_query(with_tags)
    found = keyed_rows(connection, query, sorted(set(ids)), user_id=user_id, kind=kind, restrict=restrict)
    return {i for (i,) in found}


# The two queries incremental crawls make on every listing page, built once (see db/reads.py).
@functools.cache
def _archived_query(kind: str) -> sa.Select[Any]:
    table = TABLES[WORK_TABLES[kind]]
    query = sa.select(table.c.id).where(table.c.id.in_(sa.bindparam("keys", expanding=True)),
                                        table.c.status == "available")
    if kind == "novel":
        texts = TABLES["novel_texts"]
        query = query.where(sa.exists().where(texts.c.novel_id == table.c.id))
    return query


@functools.cache
def _bookmarks_query(with_tags: bool) -> sa.Select[Any]:
    table = TABLES["bookmarks"]
    query = sa.select(table.c.work_id).where(
        table.c.work_id.in_(sa.bindparam("keys", expanding=True)),
        table.c.user_id == sa.bindparam("user_id"),
        table.c.work_kind == sa.bindparam("kind"),
        table.c.restrict == sa.bindparam("restrict"),
    )
    return query.where(table.c.tags.is_not(None)) if with_tags else query


class Archive:
    """The archive database of one crawl: one engine, migrated once, and the only place with SQL.

    ``Archive.from_crawler(crawler)`` is the crawl's one archive: the first component
    that asks makes it and the others share it. It answers the spiders (which works
    are archived, one query per listing page), the media pipelines (the files earlier
    runs recorded), the store (batches of rows) and the run recorder (``crawl_runs``).
    Its methods block: callers run them off the event loop (``asyncio.to_thread``,
    the store's database thread). Components that write :meth:`open` it (the first
    open migrates the database) and :meth:`close` it; the engine is disposed when the
    last one closes, and when the crawl's engine stops.
    """

    def __init__(self, url: str | sa.URL) -> None:
        self.url = url
        self._engine: Engine | None = None
        self._writer: Writer | None = None
        self._lock = threading.Lock()
        self._migrated = False
        self._users = 0

    @classmethod
    def from_url(cls, url: str | sa.URL) -> Self:
        return cls(url)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Archive:
        """The crawl's one archive, at ``PIXIV_DATABASE_URL``."""
        archive = _CRAWL_ARCHIVES.get(crawler)
        if archive is None:
            archive = _CRAWL_ARCHIVES[crawler] = cls(crawler.settings["PIXIV_DATABASE_URL"])
            crawler.signals.connect(archive.dispose_async, signal=signals.engine_stopped)
        return archive

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = create_engine(self.url)
            return self._engine

    @property
    def writer(self) -> Writer:
        if self._writer is None:
            self._writer = Writer(self.engine.dialect)
        return self._writer

    # --- lifetime -------------------------------------------------------------------------

    def migrate(self) -> None:
        """Migrate the database to the current schema, once per archive."""
        engine = self.engine
        with self._lock:
            if not self._migrated:
                upgrade(engine)
                self._migrated = True

    async def open(self) -> None:
        """Count a component that uses the archive, and migrate it (off the event loop)."""
        self._users += 1
        try:
            await asyncio.to_thread(self.migrate)
        except BaseException:
            self._users -= 1
            raise

    async def close(self) -> None:
        """A component is done; the last one disposes of the engine's connections."""
        self._users -= 1
        if self._users <= 0:
            await self.dispose_async()

    def dispose(self) -> None:
        """Close the pooled connections (the engine reconnects if used again)."""
        if self._engine is not None:
            self._engine.dispose()

    async def dispose_async(self) -> None:
        await asyncio.to_thread(self.dispose)

    # --- spiders: what is archived --------------------------------------------------------

    def archived_ids_sync(self, kind: str, ids: Iterable[int]) -> set[int]:
        if kind not in WORK_TABLES:
            raise ValueError(f"kind must be one of {sorted(WORK_TABLES)}, not {kind!r}")
        ids = list(ids)
        with self.engine.connect() as connection:
            if not sa.inspect(connection).has_table(WORK_TABLES[kind]):
                return set()
            return archived_ids(connection, kind, ids)

    async def archived_ids(self, kind: str, ids: Iterable[int]) -> set[int]:
        """Which of ``ids`` are archived whole (see :func:`archived_ids`), in one query per 900 ids."""
        return await asyncio.to_thread(self.archived_ids_sync, kind, list(ids))

    def recorded_bookmarks_sync(
        self, user_id: int, kind: str, restrict: str, ids: Sequence[int], *, with_tags: bool = False
    ) -> set[int]:
        with self.engine.connect() as connection:
            if not sa.inspect(connection).has_table("bookmarks"):
                return set()
            return recorded_bookmarks(connection, user_id, kind, restrict, ids, with_tags=with_tags)

    async def recorded_bookmarks(
        self, user_id: int, kind: str, restrict: str, ids: Sequence[int], *, with_tags: bool = False
    ) -> set[int]:
        """Which of ``ids`` ``user_id`` has a recorded ``restrict`` bookmark of (see :func:`recorded_bookmarks`)."""
        return await asyncio.to_thread(self.recorded_bookmarks_sync, user_id, kind, restrict, list(ids),
                                       with_tags=with_tags)

    # --- media pipelines: files recorded by earlier runs ----------------------------------

    def _read(self, read: Callable[..., T], *args: Any, default: T) -> T:
        try:
            with self.engine.connect() as connection:
                return read(connection, *args)
        except sa.exc.SQLAlchemyError as exc:
            # A fresh or foreign database: nothing is known, everything is fetched.
            logger.debug("No archived file facts (%s)", exc.__class__.__name__)
            return default

    def recorded_pages(self, illust_id: int) -> list[dict[str, Any]]:
        return self._read(files.illust_pages, illust_id, default=[])

    def recorded_novel_images(self, novel_id: int) -> list[dict[str, Any]]:
        return self._read(files.novel_images, novel_id, default=[])

    def recorded_profile_image_urls(self, user_ids: Sequence[int]) -> dict[int, str | None]:
        return self._read(files.profile_image_urls, user_ids, default={}) if user_ids else {}

    def recorded_cover_url(self, novel_id: int) -> str | None:
        return self._read(files.cover_url, novel_id, default=None)

    def recorded_ugoira(self, illust_id: int) -> dict[str, Any] | None:
        return self._read(files.ugoira, illust_id, default=None)

    # --- the store: batches of rows -------------------------------------------------------

    def _write(self, connection: Connection, rows: Rows, run_id: int | None) -> tuple[dict[str, int], Changes]:
        unique = self.writer.dedupe(rows)  # once, for both
        changes = find_changes(connection, unique, dt.datetime.now(dt.UTC))
        written = self.writer.write(connection, unique)
        self.writer.insert(connection, "work_events", [{**e, "run_id": run_id} for e in changes.events])
        return written, changes

    @staticmethod
    def _record_rejects(connection: Connection, rejects: Sequence[Row], written: dict[str, int]) -> None:
        if rejects:
            connection.execute(TABLES["rejects"].insert(), list(rejects))
            written["rejects"] = len(rejects)

    def write(self, rows: Rows, *, run_id: int | None, rejects: Sequence[Row] = ()) -> tuple[dict[str, int], Changes]:
        """Upsert a batch's rows, its work_events and ``rejects`` in one transaction.

        Returns the rows written per table and what changed in the archive.
        """
        with begin_write(self.engine) as connection:
            written, changes = self._write(connection, rows, run_id)
            self._record_rejects(connection, rejects, written)
        return written, changes

    def write_each(
        self, items: Sequence[Rows], *, run_id: int | None, rejects: Sequence[Row] = (),
        refuse: Callable[[int, Exception], Row],
    ) -> tuple[dict[str, int], Changes]:
        """:meth:`write`, one item's rows at a time: an item the database refuses is left out.

        Each item is written in a savepoint of one transaction; ``refuse(index, error)``
        gives the ``rejects`` row of an item refused for its data. A fault of the machine
        (:func:`machine_fault`) rolls the whole batch back, so a retry counts it again whole.
        """
        written: dict[str, int] = {}
        changes = Changes()
        refused: list[Row] = []
        with begin_write(self.engine) as connection:
            for index, rows in enumerate(items):
                try:
                    with connection.begin_nested():
                        item_written, item_changes = self._write(connection, rows, run_id)
                except Exception as exc:
                    if machine_fault(exc):
                        raise
                    refused.append(refuse(index, exc))
                    continue
                for table, count in item_written.items():
                    written[table] = written.get(table, 0) + count
                changes.events.extend(item_changes.events)
                changes.new_users += item_changes.new_users
            self._record_rejects(connection, [*rejects, *refused], written)
        return written, changes

    # --- the run recorder: crawl_runs -----------------------------------------------------

    def start_run(
        self, *, contents: str, stale_after: dt.timedelta, alive: Callable[[int, dt.datetime], bool],
        **values: Any,
    ) -> tuple[int, list[int]]:
        """Insert a ``running`` row (``values``); returns its id and the runs marked lost on the way.

        Also records what the archive holds (``contents``, when not recorded yet).
        """
        now = values["started_at"]
        with begin_write(self.engine) as connection:
            # What this archive holds: real crawls refuse a sandbox archive, and the other way round.
            set_archive_meta(connection, CONTENTS_KEY, contents, replace=False)
            lost = runs.mark_lost_runs(connection, host=values["host"], stale_after=stale_after, now=now, alive=alive)
            return runs.insert_run(connection, **values), lost

    def beat(self, run_id: int) -> None:
        """Renew a run's ``heartbeat_at``."""
        with self.engine.begin() as connection:
            runs.update_run(connection, run_id, heartbeat_at=dt.datetime.now(dt.UTC))

    def finish_run(
        self, run_id: int, *, host: str, stale_after: dt.timedelta, alive: Callable[[int, dt.datetime], bool],
        **values: Any,
    ) -> None:
        """Complete a run's row with ``values``; first mark lost the runs of workers killed meanwhile."""
        with begin_write(self.engine) as connection:
            # Workers of one crawl outlive each other: the last ones mark a killed one lost.
            runs.mark_lost_runs(connection, host=host, stale_after=stale_after, now=dt.datetime.now(dt.UTC), alive=alive)
            runs.update_run(connection, run_id, **values)


#: The archive of each running crawl (see :meth:`Archive.from_crawler`).
_CRAWL_ARCHIVES: weakref.WeakKeyDictionary[Crawler, Archive] = weakref.WeakKeyDictionary()


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
    """Record one fact about the archive (an upsert; with ``replace=False`` only when it is absent).

    One statement: workers starting together on PostgreSQL cannot both find the key
    absent and both insert it (the second one's run would go unrecorded).
    """
    table = TABLES["archive_meta"]
    now = dt.datetime.now(dt.UTC)
    insert = insert_for(table, connection.dialect).values(key=key, value=value, updated_at=now)
    if replace:
        connection.execute(insert.on_conflict_do_update(index_elements=[table.c.key],
                                                        set_={"value": value, "updated_at": now}))
    else:
        connection.execute(insert.on_conflict_do_nothing(index_elements=[table.c.key]))
