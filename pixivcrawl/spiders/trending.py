"""Trending tags: Pixiv's trending illust and novel tags of the day, with the work shown for each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from pixivcrawl import api
from pixivcrawl.items import ApiObject
from pixivcrawl.spiders.base import JST, Arg, PixivSpider

if TYPE_CHECKING:
    import scrapy
    from scrapy.http import TextResponse

KINDS = ("illust", "novel")


class TrendingSpider(PixivSpider):
    """Archive today's trending tags (``type`` illust, novel or all) and the work Pixiv shows for each."""

    name = "trending"
    arguments = {
        "type": Arg("trending tags of illusts, novels or both", choices=(*KINDS, "all"), default="all"),
    }

    def start_listings(self) -> Iterable[scrapy.Request]:
        for kind in KINDS if self.args["type"] == "all" else (self.args["type"],):
            yield self.api_request(api.TRENDING_TAGS[kind], {}, self.parse_trending, kind=kind)

    def parse_trending(self, response: TextResponse, kind: str) -> Iterator[ApiObject | scrapy.Request]:
        # Pixiv's trending list is of the day in Japan, whatever the crawler's clock says.
        today = dt.datetime.now(JST).date()
        trends = response.json().get("trend_tags") or []
        for position, trend in enumerate(trends, start=1):
            yield ApiObject("trending_tag", {**trend, "kind": kind, "date": today, "position": position})
        # Both lists show an illust with each tag, the novel list too (reference §5.4).
        yield from self.illust_objects([t["illust"] for t in trends if t.get("illust")])
