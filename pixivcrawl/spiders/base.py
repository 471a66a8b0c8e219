"""The base spider: settings, App API requests, and the parts it is made of.

Each concept has its module: arguments (:mod:`.arguments`), paging and the loop guard
(:mod:`.paging`), the incremental rule (:mod:`.incremental`) and item emission (:mod:`.emit`).
The names spiders import stay importable from here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING, Any, Self

import scrapy

from pixivcrawl import api
from pixivcrawl.spiders.arguments import (
    JST,
    Arg,
    DeclaredArguments,
    parse_bool,
    parse_date,
    parse_dates,
    parse_ids,
    parse_positive_int,
    yesterday_in_japan,
)
from pixivcrawl.spiders.emit import WorkItems
from pixivcrawl.spiders.incremental import Incremental, declared_incremental, listing
from pixivcrawl.spiders.paging import LISTING_META_KEYS, listing_meta

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from pixivcrawl.auth import TokenManager
    from pixivcrawl.db.archive import Archive

__all__ = [
    "JST",
    "LISTING_META_KEYS",
    "Arg",
    "Incremental",
    "PixivSpider",
    "declared_incremental",
    "is_deleted",
    "listing",
    "listing_meta",
    "parse_bool",
    "parse_date",
    "parse_dates",
    "parse_ids",
    "parse_positive_int",
    "yesterday_in_japan",
]


def is_deleted(response: Response) -> bool:
    """A detail page saying the work is gone: HTTP 404 with an App API error body."""
    return response.status == 404 and api.error_of(response.body) is not None


class PixivSpider(DeclaredArguments, WorkItems, scrapy.Spider):  # type: ignore[misc]
    """Base of every pixivcrawl spider.

    Subclasses declare ``arguments`` (name -> :class:`Arg`, :mod:`.arguments`) and build
    requests with :meth:`api_request`; listings continue with :meth:`next_page` (:mod:`.paging`),
    declare whether they stop early with :func:`listing` (:mod:`.incremental`), and emit their
    objects with the helpers of :mod:`.emit`.
    """

    tokens: TokenManager | None = None
    #: How many listings this crawl walks, when the arguments say so up front (progress totals).
    listings_planned: int | None = None
    incremental: bool = False  # PIXIV_INCREMENTAL
    filter: str = ""  # PIXIV_FILTER: the `filter` parameter of the requests that take one
    archive: Archive | None = None  # read access to the archive, in incremental mode
    max_listing_pages: int = 0  # PIXIV_MAX_PAGES

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        self.args = self.parse_arguments(kwargs)
        super().__init__(name)
        self.max_pages: int | None = self.args["pages"]
        # Works listed in this crawl that the archive already had whole (incremental mode only).
        self.archived_illusts: set[int] = set()
        self.archived_novels: set[int] = set()
        # Novels whose text this crawl already asked for: one webview per novel.
        self.novel_texts_requested: set[int] = set()
        # Pages that listings which ended early did not need, out of max_pages each.
        self.pages_not_needed = 0
        # Per listing (its first page's URL): the pages it went through, for the loop guard.
        self.listing_urls: dict[str, set[int]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.incremental = crawler.settings.getbool("PIXIV_INCREMENTAL")
        spider.filter = crawler.settings["PIXIV_FILTER"]
        spider.max_listing_pages = crawler.settings.getint("PIXIV_MAX_PAGES")
        if spider.incremental:
            # Imported here: `scrapy list` and `--help` load every spider, and need no database.
            from pixivcrawl.db.archive import Archive

            spider.archive = Archive.from_crawler(crawler)
        return spider

    @property
    def api_url(self) -> str:
        # Read when requests are built, not in from_crawler: the sandbox add-on
        # sets PIXIV_API_URL after the spider is created.
        return str(self.settings["PIXIV_API_URL"]).rstrip("/")

    async def start(self) -> AsyncIterator[Any]:
        for request in self.start_listings():
            yield request

    def start_listings(self) -> Iterable[scrapy.Request]:
        """The first request of each listing this crawl archives."""
        raise NotImplementedError

    def api_request(
        self,
        endpoint: api.Endpoint,
        params: dict[str, Any],
        callback: Callable[..., Any],
        **cb_kwargs: Any,
    ) -> scrapy.Request:
        """A request to ``endpoint`` with ``params``; the endpoint adds its defaults (``filter``)."""
        return scrapy.Request(
            endpoint.url(self.api_url, params, self.filter),
            callback=callback,
            cb_kwargs=cb_kwargs,
            meta={"pixiv_page": 1},
        )

    def detail_request(
        self,
        endpoint: api.Endpoint,
        params: dict[str, Any],
        callback: Callable[..., Any],
        **cb_kwargs: Any,
    ) -> scrapy.Request:
        """An :meth:`api_request` whose 404 reaches ``callback`` (check it with :func:`is_deleted`)."""
        request = self.api_request(endpoint, params, callback, **cb_kwargs)
        request.meta["handle_httpstatus_list"] = [404]
        return request

    async def account_user_id(self) -> int:
        """The logged-in user's id (logs in if it has not happened yet)."""
        assert self.tokens is not None, "the auth middleware sets spider.tokens"
        await self.tokens.access_token()
        assert self.tokens.account is not None
        return self.tokens.account.user_id
