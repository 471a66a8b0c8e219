"""``scrapy crawl``, checking arguments and settings first and exiting non-zero on failure."""

from __future__ import annotations

import difflib
import gc
import logging
import sys
from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.settings import Settings
from scrapy.spiderloader import get_spider_loader

from pixivcrawl.checks import check_settings
from pixivcrawl.cli import SETTINGS_MODULE, ProjectCommand, fail
from pixivcrawl.exceptions import ArgumentError
from pixivcrawl.logfilters import quiet_startup
from pixivcrawl.spiders.base import PixivSpider
from pixivcrawl.summary import SUCCESS_REASONS
from pixivcrawl.workers.keys import RedisUnavailable, redis_url

if TYPE_CHECKING:
    import argparse

logger = logging.getLogger(__name__)

#: Options of ``scrapy crawl`` that take a value as the next word.
VALUE_OPTIONS = frozenset({"-a", "-s", "-o", "-O", "-t", "-L", "--set", "--output", "--overwrite-output",
                           "--output-format", "--logfile", "--loglevel", "--pidfile", "--profile"})


def spider_named_in(argv: list[str]) -> str | None:
    """The SPIDER of ``... crawl SPIDER [options]``, or None (Scrapy may have popped ``crawl`` already)."""
    words = iter(argv[argv.index("crawl") + 1:] if "crawl" in argv else argv[1:])
    for word in words:
        if word in VALUE_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def spider_help(name: str | None) -> str | None:
    """The help text of pixivcrawl spider ``name`` (its arguments), or None."""
    if name is None:
        return None
    settings = Settings()
    settings.setmodule(SETTINGS_MODULE, priority="project")
    try:
        spidercls = get_spider_loader(settings).load(name)
    except KeyError:
        return None
    return spidercls.arguments_help() if issubclass(spidercls, PixivSpider) else None


class Command(ProjectCommand, ScrapyCrawlCommand):
    """Scrapy's ``crawl``, plus: bad spider arguments or settings stop it before
    any request (and before Scrapy starts logging) with a one-line message and
    exit status 2, and a crawl that did not finish (auth refused, database
    unreachable, interrupted) exits with status 1. ``scrapy crawl SPIDER --help``
    lists the spider's arguments."""

    def long_desc(self) -> str:
        return (super().long_desc() + ". `scrapy crawl SPIDER --help` lists the spider's arguments; "
                "`scrapy list` lists the spiders.")

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        # Scrapy prints --help while parsing, before the command sees its arguments:
        # the spider's arguments are added to the help text of the parser itself.
        help_text = spider_help(spider_named_in(sys.argv))
        if help_text:
            scrapy_help = parser.format_help
            parser.format_help = lambda: f"{help_text}\n\n{scrapy_help()}"  # type: ignore[method-assign]

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if len(args) != 1:
            return
        assert self.settings is not None
        loader = get_spider_loader(self.settings)
        try:
            spidercls = loader.load(args[0])
        except KeyError:
            close = difflib.get_close_matches(args[0], loader.list(), n=3)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            fail(f"unknown spider {args[0]!r}{hint} (`scrapy list` shows every spider)")
        if not issubclass(spidercls, PixivSpider):
            return
        try:
            spidercls.parse_arguments(opts.spargs)
            check_settings(self.settings)
            if redis_url(self.settings):  # redis is imported by workers only
                from pixivcrawl.workers.client import check_redis

                check_redis(self.settings)
        except RedisUnavailable as exc:
            print(f"pixivcrawl: {exc}", file=sys.stderr)
            sys.exit(1)
        except ArgumentError as exc:
            fail(str(exc))
        quiet_startup()

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            super().run(args, opts)
            return
        assert self.crawler_process is not None
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        # The crawl is over and the process ends: spare the collector its walk over everything the
        # crawl made at interpreter shutdown (0.5-1 s after a crawl with files; all is closed by now).
        gc.freeze()
        try:
            reason = crawler.stats.get_value("finish_reason")
            started = crawler.stats.get_value("start_time") is not None
        except (AttributeError, RuntimeError):  # the crawler never started
            reason, started = None, False
        if self.crawler_process.bootstrap_failed or reason not in SUCCESS_REASONS:
            self.exitcode = 1
            logger.error("%s", self.ending(reason, started=started, jobdir=crawler.settings.get("JOBDIR")))

    @staticmethod
    def ending(reason: str | None, *, started: bool, jobdir: str | None) -> str:
        """The last line of a crawl that did not finish: why, and what to do next."""
        if reason == "shutdown":
            if jobdir:
                return f"Crawl interrupted: run the same command again (JOBDIR {jobdir}) to resume where it stopped"
            return ("Crawl interrupted: rows and files archived so far are kept; "
                    "add -s JOBDIR=DIR to make a crawl resumable")
        if reason is None and started:
            if jobdir:
                return (f"Crawl stopped without closing (a second Ctrl-C?): the next run with JOBDIR {jobdir} "
                        "starts it over; archived rows and files are kept")
            return "Crawl stopped without closing (a second Ctrl-C?); archived rows and files are kept"
        return f"Crawl failed: {reason or 'it did not start (see the errors above)'}"
