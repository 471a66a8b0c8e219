"""Related works: the illusts Pixiv lists as related to one illust."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pixivcrawl import api
from pixivcrawl.spiders.base import Arg, PixivSpider, parse_positive_int

if TYPE_CHECKING:
    import scrapy


class RelatedSpider(PixivSpider):
    """Archive the illusts related to ``illust_id``, for as many pages as Pixiv lists (or ``pages``)."""

    name = "related"
    arguments = {
        "illust_id": Arg("the illust whose related works to archive", parse=parse_positive_int,
                         expects="an illust id", required=True),
    }

    def start_listings(self) -> Iterable[scrapy.Request]:
        params = {"illust_id": self.args["illust_id"]}
        yield self.api_request(api.ILLUST_RELATED, params, self.parse_works, kind="illust")
