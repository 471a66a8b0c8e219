"""Item emission: the items (and follow-up requests) of the work, user and comment objects a page lists."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy import signals

from pixivcrawl import api
from pixivcrawl.escape import printable
from pixivcrawl.items import ApiObject
from pixivcrawl.models import WorkStatus
from pixivcrawl.parsing import illust_status
from pixivcrawl.rejects import STATS_KEY as REJECTED
from pixivcrawl.rejects import Reject, RejectedItem
from pixivcrawl.spiders.incremental import IncrementalListings, listing

if TYPE_CHECKING:
    from scrapy.http import Response, TextResponse
    from twisted.python.failure import Failure


class WorkItems(IncrementalListings):
    """The items of listed objects: works (with ugoira metadata and novel texts), user previews,
    comments, and refused elements; ``parse_works`` and ``parse_comments`` are listings of their own."""

    name: str
    novel_texts_requested: set[int]
    api_request: Callable[..., scrapy.Request]

    def deleted_work(self, kind: str, work_id: int) -> ApiObject:
        """The item recording that work ``work_id`` (``kind`` illust or novel) was deleted."""
        return ApiObject(f"{kind}_deleted", {"id": work_id})

    def listed(self, response: Response, data: Any, key: str, kind: str) -> list[dict[str, Any]]:
        """The objects of a listing's ``key`` (``illusts``, ``novels``, ...).

        An element that is not a JSON object costs only itself: it is refused
        (logged, counted under ``pixivcrawl/rejected_items``, recorded in
        ``rejects``) and the rest of the page, its ranks and its next_url stay.
        """
        return [obj for _, obj in self.positioned(response, data, key, kind, 0)[0]]

    def positioned(
        self, response: Response, data: Any, key: str, kind: str, start: int
    ) -> tuple[list[tuple[int, dict[str, Any]]], int]:
        """:meth:`listed`, each object with its position (counted from ``start``; a refused element
        keeps its place, so ranks and positions stay true), and how many elements the page held."""
        value = data.get(key) if isinstance(data, dict) else None
        if not value:
            return [], 0
        elements = value if isinstance(value, list) else [value]
        objects = []
        for position, element in enumerate(elements, start=start):
            if isinstance(element, dict):
                objects.append((position, element))
            else:
                self.refuse(response, kind, element, f"{key}: element is a {type(element).__name__}, not an object")
        return objects, len(elements)

    def refuse(self, response: Response, kind: str, data: Any, error: str) -> None:
        """Refuse an object the spider cannot even hand to validation, as validation refuses one."""
        reject = Reject.of(ApiObject(kind, data, url=response.url), kind=kind, reason="validation",
                           error=error, spider=self.name)
        self.crawler.stats.inc_value(REJECTED)
        self.crawler.stats.inc_value(f"{REJECTED}/validation")
        self.crawler.stats.inc_value(f"pixivcrawl/validation/dropped/{kind}")
        exception = RejectedItem(f"invalid {kind} in {response.url}: {error}", reject)
        self.logger.warning("Dropped: %s (recorded in rejects)", exception)
        self.crawler.signals.send_catch_log(
            signals.item_dropped, item=data, response=response, exception=exception, spider=self
        )

    @listing(incremental=True, why="works in the order Pixiv lists them, newest first")
    async def parse_works(self, response: TextResponse, kind: str = "illust") -> AsyncIterator[Any]:
        """A page of a listing of ``kind`` works (``illusts`` or ``novels``), archived as listed."""
        data = response.json()
        works = self.listed(response, data, f"{kind}s", kind)
        items = self.illust_objects(works) if kind == "illust" else self.novel_objects(works)
        async for out in self.listing_page(response, data, kind, works, items, kind=kind):
            yield out

    def illust_objects(self, illusts: list[dict[str, Any]]) -> Iterator[ApiObject | scrapy.Request]:
        """The items for the illust objects of a listing or detail page.

        An available ugoira first fetches its ``/v1/ugoira/metadata``; the illust
        item follows with the metadata, or without it if that request fails.
        """
        for data in illusts:
            # An archived ugoira keeps its ugoira row: an incremental run does not ask again.
            if (
                data.get("type") == "ugoira"
                and illust_status(data)[0] is WorkStatus.AVAILABLE
                and data.get("id") not in self.archived_illusts
            ):
                request = self.api_request(
                    api.UGOIRA_METADATA, {"illust_id": data["id"]}, self.parse_ugoira, illust=data
                )
                yield request.replace(errback=self.ugoira_failed)
            else:
                yield ApiObject("illust", data)

    def parse_ugoira(self, response: TextResponse, illust: dict[str, Any]) -> Iterator[ApiObject]:
        try:
            metadata = response.json().get("ugoira_metadata")
        except (ValueError, AttributeError):
            metadata = None
        if not metadata:
            self.crawler.stats.inc_value("pixivcrawl/ugoira/metadata_failed")
            self.logger.warning("illust %s: no ugoira metadata in the answer; archived without it",
                                printable(illust.get("id")))
        yield ApiObject("illust", illust, {"ugoira_metadata": metadata} if metadata else {})

    def ugoira_failed(self, failure: Failure) -> Iterator[ApiObject]:
        illust = failure.request.cb_kwargs["illust"]  # type: ignore[attr-defined]
        self.crawler.stats.inc_value("pixivcrawl/ugoira/metadata_failed")
        self.logger.warning("illust %s: no ugoira metadata (%s); archived without it", printable(illust.get("id")),
                            printable(failure.getErrorMessage()))
        yield ApiObject("illust", illust)

    def novel_objects(self, novels: list[dict[str, Any]]) -> Iterator[ApiObject | scrapy.Request]:
        """The items for the novel objects of a listing or detail page, and the request for each one's text.

        Listings carry the whole novel object, so no detail call is needed; the
        text comes from the webview page, once per novel in a crawl, and only for
        novels Pixiv shows (placeholders have no text to read).
        """
        for data in novels:
            yield ApiObject("novel", data)
            novel_id = data.get("id")
            # An archived novel has its text already: an incremental run does not read it again.
            if not isinstance(novel_id, int) or novel_id in self.novel_texts_requested:
                continue
            if novel_id in self.archived_novels:
                continue
            if illust_status(data)[0] is not WorkStatus.AVAILABLE:
                continue
            self.novel_texts_requested.add(novel_id)
            yield self.api_request(api.NOVEL_WEBVIEW, {"id": novel_id}, self.parse_novel_text, novel_id=novel_id)

    def preview_objects(self, preview: dict[str, Any], works: bool = True) -> Iterator[ApiObject | scrapy.Request]:
        """A ``user_previews`` entry: its user (with the entry's ``is_muted``) and, with ``works``,
        its preview works (whole work objects: archived rather than dropped)."""
        user = preview.get("user") or {}
        yield ApiObject("user", {**user, "is_muted": preview.get("is_muted")})
        if works:
            yield from self.illust_objects(preview.get("illusts") or [])
            yield from self.novel_objects(preview.get("novels") or [])

    def parse_novel_text(self, response: TextResponse, novel_id: int) -> Iterator[ApiObject]:
        yield ApiObject("novel_text", {"id": novel_id, "html": response.text})

    def comment_requests(self, kind: str, work_id: int) -> Iterator[scrapy.Request]:
        """The first page of the comments on illust or novel ``work_id``; pages and replies follow."""
        params = {f"{kind}_id": work_id}
        yield self.api_request(
            api.COMMENTS[kind], params, self.parse_comments, kind=kind, work_id=work_id, parent_id=None
        )

    @listing(incremental=False, why="the archive does not answer for comments, and replies arrive under old ones")
    def parse_comments(
        self, response: TextResponse, kind: str, work_id: int, parent_id: int | None
    ) -> Iterator[ApiObject | scrapy.Request]:
        data = response.json()
        context = {"work_kind": kind, "work_id": work_id, "parent_id": parent_id}
        for comment in self.listed(response, data, "comments", "comment"):
            yield ApiObject("comment", comment, context)
            if comment.get("has_replies") and comment.get("id"):
                params = {"comment_id": comment["id"]}
                yield self.api_request(
                    api.COMMENT_REPLIES[kind], params, self.parse_comments,
                    kind=kind, work_id=work_id, parent_id=comment["id"],
                )
        yield from self.next_page(response, data, kind=kind, work_id=work_id, parent_id=parent_id)
