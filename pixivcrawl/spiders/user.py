"""Users: the profile and the works (illusts, manga, novels) of one or more users."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from pixivcrawl import api
from pixivcrawl.escape import printable
from pixivcrawl.items import ApiObject
from pixivcrawl.spiders.base import Arg, PixivSpider, is_deleted, parse_ids

if TYPE_CHECKING:
    import scrapy
    from scrapy.http import TextResponse

WORK_TYPES = ("illust", "manga", "novel")
# /v1/user/detail profile counters, per work type: a zero spares the listing request.
PROFILE_TOTALS = {"illust": "total_illusts", "manga": "total_manga", "novel": "total_novels"}
#: Works per page of Pixiv's user listings (for the progress total).
USER_LISTING_PAGE_SIZE = 30


class UserWorksSpider(PixivSpider):
    """Base of spiders that archive users' works, each user's listings requested once per crawl."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.users_listed: set[int] = set()

    def user_works_requests(
        self, user_id: int, types: Iterable[str], profile: dict[str, Any] | None = None
    ) -> Iterator[scrapy.Request]:
        """The first page of each of the user's listings, skipping those the profile says are empty."""
        if user_id in self.users_listed:
            return
        self.users_listed.add(user_id)
        for work_type in types:
            if profile is not None and profile.get(PROFILE_TOTALS[work_type]) == 0:
                continue
            if work_type == "novel":
                yield self.api_request(api.USER_NOVELS, {"user_id": user_id}, self.parse_works, kind="novel")
            else:
                params = {"user_id": user_id, "type": work_type}
                yield self.api_request(api.USER_ILLUSTS, params, self.parse_works, kind="illust")


class UserSpider(UserWorksSpider):
    """Archive users' profiles and their works (``type`` illust, manga, novel or all)."""

    name = "user"
    arguments = {
        "user_id": Arg("user id or comma list", parse=parse_ids, expects="user ids like 123 or 123,456", required=True),
        "type": Arg("works to archive", choices=(*WORK_TYPES, "all"), default="all"),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Listing pages each user's profile counts announce (progress total once every profile is in).
        self.profile_pages: dict[int, int] = {}

    def pages_total(self) -> int | None:
        if len(self.profile_pages) < len(self.args["user_id"]):
            return super().pages_total()
        return sum(self.profile_pages.values())

    def start_listings(self) -> Iterable[scrapy.Request]:
        for user_id in self.args["user_id"]:
            params = {"user_id": user_id}
            yield self.detail_request(api.USER_DETAIL, params, self.parse_user, user_id=user_id)

    def listing_pages(self, profile: dict[str, Any], types: Iterable[str]) -> int:
        """The pages of the user's listings the profile counts announce, at most ``pages`` each."""
        pages = 0
        for work_type in types:
            count = math.ceil((profile.get(PROFILE_TOTALS[work_type]) or 0) / USER_LISTING_PAGE_SIZE)
            pages += min(count, self.max_pages) if self.max_pages is not None else count
        return pages

    def parse_user(self, response: TextResponse, user_id: int) -> Iterator[ApiObject | scrapy.Request]:
        if is_deleted(response):
            self.logger.warning("user %s: gone (%s)", user_id,
                                printable((api.error_of(response.body) or {}).get("user_message")))
            self.profile_pages[user_id] = 0
            return
        data = response.json()
        yield ApiObject("user_detail", data)
        types = WORK_TYPES if self.args["type"] == "all" else (self.args["type"],)
        self.profile_pages[user_id] = self.listing_pages(data.get("profile") or {}, types)
        yield from self.user_works_requests(user_id, types, data.get("profile"))
