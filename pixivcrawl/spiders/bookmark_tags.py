"""Bookmark tags: the tags a user gave their illust or novel bookmarks, with how many carry each."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from pixivcrawl import api
from pixivcrawl.items import ApiObject
from pixivcrawl.spiders.base import Arg, PixivSpider, listing, parse_positive_int

if TYPE_CHECKING:
    import scrapy
    from scrapy.http import TextResponse


class BookmarkTagsSpider(PixivSpider):
    """Archive a user's bookmark tags (``type`` illust or novel, ``restrict`` public, private or all) with their counts."""

    name = "bookmark_tags"
    arguments = {
        "user_id": Arg("whose bookmark tags (default: the logged-in user)", parse=parse_positive_int,
                       expects="a user id"),
        "type": Arg("tags of illust or novel bookmarks", choices=("illust", "novel"), default="illust"),
        "restrict": Arg("tags of public or private bookmarks, or all (both)", choices=(*api.RESTRICTS, "all"),
                        default="public"),
    }

    async def start(self) -> AsyncIterator[Any]:
        user_id = self.args["user_id"] or await self.account_user_id()
        kind = self.args["type"]
        for restrict in api.RESTRICTS if self.args["restrict"] == "all" else (self.args["restrict"],):
            params = {"user_id": user_id, "restrict": restrict}
            yield self.api_request(
                api.USER_BOOKMARK_TAGS[kind], params, self.parse_tags, user_id=user_id, restrict=restrict
            )

    @listing(incremental=False, why="tags, not works, with counts that change: read whole")
    def parse_tags(self, response: TextResponse, user_id: int, restrict: str) -> Iterator[ApiObject | scrapy.Request]:
        data = response.json()
        for tag in data.get("bookmark_tags") or []:
            row = {"user_id": user_id, "kind": self.args["type"], "restrict": restrict, **tag}
            yield ApiObject("bookmark_tag", row)
        yield from self.next_page(response, data, user_id=user_id, restrict=restrict)
