"""The incremental rule (PIXIV_INCREMENTAL): each listing declares whether it stops early, and
:meth:`IncrementalListings.listing_page` applies the rule to every listing that does."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pixivcrawl.models import WorkStatus
from pixivcrawl.parsing import illust_status
from pixivcrawl.spiders.paging import Paging

if TYPE_CHECKING:
    from scrapy.http import Response

    from pixivcrawl.db.archive import Archive

@dataclass(frozen=True, slots=True)
class Incremental:
    """Whether a listing honours PIXIV_INCREMENTAL (stops at its first page whose works are all
    archived), and why: only a listing in time order of works, newest first, can."""

    stops_early: bool
    why: str
    #: For a listing whose order depends on the spider's arguments: whether this crawl's does.
    when: Callable[[Any], bool] | None = None

    def applies(self, spider: Any) -> bool:
        return self.stops_early and (self.when is None or self.when(spider))


Callback = TypeVar("Callback", bound=Callable[..., Any])


def listing(
    *, incremental: bool, why: str, when: Callable[[Any], bool] | None = None
) -> Callable[[Callback], Callback]:
    """Declare a listing callback incremental or not, with the reason (the README lists them);
    ``when(spider)`` narrows an incremental listing to the crawls whose arguments keep it newest first."""

    def declare(callback: Callback) -> Callback:
        callback.pixiv_incremental = Incremental(incremental, why, when)  # type: ignore[attr-defined]
        return callback

    return declare


def declared_incremental(callback: Any) -> Incremental | None:
    """The declaration of a listing callback (a bound method too), None if it made none."""
    return getattr(callback, "pixiv_incremental", None)


class IncrementalListings(Paging):
    """Listings of works that stop, in incremental mode, at the first page already archived."""

    incremental: bool
    archive: Archive | None
    archived_illusts: set[int]
    archived_novels: set[int]

    async def listing_page(
        self,
        response: Response,
        data: dict[str, Any],
        kind: str,
        works: list[dict[str, Any]],
        items: Iterable[Any],
        /,
        **cb_kwargs: Any,
    ) -> AsyncIterator[Any]:
        """One page of a listing of ``kind`` works: its ``items``, then the next page.

        The incremental rule, for every listing: in incremental mode a listing whose
        callback is declared incremental (:func:`listing`) stops at this page when
        every work on it is archived already; the page's own items are still emitted,
        so new relations (bookmarks, ranks) on it are recorded.
        """
        declared = declared_incremental(response.request.callback) if response.request is not None else None
        # Checked before the items go out, or the store could answer with this page's own rows.
        seen_all = declared is not None and declared.applies(self) and await self.seen_before(kind, works, cb_kwargs)
        for item in items:
            yield item
        if seen_all:
            self.logger.info(
                "Incremental: page %s of %s holds only archived works; the listing stops here",
                response.meta.get("pixiv_page", 1), response.url,
            )
            self.crawler.stats.inc_value("pixivcrawl/incremental/listings_stopped")
            self.page_done(response, more=False)
            return
        for request in self.next_page(response, data, **cb_kwargs):
            yield request

    async def seen_before(self, kind: str, works: list[dict[str, Any]], cb_kwargs: dict[str, Any]) -> bool:
        """Whether this page of an incremental listing reaches what earlier runs read, so the pages
        after it hold nothing new: by default, every work on it is archived (:meth:`all_archived`).
        A listing of relations (bookmarks) answers for its relations instead, from the page's
        ``cb_kwargs`` (whose, which restrict)."""
        return await self.all_archived(kind, works)

    async def all_archived(self, kind: str, works: list[dict[str, Any]]) -> bool:
        """In incremental mode: whether every work of a non-empty page is archived already.

        Hidden and deleted works in a listing are placeholders with nothing to
        archive but their status, so only the listing's available works count.
        """
        if not self.incremental or not works or self.archive is None:
            return False
        available: list[Any] = [w.get("id") for w in works if self._listed_available(kind, w)]
        if not available:
            return True
        archived = await self.archive.archived_ids(kind, available)
        (self.archived_illusts if kind == "illust" else self.archived_novels).update(archived)
        return len(archived) == len(set(available))

    @staticmethod
    def _listed_available(kind: str, work: dict[str, Any]) -> bool:
        if kind == "illust":
            return illust_status(work)[0] is WorkStatus.AVAILABLE
        return work.get("visible", True) is not False and bool((work.get("user") or {}).get("id"))
