"""Illusts by id: detail, pages, ugoira metadata and optionally comments and series context."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from pixivcrawl import api
from pixivcrawl.items import ApiObject
from pixivcrawl.spiders.base import Arg, PixivSpider, is_deleted, parse_bool, parse_ids

if TYPE_CHECKING:
    import scrapy
    from scrapy.http import TextResponse


class IllustSpider(PixivSpider):
    """Archive illusts by id (a 404 is recorded as deleted), with their comments when ``comments=true``
    and, with ``series=true``, their series, place in it and the previous and next works."""

    name = "illust"
    arguments = {
        "illust_id": Arg("illust id or comma list", parse=parse_ids, expects="illust ids like 123 or 123,456",
                         required=True),
        "comments": Arg("true: also archive the comments", parse=parse_bool, default=False, expects="true or false"),
        "series": Arg("true: also archive the series context (/v1/illust-series/illust) of works in a series",
                      parse=parse_bool, default=False, expects="true or false"),
    }

    def start_listings(self) -> Iterable[scrapy.Request]:
        for illust_id in self.args["illust_id"]:
            params = {"illust_id": illust_id}
            yield self.detail_request(api.ILLUST_DETAIL, params, self.parse_illust, illust_id=illust_id)

    def parse_illust(self, response: TextResponse, illust_id: int) -> Iterator[ApiObject | scrapy.Request]:
        if is_deleted(response):
            yield self.deleted_work("illust", illust_id)
            return
        illust = response.json().get("illust") or {}
        yield from self.illust_objects([illust])
        if self.args["comments"] and illust.get("total_comments") != 0:
            yield from self.comment_requests("illust", illust_id)
        if self.args["series"] and (illust.get("series") or {}).get("id"):
            yield self.detail_request(api.ILLUST_SERIES_CONTEXT, {"illust_id": illust_id}, self.parse_series_context,
                                      illust_id=illust_id)

    def parse_series_context(self, response: TextResponse, illust_id: int) -> Iterator[ApiObject | scrapy.Request]:
        """The series detail, the work's ``content_order`` and its previous and next works."""
        if is_deleted(response):
            error = api.error_of(response.body) or {}
            self.logger.warning("illust %s: no series context (%s)", illust_id, error.get("message"))
            return
        data = response.json()
        detail = data.get("illust_series_detail") or {}
        context = data.get("illust_series_context") or {}
        yield ApiObject("illust_series", detail)
        order = context.get("content_order")
        neighbours: list[tuple[dict[str, Any], int]] = [
            (context[k], d) for k, d in (("prev", -1), ("next", 1)) if context.get(k)
        ]
        yield from self.illust_objects([work for work, _ in neighbours])
        if isinstance(order, int):
            for work_id, position in [(illust_id, order), *((w.get("id"), order + d) for w, d in neighbours)]:
                entry = {"kind": "illust", "series_id": detail.get("id"), "work_id": work_id, "position": position}
                yield ApiObject("series_entry", entry)
