"""Recommendations: the works (or users) Pixiv recommends to the logged-in account."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

from pixivcrawl import api
from pixivcrawl.spiders.base import Arg, listing
from pixivcrawl.spiders.user_lists import UserListSpider

if TYPE_CHECKING:
    import scrapy
    from scrapy.http import TextResponse


class RecommendedSpider(UserListSpider):
    """Archive Pixiv's recommendations (illusts, manga, novels or users) and the ranking works shown with them."""

    name = "recommended"
    arguments = {
        "type": Arg("works (or users) to archive", choices=("illust", "novel", "user"), default="illust"),
        "content_type": Arg("illust or manga (type=illust only)", choices=api.CONTENT_TYPES, default="illust"),
    }

    async def start(self) -> AsyncIterator[Any]:
        if self.args["type"] == "user":
            # Users recommended to the account: user_relations rows (relation 'recommended').
            owner = await self.account_user_id()
            yield self.list_request(api.USER_RECOMMENDED, {}, owner, "recommended")
            return
        for request in self.start_listings():
            yield request

    def start_listings(self) -> Iterable[scrapy.Request]:
        if self.args["type"] == "novel":
            yield self.api_request(api.NOVEL_RECOMMENDED, {}, self.parse_recommended, kind="novel")
            return
        params = {"content_type": self.args["content_type"]}
        yield self.api_request(api.ILLUST_RECOMMENDED, params, self.parse_recommended, kind="illust")

    @listing(incremental=True, why="not in time order, but a page of only archived works means Pixiv "
             "recommends what the archive has")
    async def parse_recommended(self, response: TextResponse, kind: str) -> AsyncIterator[Any]:
        data = response.json()
        works = self.listed(response, data, f"{kind}s", kind)
        # The first page also carries a few ranking works: whole objects, archived like the rest.
        shown = works + self.listed(response, data, f"ranking_{kind}s", kind)
        items = self.illust_objects(shown) if kind == "illust" else self.novel_objects(shown)
        async for out in self.listing_page(response, data, kind, works, items, kind=kind):
            yield out
