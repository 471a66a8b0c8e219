"""The downloader: Scrapy's, with each download slot held to its concurrency.

Scrapy 2.19 starts a download as an asyncio task and marks its request as
transferring only once the task runs, on the loop's next turn. A slot handed a
burst of requests at once (a page's worth of originals from the media pipeline)
therefore sent all of them together: 166 image requests in flight with
``DOWNLOAD_SLOTS["pixiv-images"]["concurrency"] = 16``, most on a connection of
their own, since the connection pool keeps only that many per host. Here a
request takes its place in the slot the moment it leaves the slot's queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.core.downloader import Downloader

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from scrapy import Request
    from scrapy.core.downloader import Slot
    from scrapy.http import Response
    from twisted.internet.defer import Deferred


class PixivDownloader(Downloader):
    """Scrapy's downloader, with no more transfers per slot than its ``concurrency``."""

    def _wait_for_download(
        self, slot: Slot, request: Request, queue_dfd: Deferred[Response]
    ) -> Coroutine[Any, Any, None]:
        # Called as the request leaves the queue; the coroutine (whose _download adds the request
        # again and removes it when done) starts later, after the queue loop has counted free places.
        slot.transferring.add(request)
        return super()._wait_for_download(slot, request, queue_dfd)
