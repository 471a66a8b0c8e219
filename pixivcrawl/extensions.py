"""Scrapy extensions of pixivcrawl: the crawl_runs recorder."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import enum
import logging
import os
import re
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import sqlalchemy as sa
from scrapy import signals

from pixivcrawl.db.archive import Archive
from pixivcrawl.db.engine import mask_url
from pixivcrawl.pipelines.store import RUN_ID_STAT
from pixivcrawl.workers.keys import crawl_id_of

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

SECRET_NAME = re.compile(r"token|secret|password|passwd|auth|cookie|session|api_?key|credential", re.IGNORECASE)
INTERRUPTED_REASONS = frozenset({"shutdown", "cancelled", "closespider_timeout", "closespider_itemcount",
                                 "closespider_pagecount", "closespider_timeout_no_item"})
DB_ROWS_PREFIX = "pixivcrawl/db/rows_upserted/"
EVENTS_PREFIX = "pixivcrawl/events/"
# Attributes Scrapy's Spider sets itself; everything else public came from -a arguments.
SPIDER_OWN_ATTRIBUTES = frozenset({"name", "start_urls", "allowed_domains", "custom_settings", "crawler", "settings"})


def run_status(reason: str) -> str:
    """``finished``, ``interrupted`` (a stop someone asked for) or ``failed``."""
    if reason == "finished":
        return "finished"
    if reason in INTERRUPTED_REASONS:
        return "interrupted"
    return "failed"


def process_started_at(pid: int) -> dt.datetime | None:
    """When process ``pid`` of this machine started (Linux ``/proc``), or None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(line for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime "))
    except (OSError, StopIteration):
        return None
    ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22, counted after the command name
    return dt.datetime.fromtimestamp(int(boot.split()[1]) + ticks / os.sysconf("SC_CLK_TCK"), dt.UTC)


def process_alive(pid: int, since: dt.datetime) -> bool:
    """Whether process ``pid`` of this machine still runs and is the one that started by ``since``."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    started = process_started_at(pid)
    # A process started after the run began reuses the pid of the one that ran it.
    return started is None or started <= since + dt.timedelta(seconds=2)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    return str(value)


def spider_arguments(spider: Spider) -> dict[str, Any]:
    """The spider's arguments, as given (``spider.args``) or its public attributes, secrets left out."""
    args = getattr(spider, "args", None)
    if not isinstance(args, dict):
        args = {
            k: v
            for k, v in vars(spider).items()
            if not k.startswith("_")
            and k not in SPIDER_OWN_ATTRIBUTES
            and isinstance(v, str | int | float | bool | list | tuple | dt.date)
        }
    return {k: _jsonable(v) for k, v in sorted(args.items()) if v is not None and not SECRET_NAME.search(k)}


def run_counts(stats: dict[str, Any]) -> dict[str, Any]:
    return {
        "items_scraped": stats.get("item_scraped_count", 0),
        "items_dropped": stats.get("item_dropped_count", 0),
        "files_downloaded": stats.get("file_status_count/downloaded", 0),
        "files_uptodate": stats.get("file_status_count/uptodate", 0),
        "errors": stats.get("log_count/ERROR", 0),
        "rows_upserted": {k.removeprefix(DB_ROWS_PREFIX): v for k, v in sorted(stats.items()) if k.startswith(DB_ROWS_PREFIX)},
        # What this run added or saw change (the store counts them as it writes).
        "new": {
            "works": stats.get("pixivcrawl/works/new", 0),
            "users": stats.get("pixivcrawl/users/new", 0),
            "files": stats.get("file_status_count/downloaded", 0),
            "bytes": stats.get("pixivcrawl/files/bytes", 0),
        },
        "changed_works": stats.get("pixivcrawl/works/changed", 0),
        "events": {k.removeprefix(EVENTS_PREFIX): v for k, v in sorted(stats.items()) if k.startswith(EVENTS_PREFIX) and v},
        "rejected_items": stats.get("pixivcrawl/rejected_items", 0),
    }


class CrawlRunRecorder:
    """Record each crawl in the ``crawl_runs`` table of the crawl's archive (``PIXIV_DATABASE_URL``).

    A row is inserted when the spider opens (status ``running``, with this host
    and process id) and completed when it closes: end time, status, Scrapy's
    finish reason and counts from the crawl stats. While the crawl runs, the row's
    ``heartbeat_at`` is renewed every ``PIXIV_RUN_HEARTBEAT_INTERVAL`` seconds; a new
    crawl marks runs whose process is gone, or whose heartbeat is older than five
    intervals, as ``lost``. Every write runs off the event loop. An unreachable
    database only costs the record, never the crawl (the store pipeline reports it).
    """

    #: Heartbeats a run may miss before another crawl calls it lost.
    MISSED_HEARTBEATS = 5

    def __init__(self, crawler: Crawler, archive: Archive, heartbeat_interval: float, job: str | None = None) -> None:
        self.crawler = crawler
        self.archive = archive
        self.url = archive.url
        self.heartbeat_interval = heartbeat_interval
        self.stale_after = dt.timedelta(seconds=heartbeat_interval * self.MISSED_HEARTBEATS)
        self.job = job
        self.opened = False
        self.run_id: int | None = None
        self.heartbeat: asyncio.Task[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        recorder = cls(
            crawler,
            Archive.from_crawler(crawler),
            crawler.settings.getfloat("PIXIV_RUN_HEARTBEAT_INTERVAL"),
            crawler.settings.get("PIXIV_RUN_JOB") or None,
        )
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    async def spider_opened(self, spider: Spider) -> None:
        now = dt.datetime.now(dt.UTC)
        try:
            await self.archive.open()
            self.opened = True
            run_id, lost = await asyncio.to_thread(
                self.archive.start_run,
                # What this archive holds: real crawls refuse a sandbox archive, and the other way round.
                contents="sandbox" if self.crawler.settings.getbool("PIXIV_SANDBOX") else "pixiv",
                stale_after=self.stale_after,
                alive=process_alive,
                spider=spider.name,
                arguments=spider_arguments(spider),
                started_at=now,
                status="running",
                host=socket.gethostname(),
                pid=os.getpid(),
                heartbeat_at=now,
                job=self.job,
                crawl_id=crawl_id_of(spider, self.crawler.settings),
            )
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            logger.warning("Crawl run not recorded: database %s: %s", mask_url(self.url), type(exc).__name__)
            await self._close()
            return
        self.run_id = run_id
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(RUN_ID_STAT, run_id)
        if lost:
            runs = f"runs {', '.join(map(str, lost))} were" if len(lost) > 1 else f"run {lost[0]} was"
            logger.warning("Crawl %s left running by a process that is gone: marked lost", runs)
        self.heartbeat = asyncio.ensure_future(self._beat(run_id))

    async def _beat(self, run_id: int) -> None:
        """Renew ``heartbeat_at`` every interval; a failed beat is only logged (the next one may pass)."""
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            try:
                await asyncio.to_thread(self.archive.beat, run_id)
            except Exception as exc:
                logger.debug("Crawl run heartbeat not written: %s", exc)

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.heartbeat is not None:
            self.heartbeat.cancel()
            self.heartbeat = None
        if self.run_id is None:
            await self._close()
            return
        assert self.crawler.stats is not None
        now = dt.datetime.now(dt.UTC)
        try:
            await asyncio.to_thread(
                self.archive.finish_run,
                self.run_id,
                host=socket.gethostname(),
                stale_after=self.stale_after,
                alive=process_alive,
                finished_at=now,
                heartbeat_at=now,
                status=run_status(reason),
                finish_reason=reason,
                counts=run_counts(self.crawler.stats.get_stats()),
            )
        except sa.exc.SQLAlchemyError as exc:
            logger.warning("Crawl run %s not completed in the database: %s", self.run_id, type(exc).__name__)
        finally:
            await self._close()

    async def _close(self) -> None:
        if self.opened:
            self.opened = False
            await self.archive.close()
