"""New works: everything posted on Pixiv, newest first, by the ``max_illust_id`` cursor."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pixivcrawl import api
from pixivcrawl.spiders.base import Arg, PixivSpider, parse_positive_int

if TYPE_CHECKING:
    import scrapy


class NewSpider(PixivSpider):
    """Archive the newest works on Pixiv (illusts, manga or novels), from the newest or below a cursor."""

    name = "new"
    arguments = {
        "type": Arg("works to archive", choices=("illust", "novel"), default="illust"),
        "content_type": Arg("illust or manga (type=illust only)", choices=api.CONTENT_TYPES, default="illust"),
        "max_illust_id": Arg("start below this illust id (resume)", parse=parse_positive_int, expects="an illust id"),
        "max_novel_id": Arg("start below this novel id (resume)", parse=parse_positive_int, expects="a novel id"),
    }

    def start_listings(self) -> Iterable[scrapy.Request]:
        if self.args["type"] == "novel":
            params = {"max_novel_id": self.args["max_novel_id"]}
            yield self.api_request(api.NOVEL_NEW, params, self.parse_works, kind="novel")
            return
        params = {"content_type": self.args["content_type"], "max_illust_id": self.args["max_illust_id"]}
        yield self.api_request(api.ILLUST_NEW, params, self.parse_works, kind="illust")
