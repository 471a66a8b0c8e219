"""Rankings: the illusts or novels of a ranking and their rank, for one date or a range."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from pixivcrawl import api
from pixivcrawl.exceptions import ArgumentError
from pixivcrawl.items import ApiObject
from pixivcrawl.spiders.base import Arg, PixivSpider, listing, parse_dates, yesterday_in_japan

if TYPE_CHECKING:
    import datetime as dt

    import scrapy
    from scrapy.http import TextResponse

MODES = {"illust": api.RANKING_MODES, "novel": api.NOVEL_RANKING_MODES}
PATHS = {"illust": api.ILLUST_RANKING, "novel": api.NOVEL_RANKING}


class RankingSpider(PixivSpider):
    """Archive a ranking (``type`` illust or novel, ``mode``) for a date or a ``START..END`` range, with each work's rank."""

    name = "ranking"
    arguments = {
        "type": Arg("illust or novel ranking", choices=tuple(MODES), default="illust"),
        "mode": Arg("ranking to archive", choices=tuple(dict.fromkeys(api.RANKING_MODES + api.NOVEL_RANKING_MODES)),
                    default="day"),
        "date": Arg(
            "YYYY-MM-DD or START..END (default: yesterday in Japan)",
            parse=parse_dates,
            expects="a date YYYY-MM-DD or a range START..END",
        ),
    }

    @classmethod
    def parse_arguments(cls, kwargs: dict[str, Any]) -> dict[str, Any]:
        args = super().parse_arguments(kwargs)
        modes = MODES[args["type"]]
        if args["mode"] not in modes:
            raise ArgumentError(
                f"spider {cls.name}: bad mode={args['mode']!r} for type={args['type']}; "
                f"expected one of: {', '.join(modes)}"
            )
        return args

    def start_listings(self) -> Iterable[scrapy.Request]:
        kind = self.args["type"]
        dates = self.args["date"] or [yesterday_in_japan()]
        self.listings_planned = len(dates)
        for date in dates:
            params = {"mode": self.args["mode"], "date": date.isoformat()}
            yield self.api_request(PATHS[kind], params, self.parse_ranking, date=date, first_rank=1)

    @listing(
        incremental=False,
        why="ranks are what a ranking archives: its works may be archived by other crawls (another mode, "
        "an artist) while its ranks are not, so a ranking is read whole (at most ~17 pages)",
    )
    async def parse_ranking(self, response: TextResponse, date: dt.date, first_rank: int) -> AsyncIterator[Any]:
        kind = self.args["type"]
        data = response.json()
        ranked, count = self.positioned(response, data, f"{kind}s", kind, first_rank)
        works = [work for _, work in ranked]
        items = self._ranked_items(kind, date, ranked, works)
        next_rank = first_rank + count
        async for out in self.listing_page(response, data, kind, works, items, date=date, first_rank=next_rank):
            yield out

    def _ranked_items(
        self, kind: str, date: dt.date, ranked: list[tuple[int, dict[str, Any]]], works: list[dict[str, Any]]
    ) -> Iterator[ApiObject | scrapy.Request]:
        yield from self.illust_objects(works) if kind == "illust" else self.novel_objects(works)
        # The API has no rank field: the rank is the position in the list.
        for rank, work in ranked:
            entry = {"kind": kind, "mode": self.args["mode"], "date": date, "rank": rank, "work_id": work.get("id")}
            yield ApiObject("ranking_entry", entry)
