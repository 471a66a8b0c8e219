"""Search: the illusts, novels or users matching a word, past the API's 5000-offset cap."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from pixivcrawl import api
from pixivcrawl.exceptions import ArgumentError
from pixivcrawl.items import ApiObject
from pixivcrawl.spiders.base import JST, Arg, PixivSpider, listing, parse_date

if TYPE_CHECKING:
    import scrapy
    from scrapy.http import TextResponse

DAY = dt.timedelta(days=1)
Window = tuple[dt.date | None, dt.date | None]


def next_offset(next_url: str) -> int:
    return int(parse_qs(urlsplit(next_url).query).get("offset", ["0"])[0])


def work_day(work: dict[str, Any]) -> dt.date:
    """The Japanese calendar day of a work, the day ``start_date``/``end_date`` are counted in."""
    return dt.datetime.fromisoformat(work["create_date"]).astimezone(JST).date()


def narrowed(window: Window, day: dt.date, ascending: bool) -> Window | None:
    """The date window that continues a search whose last work is of ``day``; None if none narrower exists.

    The new window overlaps ``day`` by one more day (gallery-dl's boundary-day gaps),
    unless that would not narrow it; works seen twice are skipped by id.
    """
    start, end = window
    if ascending:
        new_start = day - DAY
        if start is not None and new_start <= start:
            new_start = day
            if new_start <= start:
                return None
        return new_start, end
    new_end = day + DAY
    if end is not None and new_end >= end:
        new_end = day
        if new_end >= end:
            return None
    return start, new_end


class SearchSpider(PixivSpider):
    """Archive every illust, novel or user matching ``word``, narrowing the date window past 5000 results."""

    name = "search"
    arguments = {
        "word": Arg("search words (space-separated, all must match)", required=True, expects="a search word"),
        "type": Arg("what to search", choices=("illust", "novel", "user"), default="illust"),
        "search_target": Arg("where the word must match", choices=api.SEARCH_TARGETS, default="partial_match_for_tags"),
        "sort": Arg("order of the results", choices=api.SEARCH_SORTS, default="date_desc"),
        "duration": Arg("only works of the last day, week or month", choices=api.SEARCH_DURATIONS),
        "start_date": Arg("only works from this day (YYYY-MM-DD)", parse=parse_date, expects="a date YYYY-MM-DD"),
        "end_date": Arg("only works up to this day (YYYY-MM-DD)", parse=parse_date, expects="a date YYYY-MM-DD"),
        "search_ai_type": Arg("0, 1 or 2, passed on as given (sources disagree on 0 and 1; 2 = AI works only)",
                              choices=api.SEARCH_AI_TYPES),
    }

    @classmethod
    def parse_arguments(cls, kwargs: dict[str, Any]) -> dict[str, Any]:
        args = super().parse_arguments(kwargs)
        if args["start_date"] and args["end_date"] and args["start_date"] > args["end_date"]:
            raise ArgumentError(
                f"spider {cls.name}: bad start_date={args['start_date']}; expected a day on or before end_date"
            )
        if args["search_target"] == "text" and args["type"] != "novel":
            raise ArgumentError(f"spider {cls.name}: bad search_target='text'; expected it with type=novel only")
        return args

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Ids served so far: narrowed windows overlap, and each work is archived once.
        self.seen: set[Any] = set()  # ids as listed (hostile JSON may list a None)

    def search_url(self, window: Window) -> str:
        a = self.args
        params: dict[str, Any] = {"word": a["word"], "sort": a["sort"], "duration": a["duration"],
                                  "search_ai_type": a["search_ai_type"]}
        if a["type"] != "user":
            start, end = window
            params.update(search_target=a["search_target"], start_date=start and start.isoformat(),
                          end_date=end and end.isoformat())
        return api.SEARCH[a["type"]].url(self.api_url, params, self.filter)

    def start_listings(self) -> Iterable[scrapy.Request]:
        window = (self.args["start_date"], self.args["end_date"])
        request = self.api_request(api.SEARCH[self.args["type"]], {}, self.parse_search, window=window)
        yield request.replace(url=self.search_url(window))

    @listing(
        incremental=True,
        why="results newest first with sort=date_desc (the default); date_asc and popular_desc are read whole",
        when=lambda spider: spider.args["sort"] == "date_desc",
    )
    async def parse_search(self, response: TextResponse, window: Window) -> AsyncIterator[Any]:
        data = response.json()
        kind = self.args["type"]
        if kind == "user":
            for out in self.parse_users(response, data, window):
                yield out
            return
        works = self.listed(response, data, f"{kind}s", kind)
        fresh = [w for w in works if w.get("id") not in self.seen]
        self.seen.update(w.get("id") for w in works)
        self.crawler.stats.inc_value("pixivcrawl/search/duplicates_skipped", len(works) - len(fresh))
        items = self.illust_objects(fresh) if kind == "illust" else self.novel_objects(fresh)
        next_url = data.get("next_url")
        if next_url and next_offset(next_url) > api.OFFSET_CAP:
            next_url, window = self.past_the_cap(works, window)
        async for out in self.listing_page(response, {"next_url": next_url}, kind, fresh, items, window=window):
            yield out

    def past_the_cap(self, works: list[dict[str, Any]], window: Window) -> tuple[str | None, Window]:
        """The URL and window that continue a search the next page of which is past the offset cap."""
        if self.args["sort"] == "popular_desc" or not any(w.get("create_date") for w in works):
            self.logger.warning(
                "Search %r: Pixiv serves at most %s results sorted by %s; the rest are not archived",
                self.args["word"], api.OFFSET_CAP, self.args["sort"],
            )
            return None, window
        day = work_day(next(w for w in reversed(works) if w.get("create_date")))
        new = narrowed(window, day, ascending=self.args["sort"] == "date_asc")
        if new is None:
            self.logger.warning(
                "Search %r: more than %s results on %s; the rest of that day is not archived",
                self.args["word"], api.OFFSET_CAP, day,
            )
            return None, window
        self.logger.info(
            "Search %r: offset cap reached at %s; continuing with start_date=%s end_date=%s",
            self.args["word"], day, new[0], new[1],
        )
        self.crawler.stats.inc_value("pixivcrawl/search/windows_narrowed")
        return self.search_url(new), new

    def parse_users(
        self, response: TextResponse, data: dict[str, Any], window: Window
    ) -> Iterator[ApiObject | scrapy.Request]:
        for preview in self.listed(response, data, "user_previews", "user"):
            user_id = (preview.get("user") or {}).get("id")
            if user_id in self.seen:
                continue
            self.seen.add(user_id)
            yield from self.preview_objects(preview)
        next_url = data.get("next_url")
        if next_url and next_offset(next_url) > api.OFFSET_CAP:
            self.logger.warning("Search %r: Pixiv serves at most %s users", self.args["word"], api.OFFSET_CAP)
            return
        yield from self.next_page(response, data, window=window)
