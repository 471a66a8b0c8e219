"""Python's garbage collector, tuned for the length of a crawl (an extension)."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, ClassVar, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class GarbageCollection:
    """Collects cyclic garbage every ``PIXIV_GC_THRESHOLD`` allocations instead of Python's 700.

    A crawl allocates a few hundred objects per work (the decoded page, its models,
    their rows) and keeps ~200,000 long-lived ones (the modules, SQLAlchemy's and
    pydantic's schemas): with Python's thresholds the collector ran about twice per
    ranking page and its full passes went through all of them, 15% of a metadata
    crawl's CPU. So when the spider opens, what exists by then is frozen out of the
    collector (``gc.freeze``: startup objects, never garbage), and young collections
    run every ``PIXIV_GC_THRESHOLD`` allocations; cycles are still collected, a
    little later (memory stays flat: ``bench/bench_memory.py``). When the last crawl
    of the process closes, Python's settings come back. ``0`` leaves the collector alone.
    """

    #: Crawls of this process that run tuned, and the thresholds from before the first.
    _open: ClassVar[int] = 0
    _saved: ClassVar[tuple[int, ...]] = ()

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self.tuned = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        threshold = crawler.settings.getint("PIXIV_GC_THRESHOLD")
        if threshold <= 0:
            raise NotConfigured("PIXIV_GC_THRESHOLD is 0")
        extension = cls(threshold)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self) -> None:
        cls = type(self)
        if cls._open == 0:
            cls._saved = gc.get_threshold()
            gc.freeze()
        cls._open += 1
        self.tuned = True
        _, *older = gc.get_threshold()
        gc.set_threshold(max(self.threshold, cls._saved[0]), *older)

    def spider_closed(self) -> None:
        if not self.tuned:
            return
        self.tuned = False
        cls = type(self)
        cls._open -= 1
        if cls._open == 0:
            gc.set_threshold(*cls._saved)
            gc.unfreeze()
