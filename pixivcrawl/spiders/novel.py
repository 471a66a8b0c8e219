"""Novels by id: detail, full text from the webview page, and optionally their comments."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from pixivcrawl import api
from pixivcrawl.spiders.base import Arg, PixivSpider, is_deleted, parse_bool, parse_ids

if TYPE_CHECKING:
    import scrapy
    from scrapy.http import TextResponse

    from pixivcrawl.items import ApiObject


class NovelSpider(PixivSpider):
    """Archive novels by ``novel_id`` (comma list): metadata, full text and, with ``comments=true``, comments."""

    name = "novel"
    arguments = {
        "novel_id": Arg("novel ids, comma-separated", parse=parse_ids, expects="novel ids like 123,456", required=True),
        "comments": Arg(
            "true to archive each novel's comments and their replies",
            default=False,
            parse=parse_bool,
            expects="true or false",
        ),
    }

    def start_listings(self) -> Iterable[scrapy.Request]:
        for novel_id in self.args["novel_id"]:
            yield self.detail_request(api.NOVEL_DETAIL, {"novel_id": novel_id}, self.parse_detail, novel_id=novel_id)

    def parse_detail(self, response: TextResponse, novel_id: int) -> Iterator[ApiObject | scrapy.Request]:
        if is_deleted(response):
            yield self.deleted_work("novel", novel_id)
            return
        novel = response.json().get("novel") or {}
        yield from self.novel_objects([novel])
        if self.args["comments"] and novel.get("total_comments") != 0:
            yield from self.comment_requests("novel", novel_id)
