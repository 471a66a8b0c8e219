"""Illusts by id: detail, pages, ugoira metadata and optionally comments."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from pixivcrawl import api
from pixivcrawl.items import ApiObject
from pixivcrawl.spiders.base import Arg, PixivSpider, is_deleted, parse_bool, parse_ids

if TYPE_CHECKING:
    import scrapy
    from scrapy.http import Response


class IllustSpider(PixivSpider):
    """Archive illusts by id (a 404 is recorded as deleted), with their comments when ``comments=true``."""

    name = "illust"
    arguments = {
        "illust_id": Arg("illust id or comma list", parse=parse_ids, expects="illust ids like 123 or 123,456", required=True),
        "comments": Arg("true: also archive the comments", parse=parse_bool, default=False, expects="true or false"),
    }

    def start_listings(self) -> Iterable[scrapy.Request]:
        for illust_id in self.args["illust_id"]:
            params = {"illust_id": illust_id, "filter": self.filter}
            yield self.detail_request(api.ILLUST_DETAIL, params, self.parse_illust, illust_id=illust_id)

    def parse_illust(self, response: Response, illust_id: int) -> Iterator[ApiObject | scrapy.Request]:
        if is_deleted(response):
            yield self.deleted_work("illust", illust_id)
            return
        illust = response.json().get("illust") or {}
        yield from self.illust_objects([illust])
        if self.args["comments"] and illust.get("total_comments") != 0:
            yield from self.comment_requests("illust", illust_id)
