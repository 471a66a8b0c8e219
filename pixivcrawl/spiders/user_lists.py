"""User lists: who follows a user, the users Pixiv relates to one, and a user's My pixiv list."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from pixivcrawl import api
from pixivcrawl.items import ApiObject
from pixivcrawl.spiders.base import Arg, PixivSpider, listing, parse_bool, parse_positive_int

if TYPE_CHECKING:
    import scrapy
    from scrapy.http import TextResponse


class UserListSpider(PixivSpider):
    """Base of the spiders that archive one user's list of ``user_previews``, page by page.

    Each listed user is archived with its preview works; :meth:`relation` is the
    row that says the user is in the list. User lists are not in time order, so
    they are read whole (``pages`` still limits them) even in incremental mode.
    """

    def list_request(self, endpoint: api.Endpoint, params: dict[str, Any], owner: int, relation: str) -> scrapy.Request:
        return self.api_request(endpoint, params, self.parse_list, owner=owner, relation=relation, first=1)

    @listing(incremental=False, why="user lists are not in time order, and the archive answers for works only")
    def parse_list(
        self, response: TextResponse, owner: int, relation: str, first: int
    ) -> Iterator[ApiObject | scrapy.Request]:
        data = response.json()
        previews, count = self.positioned(response, data, "user_previews", "user", first)
        for position, preview in previews:
            listed = (preview.get("user") or {}).get("id")
            yield from self.preview_objects(preview)
            yield self.relation(relation, owner, listed, position)
        yield from self.next_page(response, data, owner=owner, relation=relation, first=first + count)

    @staticmethod
    def relation(relation: str, owner: int, listed: Any, position: int) -> ApiObject:
        if relation == "follower":
            # A follower list shows public follows only.
            return ApiObject("follow", {"user_id": listed, "followed_user_id": owner, "restrict": "public"})
        return ApiObject(
            "user_relation", {"relation": relation, "user_id": owner, "other_user_id": listed, "position": position}
        )


class FollowersSpider(UserListSpider):
    """Archive who follows ``user_id`` (``/v1/user/follower``): the users and their follow rows."""

    name = "followers"
    arguments = {
        "user_id": Arg("whose followers (default: the logged-in user)", parse=parse_positive_int, expects="a user id"),
    }

    async def start(self) -> AsyncIterator[Any]:
        user_id = self.args["user_id"] or await self.account_user_id()
        yield self.list_request(api.USER_FOLLOWER, {"user_id": user_id}, user_id, "follower")


class RelatedUsersSpider(UserListSpider):
    """Archive the users Pixiv relates to ``seed_user_id`` (``/v1/user/related``)."""

    name = "related_users"
    arguments = {
        "seed_user_id": Arg("the user whose related users to archive", parse=parse_positive_int,
                            expects="a user id", required=True),
    }

    def start_listings(self) -> Iterable[scrapy.Request]:
        seed = self.args["seed_user_id"]
        yield self.list_request(api.USER_RELATED, {"seed_user_id": seed}, seed, "related")


class MypixivSpider(UserListSpider):
    """Archive ``user_id``'s My pixiv friends (``/v1/user/mypixiv``), or with ``list=true`` its ``/v2/user/list``."""

    name = "mypixiv"
    arguments = {
        "user_id": Arg("whose list (default: the logged-in user)", parse=parse_positive_int, expects="a user id"),
        "list": Arg("true: /v2/user/list (pixivpy's user_list) instead of My pixiv",
                    parse=parse_bool, default=False, expects="true or false"),
    }

    async def start(self) -> AsyncIterator[Any]:
        user_id = self.args["user_id"] or await self.account_user_id()
        if self.args["list"]:
            yield self.list_request(api.USER_LIST, {"user_id": user_id}, user_id, "listed")
        else:
            yield self.list_request(api.USER_MYPIXIV, {"user_id": user_id}, user_id, "mypixiv")
