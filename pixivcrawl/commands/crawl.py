"""``scrapy crawl``, checking arguments and settings first and exiting non-zero on failure."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.spiderloader import get_spider_loader

from pixivcrawl.checks import check_settings
from pixivcrawl.exceptions import ArgumentError
from pixivcrawl.spiders.base import PixivSpider
from pixivcrawl.workers.keys import RedisUnavailable, check_redis

if TYPE_CHECKING:
    import argparse

logger = logging.getLogger(__name__)

#: Ends of a crawl that are not a failure.
SUCCESS_REASONS = frozenset({"finished"})


class Command(ScrapyCrawlCommand):
    """Scrapy's ``crawl``, plus: bad spider arguments or settings stop it before
    any request (and before Scrapy starts logging) with a one-line message and
    exit status 2, and a crawl that did not finish (auth refused, database
    unreachable, interrupted) exits with status 1."""

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if len(args) != 1:
            return
        assert self.settings is not None
        try:
            spidercls = get_spider_loader(self.settings).load(args[0])
        except KeyError:
            return  # Scrapy's own "Spider not found" follows
        if not issubclass(spidercls, PixivSpider):
            return
        try:
            spidercls.parse_arguments(opts.spargs)
            check_settings(self.settings)
            check_redis(self.settings)
        except RedisUnavailable as exc:
            print(f"pixivcrawl: {exc}", file=sys.stderr)
            sys.exit(1)
        except ArgumentError as exc:
            print(f"pixivcrawl: {exc}", file=sys.stderr)
            sys.exit(2)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            super().run(args, opts)
            return
        assert self.crawler_process is not None
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        try:
            reason = crawler.stats.get_value("finish_reason")
        except (AttributeError, RuntimeError):  # the crawler never started
            reason = None
        if self.crawler_process.bootstrap_failed or reason not in SUCCESS_REASONS:
            self.exitcode = 1
            if reason == "shutdown":
                logger.error("Crawl interrupted (shutdown): run it again with the same JOBDIR to resume")
            else:
                logger.error("Crawl failed: %s", reason or "it did not start (see the errors above)")
