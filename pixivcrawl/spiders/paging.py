"""Paging: following a listing's ``next_url``, ``pages=N``, the loop guard and the progress counts."""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import scrapy
from w3lib.url import canonicalize_url

from pixivcrawl.escape import printable
from pixivcrawl.hosts import Destination, HostPolicy

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

#: Meta keys of a listing request that its next page keeps (``pixiv_listing``: the first page's URL).
LISTING_META_KEYS = ("pixiv_page", "pixiv_listing", "handle_httpstatus_list")


def listing_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The meta a listing's next page inherits: not Scrapy's per-download keys, nor
    the middlewares' per-request retry counters, only what the listing itself set."""
    return {k: meta[k] for k in LISTING_META_KEYS if k in meta}


def page_key(url: str) -> int:
    """What the loop guard remembers of a page it went through: the hash of its canonical URL.

    A listing keeps every page's key until it ends, and a long crawl runs its listings side
    by side (30 dates of a ranking: 10,000 pages at once); an int is about a fifth of the
    URL's text. A collision (two of a listing's pages with one 64-bit hash, keyed per
    process) would stop the listing with the loop warning: about 1 in 10^11 for 10,000 pages.
    """
    return hash(canonicalize_url(url))


class Paging:
    """A listing continues with :meth:`next_page`, which follows Pixiv's absolute ``next_url``
    verbatim and honours ``pages=N``.

    A ``next_url`` is followed only on the API origin (the host policy), and a
    listing stops with a WARNING when it repeats a ``next_url`` or passes
    PIXIV_MAX_PAGES pages (the loop guard against a server that never ends one).
    """

    # Set by PixivSpider (from the arguments, settings and crawler).
    crawler: Crawler
    settings: BaseSettings
    logger: logging.LoggerAdapter[logging.Logger]
    _hosts: HostPolicy | None = None
    max_pages: int | None
    max_listing_pages: int
    listings_planned: int | None
    pages_not_needed: int
    listing_urls: dict[str, set[int]]

    @property
    def hosts(self) -> HostPolicy:
        # Built on first use: the sandbox add-on sets the API and image hosts after the spider is created.
        if self._hosts is None:
            self._hosts = HostPolicy.from_settings(self.settings)
        return self._hosts

    def next_page(
        self, response: Response, data: dict[str, Any], **cb_kwargs: Any
    ) -> Iterator[scrapy.Request]:
        """The request for ``next_url``, unless the listing ended or ``pages`` is reached."""
        next_url = data.get("next_url")
        request = self.page_request(response, next_url, **cb_kwargs) if next_url else None
        self.page_done(response, more=request is not None)
        if request is not None:
            yield request

    def page_done(self, response: Response, *, more: bool) -> None:
        """Count one listing page for the progress line (``pixivcrawl/pages/done`` and ``/total``);
        the last page of a listing also drops the pages the loop guard kept for it."""
        stats = self.crawler.stats
        stats.inc_value("pixivcrawl/pages/done")
        page = response.meta.get("pixiv_page", 1)
        if not more:
            # A listing that ended needs no loop guard: a long crawl of many listings keeps
            # only the pages of those still going, not every page it went through.
            self.listing_urls.pop(str(response.meta.get("pixiv_listing") or response.url), None)
        if not more and self.max_pages is not None and page < self.max_pages:
            self.pages_not_needed += self.max_pages - page
        total = self.pages_total()
        if total is not None:
            stats.set_value("pixivcrawl/pages/total", total)

    def pages_total(self) -> int | None:
        """Listing pages this crawl will fetch, when known: ``pages=N`` for each planned listing,
        less what listings that ended sooner did not need. Spiders that know more override it."""
        if self.max_pages is None or self.listings_planned is None:
            return None
        return self.listings_planned * self.max_pages - self.pages_not_needed

    def page_request(
        self, response: Response, url: str, **cb_kwargs: Any
    ) -> scrapy.Request | None:
        """The request for the next page of a listing at ``url``; None once ``pages`` is
        reached, or when the loop guard or the host policy stops the listing."""
        page = response.meta.get("pixiv_page", 1)
        if self.max_pages is not None and page >= self.max_pages:
            return None
        # A next_url that is not a string (hostile JSON) is refused below like any bad URL.
        # Joined to the page's URL, not with ``response.urljoin``: on a text response that looks
        # for an HTML <base> in the body, decoding the whole page into a text the response then
        # keeps while its items are processed (~4 MB in flight on a fast crawl).
        url = urllib.parse.urljoin(response.url, url) if isinstance(url, str) else repr(url)
        listing = str(response.meta.get("pixiv_listing") or response.url)
        if not self.next_url_allowed(response, url, page, listing):
            return None
        return response.request.replace(  # type: ignore[union-attr]
            url=url,
            cb_kwargs=cb_kwargs,
            meta={**listing_meta(response.meta), "pixiv_page": page + 1, "pixiv_listing": listing},
        )

    def next_url_allowed(self, response: Response, url: str, page: int, listing: str) -> bool:
        """Whether a listing may go on to ``url``: on the API origin, not seen before in
        this listing, and within PIXIV_MAX_PAGES. Otherwise a WARNING says why it stops."""
        verdict = self.hosts.classify(url)
        stop = None
        if verdict.destination is not Destination.API:
            where = verdict.detail or "an image host"
            stop, key = f"its next_url {printable(url)} is not on the API origin ({where})", "refused_next_url"
        else:
            seen = self.listing_urls.setdefault(listing, set())
            seen.add(page_key(response.url))
            canonical = page_key(url)
            if canonical in seen:
                stop, key = f"its next_url {printable(url)} repeats a page it already went through", "loop"
            elif page >= self.max_listing_pages:
                stop, key = f"it passed PIXIV_MAX_PAGES={self.max_listing_pages} pages", "max_pages"
            else:
                seen.add(canonical)
        if stop is None:
            return True
        self.crawler.stats.inc_value(f"pixivcrawl/paging/{key}")
        self.logger.warning("Listing %s stops at page %s: %s", printable(listing), page, stop)
        return False
