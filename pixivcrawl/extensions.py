"""Scrapy extensions of pixivcrawl: the crawl_runs recorder."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import logging
import re
from typing import TYPE_CHECKING, Any, Self

import sqlalchemy as sa
from scrapy import signals

from pixivcrawl.db.archive import CONTENTS_KEY, set_archive_meta
from pixivcrawl.db.engine import create_engine, mask_url, upgrade
from pixivcrawl.db.schema import TABLES

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)

SECRET_NAME = re.compile(r"token|secret|password|passwd|auth|cookie|session|api_?key|credential", re.IGNORECASE)
INTERRUPTED_REASONS = frozenset({"shutdown", "cancelled", "closespider_timeout", "closespider_itemcount",
                                 "closespider_pagecount", "closespider_timeout_no_item"})
DB_ROWS_PREFIX = "pixivcrawl/db/rows_upserted/"
# Attributes Scrapy's Spider sets itself; everything else public came from -a arguments.
SPIDER_OWN_ATTRIBUTES = frozenset({"name", "start_urls", "allowed_domains", "custom_settings", "crawler", "settings"})


def run_status(reason: str) -> str:
    """``finished``, ``interrupted`` (a stop someone asked for) or ``failed``."""
    if reason == "finished":
        return "finished"
    if reason in INTERRUPTED_REASONS:
        return "interrupted"
    return "failed"


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
    }


class CrawlRunRecorder:
    """Record each crawl in the ``crawl_runs`` table of ``PIXIV_DATABASE_URL``.

    A row is inserted when the spider opens (status ``running``) and completed
    when it closes: end time, status, Scrapy's finish reason and counts from the
    crawl stats. An unreachable database only costs the record, never the crawl
    (the store pipeline reports it).
    """

    def __init__(self, crawler: Crawler, url: str) -> None:
        self.crawler = crawler
        self.url = url
        self.engine: Engine | None = None
        self.run_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        recorder = cls(crawler, crawler.settings["PIXIV_DATABASE_URL"])
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    def spider_opened(self, spider: Spider) -> None:
        table = TABLES["crawl_runs"]
        try:
            self.engine = create_engine(self.url)
            upgrade(self.engine)
            with self.engine.begin() as connection:
                # What this archive holds: real crawls refuse a sandbox archive, and the other way round.
                contents = "sandbox" if self.crawler.settings.getbool("PIXIV_SANDBOX") else "pixiv"
                set_archive_meta(connection, CONTENTS_KEY, contents, replace=False)
                self.run_id = connection.execute(
                    table.insert()
                    .values(
                        spider=spider.name,
                        arguments=spider_arguments(spider),
                        started_at=dt.datetime.now(dt.UTC),
                        status="running",
                    )
                    .returning(table.c.id)
                ).scalar_one()
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            logger.warning("Crawl run not recorded: database %s: %s", mask_url(self.url), type(exc).__name__)
            self._dispose()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.engine is None or self.run_id is None:
            return
        table = TABLES["crawl_runs"]
        assert self.crawler.stats is not None
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    table.update()
                    .where(table.c.id == self.run_id)
                    .values(
                        finished_at=dt.datetime.now(dt.UTC),
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
