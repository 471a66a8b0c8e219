"""Scrapy's log formatter, without a line per response or scraped item below DEBUG, and short lines for rejects."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Self

from scrapy.logformatter import LogFormatter, LogFormatterResult

from pixivcrawl.rejects import RejectedItem

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure


class PixivLogFormatter(LogFormatter):
    """Skips Scrapy's "Crawled" and "Scraped from" DEBUG lines unless LOG_LEVEL is DEBUG.

    Scrapy builds those records for every response and item whatever the level (its
    handler, not the logger, filters by LOG_LEVEL); at thousands of works a second the
    items' cost several percent of a crawl's CPU, and with files the responses' (one
    per file) about 1.5% of the reactor's time.
    """

    def __init__(self, debug: bool) -> None:
        #: Whether LOG_LEVEL lets DEBUG lines through.
        self.debug = debug

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        level = crawler.settings.get("LOG_LEVEL")
        numeric = level if isinstance(level, int) else logging.getLevelName(str(level).upper())
        return cls(debug=crawler.settings.getbool("LOG_ENABLED") and numeric <= logging.DEBUG)

    def crawled(  # type: ignore[override]
        self, request: Request, response: Response, spider: Spider
    ) -> LogFormatterResult | None:
        return super().crawled(request, response, spider) if self.debug else None

    def scraped(  # type: ignore[override]
        self, item: Any, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult | None:
        return super().scraped(item, response, spider) if self.debug else None

    def dropped(
        self, item: Any, exception: BaseException, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult:
        result = super().dropped(item, exception, response, spider)
        if isinstance(exception, RejectedItem):
            # One line: the object's raw JSON is in the rejects table, not in the log.
            return {**result, "msg": "Dropped: %(exception)s (recorded in rejects)", "args": {"exception": exception}}
        return result
