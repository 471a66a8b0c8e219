"""Follows: the users someone follows, the follow relation, and optionally all their works."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from pixivcrawl import api
from pixivcrawl.items import ApiObject
from pixivcrawl.spiders.base import Arg, listing, parse_bool, parse_positive_int
from pixivcrawl.spiders.user import WORK_TYPES, UserWorksSpider

if TYPE_CHECKING:
    import scrapy
    from scrapy.http import TextResponse


class FollowingSpider(UserWorksSpider):
    """Archive the users someone follows (with their preview works); ``works=true`` adds all their works."""

    name = "following"
    arguments = {
        "user_id": Arg("whose follows (default: the logged-in user)", parse=parse_positive_int, expects="a user id"),
        "restrict": Arg("public or private follows, or all (both)", choices=(*api.RESTRICTS, "all"), default="public"),
        "works": Arg(
            "true: also archive every work of each followed user",
            parse=parse_bool, default=False, expects="true or false",
        ),
    }

    async def start(self) -> AsyncIterator[Any]:
        user_id = self.args["user_id"] or await self.account_user_id()
        restricts = api.RESTRICTS if self.args["restrict"] == "all" else (self.args["restrict"],)
        for restrict in restricts:
            params = {"user_id": user_id, "restrict": restrict}
            yield self.api_request(api.USER_FOLLOWING, params, self.parse_following, user_id=user_id, restrict=restrict)

    @listing(incremental=False, why="a user list: its pages hold users, and the archive answers for works only")
    def parse_following(
        self, response: TextResponse, user_id: int, restrict: str
    ) -> Iterator[ApiObject | scrapy.Request]:
        data = response.json()
        for preview in self.listed(response, data, "user_previews", "user"):
            followed = (preview.get("user") or {}).get("id")
            all_works = self.args["works"] and isinstance(followed, int)
            yield from self.preview_objects(preview, works=not all_works)
            yield ApiObject("follow", {"user_id": user_id, "followed_user_id": followed, "restrict": restrict})
            if all_works and isinstance(followed, int):
                yield from self.user_works_requests(followed, WORK_TYPES)
        yield from self.next_page(response, data, user_id=user_id, restrict=restrict)
