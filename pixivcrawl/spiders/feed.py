"""The follow feed: new works from the users the logged-in account follows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pixivcrawl import api
from pixivcrawl.spiders.base import Arg, PixivSpider

if TYPE_CHECKING:
    import scrapy


class FeedSpider(PixivSpider):
    """Archive the newest works of the users the logged-in account follows."""

    name = "feed"
    arguments = {
        "restrict": Arg("works of public or private follows, or all", choices=(*api.RESTRICTS, "all"), default="public"),
        "type": Arg("works to archive", choices=("illust", "novel"), default="illust"),
    }

    def start_listings(self) -> Iterable[scrapy.Request]:
        kind = self.args["type"]
        path = api.ILLUST_FOLLOW if kind == "illust" else api.NOVEL_FOLLOW
        yield self.api_request(path, {"restrict": self.args["restrict"]}, self.parse_works, kind=kind)
