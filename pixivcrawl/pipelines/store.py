"""Store validated models in the archive database, in batched upserts."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Self, TypeVar

import sqlalchemy as sa
from scrapy import signals
from scrapy.exceptions import CloseSpider

from pixivcrawl.db.archive import Archive
from pixivcrawl.db.engine import machine_fault, mask_url
from pixivcrawl.db.events import Changes
from pixivcrawl.db.rows import Rows, builder_for, merge_rows, rows_for
from pixivcrawl.rejects import STATS_KEY as REJECTED
from pixivcrawl.rejects import Reject, RejectedItem, object_id

if TYPE_CHECKING:
    from collections.abc import Callable

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)
T = TypeVar("T")
STATS_PREFIX = "pixivcrawl/db"
#: The finish reason of a crawl stopped because the database kept refusing writes.
DATABASE_FAILED = "database_failed"
Batch = list[tuple[Any, dt.datetime]]


class DatabaseFailed(Exception):
    """Writes kept failing for a reason of the machine; the crawl must stop."""
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
    """Buffer items and upsert them into the crawl's archive (:class:`~pixivcrawl.db.archive.Archive`,
    at ``PIXIV_DATABASE_URL``).

    A batch is written when ``PIXIV_DB_BATCH_SIZE`` items are buffered, every
    ``PIXIV_DB_FLUSH_INTERVAL`` seconds, and when the spider closes; each batch
    is one transaction (with the rejects recorded since the last one), and batches
    are written one at a time, in order, by a single database thread. The database
    is migrated when the spider opens; if it cannot be reached the crawl stops with
    ``database_unreachable``.
    Items of a type with no rows builder pass through unstored.

    Isolation: when a batch fails for its data (a value the database refuses),
    its items are written one by one (each in a savepoint of one transaction); every good one is kept and each refused
    one is recorded in ``rejects`` (reason ``store``, one WARNING each,
    ``pixivcrawl/rejected_items``), as are the items validation refused.

    Outages: a write that fails for a reason of the machine (server gone, disk
    full, read-only) is tried again after ``PIXIV_DB_RETRY_BACKOFF`` seconds,
    doubling up to ``PIXIV_DB_RETRY_BACKOFF_MAX``, ``PIXIV_DB_RETRY_TIMES``
    times; then one ERROR line names the database and the cause, and the crawl
    stops with ``database_failed`` (exit status 1, run ``failed``).
    """

    #: Batches handed to the database thread at once: one written, the next ready when it ends.
    #: Items wait while both are taken, so no third batch fills meanwhile: buffering on while
    #: the store was behind made batches of up to 1,000 items, three of them in memory.
    max_batches_in_flight = 2

    def __init__(
        self,
        archive: Archive,
        batch_size: int,
        flush_interval: float,
        stats: StatsCollector,
        *,
        crawler: Crawler | None = None,
        retry_times: int = 0,
        retry_backoff: float = 0.0,
        retry_backoff_max: float = 0.0,
    ) -> None:
        self.archive = archive
        self.url = archive.url
        self.batch_size = max(1, batch_size)
        self.flush_interval = flush_interval
        self.stats = stats
        self.crawler = crawler
        self.retry_times = max(0, retry_times)
        self.retry_backoff = retry_backoff
        self.retry_backoff_max = retry_backoff_max
        self.spider_name = getattr(crawler.spidercls, "name", None) if crawler else None
        self.failed = False
        self.opened = False
        self._buffer: list[tuple[Any, dt.datetime]] = []
        self._rejects: list[Reject] = []
        self._in_flight: list[asyncio.Task[None]] = []
        self._executor: ThreadPoolExecutor | None = None
        self._timer: asyncio.Task[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        s = crawler.settings
        pipeline = cls(
            Archive.from_crawler(crawler),
            s.getint("PIXIV_DB_BATCH_SIZE"),
            s.getfloat("PIXIV_DB_FLUSH_INTERVAL"),
            crawler.stats,
            crawler=crawler,
            retry_times=s.getint("PIXIV_DB_RETRY_TIMES"),
            retry_backoff=s.getfloat("PIXIV_DB_RETRY_BACKOFF"),
            retry_backoff_max=s.getfloat("PIXIV_DB_RETRY_BACKOFF_MAX"),
        )
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        return pipeline

    def item_dropped(self, item: Any, exception: BaseException, **kwargs: Any) -> None:
        """Items validation refused are recorded with the next batch."""
        if isinstance(exception, RejectedItem) and self.opened and not self.failed:
            self._rejects.append(exception.reject)

    async def _run(self, func: Callable[..., T], *args: Any) -> T:
        assert self._executor is not None
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    async def open_spider(self) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="pixivcrawl-db")
        try:
            await self.archive.open()
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            logger.error(
                "Cannot open the archive database %s: %s", mask_url(self.url), describe_error(exc, self.url)
            )
            raise CloseSpider("database_unreachable") from None
        self.opened = True
        if self.flush_interval > 0:
            self._timer = asyncio.ensure_future(self._flush_periodically())

    async def process_item(self, item: Any) -> Any:
        if not self.opened or self.failed:
            return item
        if builder_for(item) is None:
            self.stats.inc_value(f"{STATS_PREFIX}/items_skipped/{type(item).__name__}")
            return item
        # Bounded pipelining: while one batch is written and the next waits for the database
        # thread, an item waits here rather than start a third. Its page stays in Scrapy's
        # scraper meanwhile, and the spider makes no more items from it.
        await self._wait_in_flight(self.max_batches_in_flight - 1)
        if self.failed:
            return item
        self._buffer.append((item, dt.datetime.now(dt.UTC)))
        if len(self._buffer) >= self.batch_size:
            self._hand_over()
        return item

    async def _wait_in_flight(self, at_most: int) -> None:
        while True:
            self._in_flight = [task for task in self._in_flight if not task.done()]
            if len(self._in_flight) <= at_most:
                return
            await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)

    def _hand_over(self) -> None:
        """Write the buffer (and the rejects recorded since the last batch) as the next batch."""
        batch, self._buffer = self._buffer, []
        rejects, self._rejects = self._rejects, []
        self._in_flight.append(asyncio.ensure_future(self._write(batch, rejects)))

    async def _flush_buffer(self) -> None:
        await self._wait_in_flight(self.max_batches_in_flight - 1)
        if (self._buffer or self._rejects) and not self.failed:
            self._hand_over()

    async def flush(self) -> None:
        """Write everything buffered so far and wait until it is written."""
        await self._flush_buffer()
        await self._wait_in_flight(0)

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval)
            await self._flush_buffer()

    async def _write(self, batch: Batch, rejects: list[Reject]) -> None:
        try:
            written, refused, changes = await self._run(
                self._write_sync, batch, rejects, self.stats.get_value(RUN_ID_STAT)
            )
        except DatabaseFailed as exc:
            await self._fail(str(exc), len(batch))
            return
        except Exception:
            logger.error("Lost a batch of %s items: writing it to the database failed", len(batch), exc_info=True)
            self.stats.inc_value(f"{STATS_PREFIX}/flush_errors")
            self.stats.inc_value(f"{STATS_PREFIX}/items_lost", len(batch))
            return
        self.stats.inc_value(f"{STATS_PREFIX}/batches")
        self.stats.inc_value(f"{STATS_PREFIX}/items_stored", len(batch) - len(refused))
        for table, count in written.items():
            self.stats.inc_value(f"{STATS_PREFIX}/rows_upserted/{table}", count)
        self._count_changes(changes)
        for reject in refused:
            self.stats.inc_value(REJECTED)
            self.stats.inc_value(f"{REJECTED}/store")
            logger.warning("Refused by the database: %s %s (%s); recorded in rejects", reject.kind,
                           reject.object_id, reject.error)

    async def _fail(self, message: str, lost: int) -> None:
        """Stop the crawl after writes kept failing: one ERROR line, nothing more buffered."""
        if self.failed:
            return
        self.failed = True
        self._buffer.clear()
        self._rejects.clear()
        self.stats.inc_value(f"{STATS_PREFIX}/items_lost", lost)
        logger.error("%s; the crawl stops (run it again once the database is back to complete the archive)", message)
        if self.crawler is not None and self.crawler.engine is not None:
            # Held, so the loop's weak reference is not the only one while it runs.
            self._stopping = asyncio.ensure_future(self.crawler.engine.close_spider_async(reason=DATABASE_FAILED))

    def _write_sync(self, batch: Batch, rejects: list[Reject], run_id: int | None) -> tuple[dict[str, int], list[Reject], Changes]:
        """Write a batch, waiting out an outage; DatabaseFailed once the retries are spent."""
        attempt = 0
        while True:
            try:
                return self._write_once(batch, rejects, run_id)
            except Exception as exc:
                if not machine_fault(exc):
                    raise
                cause = describe_error(exc, self.url)
                if attempt >= self.retry_times:
                    raise DatabaseFailed(
                        f"Cannot write to the archive database {mask_url(self.url)} "
                        f"after {attempt + 1} tries: {cause}"
                    ) from None
                delay = min(self.retry_backoff * 2**attempt, self.retry_backoff_max)
                attempt += 1
                self.stats.inc_value(f"{STATS_PREFIX}/retries")
                logger.warning("Database %s unavailable (%s); trying again in %.1f s (%s of %s)",
                               mask_url(self.url), cause, delay, attempt, self.retry_times)
                time.sleep(delay)

    def _write_once(self, batch: Batch, rejects: list[Reject], run_id: int | None) -> tuple[dict[str, int], list[Reject], Changes]:
        """One transaction: the batch's rows, its work_events and the rejects (so a retry counts it again whole)."""
        reject_rows = [r.row() for r in rejects]
        items: list[Rows] = [rows_for(item, seen_at) for item, seen_at in batch]
        rows: Rows = {}
        for item_rows in items:
            merge_rows(rows, item_rows)
        try:
            written, changes = self.archive.write(rows, run_id=run_id, rejects=reject_rows)
            return written, [], changes
        except Exception as exc:
            if machine_fault(exc):
                raise
        # One item's bad value must not cost the others: write them one by one.
        refused: list[Reject] = []

        def refuse(index: int, exc: Exception) -> dict[str, Any]:
            refused.append(self._reject(batch[index][0], exc))
            return refused[-1].row()

        written, changes = self.archive.write_each(items, run_id=run_id, rejects=reject_rows, refuse=refuse)
        return written, refused, changes

    def _count_changes(self, changes: Changes) -> None:
        """The stats a run's report reads: new works and users, changed works, events by kind."""
        counts = changes.count()
        for event, count in counts.items():
            self.stats.inc_value(f"pixivcrawl/events/{event}", count)
        self.stats.inc_value("pixivcrawl/works/new", counts["new"])
        self.stats.inc_value("pixivcrawl/works/changed", changes.changed_works())
        self.stats.inc_value("pixivcrawl/users/new", changes.new_users)

    def _reject(self, item: Any, exc: BaseException) -> Reject:
        source = getattr(item, "_source", None)
        reject = Reject.of(source, kind=type(item).__name__.lower(), reason="store",
                           error=describe_error(exc, self.url), spider=self.spider_name)
        if source is None and hasattr(item, "model_dump_json"):
            reject = dataclasses.replace(reject, object_id=object_id({"id": getattr(item, "id", None)}), raw=item.model_dump_json())
        return reject

    async def close_spider(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.opened:
            if not self.failed:
                await self.flush()
            await self._wait_in_flight(0)
            self.opened = False
            await self.archive.close()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

