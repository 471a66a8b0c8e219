"""``scrapy list``: every spider with its one-line description."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands.list import Command as ScrapyListCommand
from scrapy.spiderloader import get_spider_loader

from pixivcrawl.cli import ProjectCommand
from pixivcrawl.spiders.base import PixivSpider

if TYPE_CHECKING:
    import argparse


class Command(ProjectCommand, ScrapyListCommand):
    """Scrapy's ``list``, with each spider's description (the first line of its docstring)."""

    def short_desc(self) -> str:
        return "List the spiders, each with what it archives (`scrapy crawl SPIDER --help`: its arguments)"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        loader = get_spider_loader(self.settings)
        names = sorted(loader.list())
        width = max(map(len, names), default=0)
        for name in names:
            spidercls = loader.load(name)
            text = spidercls.description() if issubclass(spidercls, PixivSpider) else ""
            print(f"{name.ljust(width)}  {text}".rstrip())
