"""Scrapy extensions of pixivcrawl: the crawl_runs recorder."""

from __future__ import annotations

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
from twisted.internet import task, threads

from pixivcrawl.db.archive import CONTENTS_KEY, set_archive_meta
from pixivcrawl.db.engine import begin_write, create_engine, mask_url, upgrade
from pixivcrawl.db.schema import TABLES
from pixivcrawl.pipelines.store import RUN_ID_STAT
from pixivcrawl.workers.keys import crawl_id_of

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from sqlalchemy.engine import Connection, Engine

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


def mark_lost_runs(connection: Connection, *, host: str, stale_after: dt.timedelta, now: dt.datetime) -> list[int]:
    """Mark as ``lost`` the runs left ``running`` by a process that is gone; returns their ids.

    A run of this host is lost when its process no longer exists; a run of any host
    is lost when its heartbeat (or start, for runs recorded before heartbeats) is
    older than ``stale_after``.
    """
    table = TABLES["crawl_runs"]
    rows = connection.execute(
        sa.select(table.c.id, table.c.host, table.c.pid, table.c.started_at, table.c.heartbeat_at)
        .where(table.c.status == "running")
    ).all()
    lost = []
    for run_id, run_host, pid, started_at, heartbeat_at in rows:
        last_sign = heartbeat_at or started_at
        gone = run_host == host and pid is not None and not process_alive(pid, started_at)
        if gone or last_sign < now - stale_after:
            lost.append(run_id)
            connection.execute(
                table.update()
                .where(table.c.id == run_id, table.c.status == "running")
                .values(status="lost", finished_at=last_sign, finish_reason="lost")
            )
    return lost


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
    """Record each crawl in the ``crawl_runs`` table of ``PIXIV_DATABASE_URL``.

    A row is inserted when the spider opens (status ``running``, with this host
    and process id) and completed when it closes: end time, status, Scrapy's
    finish reason and counts from the crawl stats. While the crawl runs, the row's
    ``heartbeat_at`` is renewed every ``PIXIV_RUN_HEARTBEAT_INTERVAL`` seconds (off
    the reactor thread); a new crawl marks runs whose process is gone, or whose
    heartbeat is older than five intervals, as ``lost``. An unreachable database
    only costs the record, never the crawl (the store pipeline reports it).
    """

    #: Heartbeats a run may miss before another crawl calls it lost.
    MISSED_HEARTBEATS = 5

    def __init__(self, crawler: Crawler, url: str, heartbeat_interval: float, job: str | None = None) -> None:
        self.crawler = crawler
        self.url = url
        self.heartbeat_interval = heartbeat_interval
        self.stale_after = dt.timedelta(seconds=heartbeat_interval * self.MISSED_HEARTBEATS)
        self.job = job
        self.engine: Engine | None = None
        self.run_id: int | None = None
        self.heartbeat: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        recorder = cls(
            crawler,
            crawler.settings["PIXIV_DATABASE_URL"],
            crawler.settings.getfloat("PIXIV_RUN_HEARTBEAT_INTERVAL"),
            crawler.settings.get("PIXIV_RUN_JOB") or None,
        )
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    def spider_opened(self, spider: Spider) -> None:
        table = TABLES["crawl_runs"]
        host = socket.gethostname()
        now = dt.datetime.now(dt.UTC)
        try:
            self.engine = create_engine(self.url)
            upgrade(self.engine)
            with begin_write(self.engine) as connection:
                # What this archive holds: real crawls refuse a sandbox archive, and the other way round.
                contents = "sandbox" if self.crawler.settings.getbool("PIXIV_SANDBOX") else "pixiv"
                set_archive_meta(connection, CONTENTS_KEY, contents, replace=False)
                lost = mark_lost_runs(connection, host=host, stale_after=self.stale_after, now=now)
                self.run_id = connection.execute(
                    table.insert()
                    .values(
                        spider=spider.name,
                        arguments=spider_arguments(spider),
                        started_at=now,
                        status="running",
                        host=host,
                        pid=os.getpid(),
                        heartbeat_at=now,
                        job=self.job,
                        crawl_id=crawl_id_of(spider, self.crawler.settings),
                    )
                    .returning(table.c.id)
                ).scalar_one()
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            logger.warning("Crawl run not recorded: database %s: %s", mask_url(self.url), type(exc).__name__)
            self._dispose()
            return
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(RUN_ID_STAT, self.run_id)
        if lost:
            runs = f"runs {', '.join(map(str, lost))} were" if len(lost) > 1 else f"run {lost[0]} was"
            logger.warning("Crawl %s left running by a process that is gone: marked lost", runs)
        self.heartbeat = task.LoopingCall(self._beat)
        self.heartbeat.start(self.heartbeat_interval, now=False).addErrback(
            lambda failure: logger.debug("Crawl run heartbeat stopped: %s", failure.value)
        )

    def _beat(self) -> Any:
        """Renew ``heartbeat_at`` in a thread; a failed beat is only logged (the next one may pass)."""
        engine, run_id = self.engine, self.run_id
        if engine is None or run_id is None:
            return None
        table = TABLES["crawl_runs"]

        def beat() -> None:
            with engine.begin() as connection:
                connection.execute(
                    table.update().where(table.c.id == run_id).values(heartbeat_at=dt.datetime.now(dt.UTC))
                )

        return threads.deferToThread(beat).addErrback(
            lambda failure: logger.debug("Crawl run heartbeat not written: %s", failure.value)
        )

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.heartbeat is not None and self.heartbeat.running:
            self.heartbeat.stop()
        if self.engine is None or self.run_id is None:
            return
        table = TABLES["crawl_runs"]
        assert self.crawler.stats is not None
        try:
            with begin_write(self.engine) as connection:
                # Workers of one crawl outlive each other: the last ones mark a killed one lost.
                mark_lost_runs(connection, host=socket.gethostname(), stale_after=self.stale_after,
                               now=dt.datetime.now(dt.UTC))
                connection.execute(
                    table.update()
                    .where(table.c.id == self.run_id)
                    .values(
                        finished_at=dt.datetime.now(dt.UTC),
                        heartbeat_at=dt.datetime.now(dt.UTC),
                        status=run_status(reason),
                        finish_reason=reason,
                        counts=run_counts(self.crawler.stats.get_stats()),
                    )
                )
        except sa.exc.SQLAlchemyError as exc:
            logger.warning("Crawl run %s not completed in the database: %s", self.run_id, type(exc).__name__)
        finally:
            self._dispose()

    def _dispose(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None
