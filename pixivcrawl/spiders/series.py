"""Series: an illust (manga) or novel series' detail and its works, with each work's position."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from pixivcrawl import api
from pixivcrawl.items import ApiObject
from pixivcrawl.spiders.base import Arg, PixivSpider, is_deleted, listing, parse_ids

if TYPE_CHECKING:
    import scrapy
    from scrapy.http import TextResponse


class SeriesSpider(PixivSpider):
    """Archive series by ``series_id`` and ``type`` (illust or novel): detail, works, and their order."""

    name = "series"
    arguments = {
        "series_id": Arg("series ids, comma-separated", parse=parse_ids, expects="series ids like 123,456",
                         required=True),
        "type": Arg("kind of series", choices=api.SERIES_TYPES, expects="illust or novel", required=True),
    }

    def start_listings(self) -> Iterable[scrapy.Request]:
        for series_id in self.args["series_id"]:
            if self.args["type"] == "illust":
                yield self.detail_request(
                    api.ILLUST_SERIES, {"illust_series_id": series_id},
                    self.parse_illust_series, series_id=series_id, seen=0, work_count=None,
                )
            else:
                yield self.detail_request(
                    api.NOVEL_SERIES, {"series_id": series_id},
                    self.parse_novel_series, series_id=series_id, seen=0,
                )

    @listing(incremental=False, why="a series archives its works' places: works archived by other crawls "
             "(the artist's) say nothing about whether their places in the series are")
    async def parse_illust_series(
        self, response: TextResponse, series_id: int, seen: int, work_count: int | None
    ) -> AsyncIterator[Any]:
        if is_deleted(response):
            self.logger.warning("illust series %s: not found", series_id)
            return
        data = response.json()
        detail = data.get("illust_series_detail") or {}
        if seen == 0:
            work_count = detail.get("series_work_count")
        illusts, count = self.positioned(response, data, "illusts", "illust", seen)
        works = [illust for _, illust in illusts]
        items = self._illust_series_items(series_id, detail if seen == 0 else None, illusts, work_count)
        async for out in self.listing_page(response, data, "illust", works, items,
                                           series_id=series_id, seen=seen + count, work_count=work_count):
            yield out

    def _illust_series_items(
        self, series_id: int, detail: dict[str, Any] | None, illusts: list[tuple[int, dict[str, Any]]],
        work_count: int | None,
    ) -> Iterator[ApiObject | scrapy.Request]:
        if detail is not None:
            yield ApiObject("illust_series", detail)
        yield from self.illust_objects([illust for _, illust in illusts])
        # Pixiv lists an illust series newest first: the position counts back from the total.
        if isinstance(work_count, int):
            for index, illust in illusts:
                yield self._entry("illust", series_id, illust, work_count - index)
        else:
            self.logger.warning("illust series %s: no series_work_count, positions not recorded", series_id)

    @listing(incremental=False, why="a novel series lists its works oldest first: a new part is on the last page")
    def parse_novel_series(
        self, response: TextResponse, series_id: int, seen: int
    ) -> Iterator[ApiObject | scrapy.Request]:
        if is_deleted(response):
            self.logger.warning("novel series %s: not found", series_id)
            return
        data = response.json()
        if seen == 0:
            yield ApiObject("novel_series", data.get("novel_series_detail") or {})
        novels, count = self.positioned(response, data, "novels", "novel", seen + 1)
        yield from self.novel_objects([novel for _, novel in novels])
        for index, novel in novels:
            yield self._entry("novel", series_id, novel, index)
        yield from self.next_page(response, data, series_id=series_id, seen=seen + count)

    @staticmethod
    def _entry(kind: str, series_id: int, work: dict[str, Any], position: int) -> ApiObject:
        entry = {"kind": kind, "series_id": series_id, "work_id": work.get("id"), "position": position}
        return ApiObject("series_entry", entry)
