"""The progress line: where a crawl is, every PIXIV_PROGRESS_INTERVAL seconds.

:func:`progress_line` is a pure function of the crawl stats. :class:`CrawlProgress`
logs it at INFO, or, when standard error is a terminal and the log goes there too,
draws it as one tqdm bar that updates in place. It replaces Scrapy's LogStats
("Crawled N pages", which counted image downloads as pages).
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from twisted.internet import task

from pixivcrawl import api
from pixivcrawl.summary import human_bytes, human_duration, pace, works_seen

if TYPE_CHECKING:
    from collections.abc import Mapping

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

API_RESPONSES = "pixivcrawl/api/responses"
PAGES_DONE = "pixivcrawl/pages/done"
PAGES_TOTAL = "pixivcrawl/pages/total"


def eta(done: int, total: int | None, seconds: float) -> float | None:
    """Seconds left at the pace so far, when the total is known and some pages are done."""
    if not total or not done or seconds <= 0:
        return None
    return max(total - done, 0) * seconds / done


def progress_line(stats: Mapping[str, Any], seconds: float) -> str:
    """``pages 4/10, works 120 (illusts 120), files 300 (84.0 MB), API 40/min, ETA 1 min 30 s``."""
    done = int(stats.get(PAGES_DONE) or 0)
    total = stats.get(PAGES_TOTAL)
    parts = [f"pages {done}/{total}" if total else f"pages {done}"]
    seen = works_seen(stats)
    works = f"works {sum(seen.values())}"
    if "pixivcrawl/works/new" in stats:
        works += f" ({int(stats['pixivcrawl/works/new'])} new)"
    parts.append(works)
    files = int(stats.get("file_status_count/downloaded") or 0)
    parts.append(f"files {files} ({human_bytes(int(stats.get('pixivcrawl/files/bytes') or 0))})")
    parts.append(f"API {pace(int(stats.get(API_RESPONSES) or 0), seconds)}")
    left = eta(done, total, seconds)
    if left is not None:
        parts.append(f"ETA {human_duration(left)}")
    return ", ".join(parts)


class CrawlProgress:
    """Counts API responses (``pixivcrawl/api/responses``) and reports progress.

    Settings: PIXIV_PROGRESS_INTERVAL (seconds; 0 turns the line off).
    """

    def __init__(self, crawler: Crawler, interval: float, bar: bool) -> None:
        self.crawler = crawler
        # Kept now: once the crawl runs, Twisted may have replaced sys.stderr with a logging file.
        self.terminal = sys.stderr
        self.interval = interval
        self.use_bar = bar
        self.bar: Any = None
        self.started = time.monotonic()
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        interval = crawler.settings.getfloat("PIXIV_PROGRESS_INTERVAL")
        settings = crawler.settings
        bar = sys.stderr.isatty() and not settings.get("LOG_FILE") and settings.getbool("LOG_ENABLED")
        progress = cls(crawler, interval, bar)
        crawler.signals.connect(progress.response_received, signal=signals.response_received)
        if interval <= 0:
            return progress
        crawler.signals.connect(progress.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(progress.spider_closed, signal=signals.spider_closed)
        return progress

    def response_received(self, response: Response, request: Request) -> None:
        if request.meta.get("download_slot") == api.API_SLOT:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(API_RESPONSES)

    def spider_opened(self) -> None:
        self.started = time.monotonic()
        self.loop = task.LoopingCall(self.report)
        # In a terminal the bar moves every second; log lines come once an interval.
        self.loop.start(min(self.interval, 1.0) if self.use_bar else self.interval, now=False)

    def report(self) -> None:
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        line = progress_line(stats, time.monotonic() - self.started)
        if not self.use_bar:
            logger.info("Progress: %s", line)
            return
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=stats.get(PAGES_TOTAL), unit="page", desc="pixivcrawl", file=self.terminal, leave=False)
            self.log_above_the_bar()
        self.bar.total = stats.get(PAGES_TOTAL)
        self.bar.n = int(stats.get(PAGES_DONE) or 0)
        self.bar.set_postfix_str(line.split(", ", 1)[1], refresh=True)

    def log_above_the_bar(self) -> None:
        """Send the log handlers' lines for the terminal through ``tqdm.write``, which keeps the bar whole."""
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is self.terminal:
                handler.setStream(AboveTheBar(self.terminal))

    def spider_closed(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.bar is not None:
            self.bar.close()
            self.bar = None
            for handler in logging.getLogger().handlers:
                if isinstance(handler, logging.StreamHandler) and isinstance(handler.stream, AboveTheBar):
                    handler.setStream(self.terminal)


class AboveTheBar:
    """A stream for a log handler: each line is printed above the progress bar."""

    def __init__(self, terminal: Any) -> None:
        self.terminal = terminal

    def write(self, text: str) -> None:
        from tqdm import tqdm

        tqdm.write(text.removesuffix("\n"), file=self.terminal)

    def flush(self) -> None:
        self.terminal.flush()
