"""Store validated models in the archive database, in batched upserts."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Self, TypeVar

import sqlalchemy as sa
from scrapy.exceptions import CloseSpider

from pixivcrawl.db.engine import begin_write, create_engine, mask_url, upgrade
from pixivcrawl.db.events import Changes, find_changes
from pixivcrawl.db.rows import Rows, builder_for, merge_rows, rows_for
from pixivcrawl.db.schema import TABLES
from pixivcrawl.db.upsert import Writer

if TYPE_CHECKING:
    from collections.abc import Callable

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector
    from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)
T = TypeVar("T")
STATS_PREFIX = "pixivcrawl/db"
#: Set by the crawl_runs recorder: the run the batches' work_events belong to.
RUN_ID_STAT = "pixivcrawl/run/id"


def describe_error(exc: BaseException, url: str | sa.URL) -> str:
    """A one-line reason for ``exc`` that never shows the URL's password."""
    cause = getattr(exc, "orig", None) or exc
    text = "; ".join(line.strip() for line in str(cause).splitlines() if line.strip())
    try:
        password = sa.make_url(url).password
    except sa.exc.ArgumentError:
        password = None
    if password:
        text = text.replace(str(password), "***")
    return text or type(cause).__name__


class StorePipeline:
    """Buffer items and upsert them into the archive at ``PIXIV_DATABASE_URL``.

    A batch is written when ``PIXIV_DB_BATCH_SIZE`` items are buffered, every
    ``PIXIV_DB_FLUSH_INTERVAL`` seconds, and when the spider closes; each batch
    is one transaction, and batches are written one at a time, in order, by a
    single database thread. The database is migrated when the spider opens; if
    it cannot be reached the crawl stops with ``database_unreachable``.
    Items of a type with no rows builder pass through unstored.
    """

    max_batches_in_flight = 2

    def __init__(self, url: str, batch_size: int, flush_interval: float, stats: StatsCollector) -> None:
        self.url = url
        self.batch_size = max(1, batch_size)
        self.flush_interval = flush_interval
        self.stats = stats
        self.engine: Engine | None = None
        self._buffer: list[tuple[Any, dt.datetime]] = []
        self._in_flight: list[asyncio.Task[None]] = []
        self._executor: ThreadPoolExecutor | None = None
        self._timer: asyncio.Task[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        return cls(
            crawler.settings["PIXIV_DATABASE_URL"],
            crawler.settings.getint("PIXIV_DB_BATCH_SIZE"),
            crawler.settings.getfloat("PIXIV_DB_FLUSH_INTERVAL"),
            crawler.stats,
        )

    async def _run(self, func: Callable[..., T], *args: Any) -> T:
        assert self._executor is not None
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    def _open(self) -> Engine:
        engine = create_engine(self.url)
        try:
            upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
        return engine

    async def open_spider(self) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="pixivcrawl-db")
        try:
            self.engine = await self._run(self._open)
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            logger.error(
                "Cannot open the archive database %s: %s", mask_url(self.url), describe_error(exc, self.url)
            )
            raise CloseSpider("database_unreachable") from None
        self.writer = Writer(self.engine.dialect)
        if self.flush_interval > 0:
            self._timer = asyncio.ensure_future(self._flush_periodically())

    async def process_item(self, item: Any) -> Any:
        if self.engine is None:
            return item
        if builder_for(item) is None:
            self.stats.inc_value(f"{STATS_PREFIX}/items_skipped/{type(item).__name__}")
            return item
        self._buffer.append((item, dt.datetime.now(dt.UTC)))
        if len(self._buffer) >= self.batch_size:
            await self._flush_buffer()
        return item

    async def _wait_in_flight(self, at_most: int) -> None:
        while True:
            self._in_flight = [task for task in self._in_flight if not task.done()]
            if len(self._in_flight) <= at_most:
                return
            await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)

    async def _flush_buffer(self) -> None:
        # Bounded pipelining: the crawl waits rather than buffering without limit.
        await self._wait_in_flight(self.max_batches_in_flight - 1)
        if self._buffer:
            batch, self._buffer = self._buffer, []
            self._in_flight.append(asyncio.ensure_future(self._write(batch)))

    async def flush(self) -> None:
        """Write everything buffered so far and wait until it is written."""
        await self._flush_buffer()
        await self._wait_in_flight(0)

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval)
            await self._flush_buffer()

    async def _write(self, batch: list[tuple[Any, dt.datetime]]) -> None:
        try:
            written, changes = await self._run(self._write_sync, batch, self.stats.get_value(RUN_ID_STAT))
        except Exception:
            logger.error("Lost a batch of %s items: writing it to the database failed", len(batch), exc_info=True)
            self.stats.inc_value(f"{STATS_PREFIX}/flush_errors")
            self.stats.inc_value(f"{STATS_PREFIX}/items_lost", len(batch))
            return
        self.stats.inc_value(f"{STATS_PREFIX}/batches")
        self.stats.inc_value(f"{STATS_PREFIX}/items_stored", len(batch))
        for table, count in written.items():
            self.stats.inc_value(f"{STATS_PREFIX}/rows_upserted/{table}", count)
        self._count_changes(changes)

    def _write_sync(self, batch: list[tuple[Any, dt.datetime]], run_id: int | None) -> tuple[dict[str, int], Changes]:
        rows: Rows = {}
        for item, seen_at in batch:
            merge_rows(rows, rows_for(item, seen_at))
        assert self.engine is not None
        with begin_write(self.engine) as connection:
            changes = find_changes(connection, rows, dt.datetime.now(dt.UTC))
            written = self.writer.write(connection, rows)
            if changes.events:
                connection.execute(TABLES["work_events"].insert(), [{**e, "run_id": run_id} for e in changes.events])
            return written, changes

    def _count_changes(self, changes: Changes) -> None:
        """The stats a run's report reads: new works and users, changed works, events by kind."""
        counts = changes.count()
        for event, count in counts.items():
            self.stats.inc_value(f"pixivcrawl/events/{event}", count)
        self.stats.inc_value("pixivcrawl/works/new", counts["new"])
        self.stats.inc_value("pixivcrawl/works/changed", changes.changed_works())
        self.stats.inc_value("pixivcrawl/users/new", changes.new_users)

    async def close_spider(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.engine is not None:
            await self.flush()
            await self._run(self.engine.dispose)
            self.engine = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
