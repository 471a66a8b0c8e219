"""The downloader: Scrapy's, with each download slot held to its concurrency.

Scrapy 2.19 starts a download as an asyncio task and marks its request as
transferring only once the task runs, on the loop's next turn. A slot handed a
burst of requests at once (a page's worth of originals from the media pipeline)
therefore sent all of them together: 166 image requests in flight with
``DOWNLOAD_SLOTS["pixiv-images"]["concurrency"] = 16``, most on a connection of
their own, since the connection pool keeps only that many per host. Here a
request takes its place in the slot the moment it leaves the slot's queue.

The engine takes no more requests from the scheduler while CONCURRENT_REQUESTS
are in the downloader, files included. A page's files, handed over together,
then held the next listing page back until they were nearly all fetched, and
the image slot sat idle while that page was requested and parsed (a quarter of
the time with 16 image transfers and 50 ms API latency). Here files are not
counted against CONCURRENT_REQUESTS; instead the scheduler waits while
PIXIV_FILES_AHEAD files are queued for the image slot, so listing pages stay
about a page ahead of the files, and no further (their items wait in memory).

Other requests (API calls) count against twice the API slot's concurrency: as many as
it sends at once, and as many waiting. With CONCURRENT_REQUESTS as their only bound, a
crawl of many listings side by side (a ranking of 30 dates) put 16 calls in the
downloader; when the store was behind, their answers arrived together and each page
stayed in memory with its items until stored. Beyond that, requests wait in the
scheduler, which JOBDIR saves and workers share.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.core.downloader import Downloader

from pixivcrawl import api

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from scrapy import Request
    from scrapy.core.downloader import Slot
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.internet.defer import Deferred


class PixivDownloader(Downloader):
    """Scrapy's downloader, with no more transfers per slot than its ``concurrency``, files being
    transferred left out of CONCURRENT_REQUESTS, and no more other requests than twice the API
    slot's concurrency."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.files_ahead = crawler.settings.getint("PIXIV_FILES_AHEAD")
        # The API slot's, as Scrapy will make it (before its first request, the slot does not exist).
        self.api_concurrency: int = max(1, int(self.per_slot_settings.get(api.API_SLOT, {}).get(
            "concurrency", self.ip_concurrency or self.domain_concurrency)))
        if not hasattr(Downloader, "_wait_for_download"):
            # The hook below is Scrapy's (2.19) internal; another Scrapy may start downloads otherwise.
            logger.warning("This Scrapy (%s) has no Downloader._wait_for_download: a download slot may run "
                           "more transfers than its concurrency", scrapy.__version__)

    def needs_backout(self) -> bool:
        images = self.slots.get(api.IMAGE_SLOT)
        others = len(self.active) - (len(images.active) if images is not None else 0)
        calls = self.slots.get(api.API_SLOT)
        if others >= 2 * (calls.concurrency if calls is not None else self.api_concurrency):
            # API calls: as many waiting as the slot sends at once. More would only wait here instead
            # of in the scheduler (which JOBDIR saves), and when the store is behind their answers
            # land together, each page held with its items until stored (a ranking of 30 dates kept
            # ~20 pages in the scraper, against 3 for 3 dates).
            return True
        if images is None:
            return super().needs_backout()
        if self.files_ahead and len(images.queue) >= self.files_ahead:
            return True
        return 0 < self.total_concurrency <= others

    def _wait_for_download(
        self, slot: Slot, request: Request, queue_dfd: Deferred[Response]
    ) -> Coroutine[Any, Any, None]:
        # Called as the request leaves the queue; the coroutine (whose _download adds the request
        # again and removes it when done) starts later, after the queue loop has counted free places.
        slot.transferring.add(request)
        return super()._wait_for_download(slot, request, queue_dfd)
