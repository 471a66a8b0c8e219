"""Rankings: the illusts of a ranking and their rank, for one date or a range."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from pixivcrawl import api
from pixivcrawl.items import ApiObject
from pixivcrawl.spiders.base import Arg, PixivSpider, parse_dates, yesterday_in_japan

if TYPE_CHECKING:
    import datetime as dt

    import scrapy
    from scrapy.http import Response


class RankingSpider(PixivSpider):
    """Archive a ranking (``mode``) for a date or a ``START..END`` range, with each work's rank."""

    name = "ranking"
    arguments = {
        "mode": Arg("ranking to archive", choices=api.RANKING_MODES, default="day"),
        "date": Arg(
            "YYYY-MM-DD or START..END (default: yesterday in Japan)",
            parse=parse_dates,
            expects="a date YYYY-MM-DD or a range START..END",
        ),
    }

    def start_listings(self) -> Iterable[scrapy.Request]:
        dates = self.args["date"] or [yesterday_in_japan()]
        self.listings_planned = len(dates)
        for date in dates:
            params = {"mode": self.args["mode"], "filter": api.FILTER, "date": date.isoformat()}
            yield self.api_request(api.ILLUST_RANKING, params, self.parse_ranking, date=date, first_rank=1)

    def parse_ranking(
        self, response: Response, date: dt.date, first_rank: int
    ) -> Iterator[ApiObject | scrapy.Request]:
        data = response.json()
        illusts = data.get("illusts") or []
        yield from self.illust_objects(illusts)
        # The API has no rank field: the rank is the position in the list.
        for rank, illust in enumerate(illusts, start=first_rank):
            entry = {"mode": self.args["mode"], "date": date, "rank": rank, "illust_id": illust.get("id")}
            yield ApiObject("ranking_entry", entry)
        yield from self.next_page(response, data, date=date, first_rank=first_rank + len(illusts))
