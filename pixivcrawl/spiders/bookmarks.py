"""Bookmarks: a user's bookmarked illusts or novels and the bookmark relation, optionally with its tags."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from pixivcrawl import api
from pixivcrawl.items import ApiObject
from pixivcrawl.models import WorkStatus
from pixivcrawl.parsing import illust_status
from pixivcrawl.spiders.base import Arg, PixivSpider, is_deleted, listing, parse_bool, parse_positive_int

if TYPE_CHECKING:
    import scrapy
    from scrapy.http import TextResponse


class BookmarksSpider(PixivSpider):
    """Archive a user's bookmarks (``restrict`` public, private or all) and who bookmarked what, how."""

    name = "bookmarks"
    arguments = {
        "user_id": Arg("whose bookmarks (default: the logged-in user)", parse=parse_positive_int, expects="a user id"),
        "restrict": Arg("public or private bookmarks, or all (both)", choices=(*api.RESTRICTS, "all"),
                        default="public"),
        "type": Arg("bookmarked works", choices=("illust", "novel"), default="illust"),
        "tag": Arg("only bookmarks with this bookmark tag (未分類: the untagged ones)"),
        "tags": Arg(
            "true: record each bookmark's tags (one request per work)",
            parse=parse_bool, default=False, expects="true or false",
        ),
    }

    async def start(self) -> AsyncIterator[Any]:
        user_id = self.args["user_id"] or await self.account_user_id()
        self.with_tags = self.args["tags"]
        if self.with_tags and user_id != await self.account_user_id():
            # Pixiv shows bookmark tags to their owner only: the detail would be the viewer's own.
            self.logger.warning("tags=true ignored: bookmark tags are visible only for the logged-in user's bookmarks")
            self.with_tags = False
        kind = self.args["type"]
        restricts = api.RESTRICTS if self.args["restrict"] == "all" else (self.args["restrict"],)
        for restrict in restricts:
            params = {"user_id": user_id, "restrict": restrict, "tag": self.args["tag"]}
            yield self.api_request(
                api.USER_BOOKMARKS[kind], params, self.parse_bookmarks, user_id=user_id, restrict=restrict
            )

    @listing(incremental=True, why="bookmarks newest first, in the order they were made: a page holding a "
                                   "bookmark recorded before reaches what earlier runs read")
    async def parse_bookmarks(self, response: TextResponse, user_id: int, restrict: str) -> AsyncIterator[Any]:
        data = response.json()
        kind = self.args["type"]
        works = self.listed(response, data, f"{kind}s", kind)
        items = self._page_items(kind, works, user_id, restrict)
        async for out in self.listing_page(response, data, kind, works, items, user_id=user_id, restrict=restrict):
            yield out

    async def seen_before(self, kind: str, works: list[dict[str, Any]], cb_kwargs: dict[str, Any]) -> bool:
        """In incremental mode: whether this page holds a bookmark an earlier run recorded (same
        restrict; with tags=true, with its tags). Bookmarks come newest first, so the bookmarks
        after a recorded one are older and were read then; the new ones above it are on this page.
        A page of only new bookmarks, even of works archived long ago, goes on to the next page."""
        if not self.incremental or not works or self.archive is None:
            return False
        await self.all_archived(kind, works)  # which works need no detail (ugoira metadata, text) again
        ids = [w["id"] for w in works if isinstance(w.get("id"), int)]
        recorded = await self.archive.recorded_bookmarks(
            cb_kwargs["user_id"], kind, cb_kwargs["restrict"], ids, with_tags=self.with_tags
        )
        return bool(recorded)

    def _page_items(
        self, kind: str, works: list[dict[str, Any]], user_id: int, restrict: str
    ) -> Iterator[ApiObject | scrapy.Request]:
        yield from self.illust_objects(works) if kind == "illust" else self.novel_objects(works)
        for work in works:
            relation = {"user_id": user_id, "work_kind": kind, "work_id": work.get("id"), "restrict": restrict}
            # A deleted work's bookmark detail is a 404: its tags cannot be had.
            if not self.with_tags or illust_status(work)[0] is WorkStatus.DELETED:
                yield ApiObject("bookmark", relation)
                continue
            yield self.detail_request(
                api.ILLUST_BOOKMARK_DETAIL if kind == "illust" else api.NOVEL_BOOKMARK_DETAIL,
                {f"{kind}_id": work.get("id")},
                self.parse_bookmark_detail,
                relation=relation,
            )

    def parse_bookmark_detail(self, response: TextResponse, relation: dict[str, Any]) -> Iterator[ApiObject]:
        if is_deleted(response):
            # The bookmark of a deleted work still exists; only its tags are unknown.
            yield ApiObject("bookmark", relation)
            return
        detail = response.json().get("bookmark_detail") or {}
        tags = [t["name"] for t in detail.get("tags") or [] if t.get("is_registered")]
        yield ApiObject("bookmark", {**relation, "tags": tags})
