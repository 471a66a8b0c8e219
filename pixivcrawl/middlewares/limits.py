"""Downloader middleware: a size cap on every response body, by download slot."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import DownloadCancelledError, IgnoreRequest

from pixivcrawl import api

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


class ResponseTooLarge(IgnoreRequest):
    """A body over its slot's cap: dropped, never retried (a second try would be as large)."""


class SizeLimitMiddleware:
    """Caps response bodies per download slot, with Scrapy's ``download_maxsize``.

    API and OAuth answers get ``PIXIV_API_MAXSIZE`` bytes, files (image slot)
    ``PIXIV_FILE_MAXSIZE``; anything else keeps Scrapy's ``DOWNLOAD_MAXSIZE``.
    Scrapy stops reading a body as soon as it passes the cap (or at once when
    Content-Length says it will), so at most a cap's worth is ever held. Such a
    request ends as :class:`ResponseTooLarge` (an IgnoreRequest: not retried),
    counted under ``pixivcrawl/too_large/<slot>``. Sits after the auth
    middleware, which puts each request in its slot.
    """

    def __init__(self, limits: dict[str, int], stats: StatsCollector) -> None:
        self.limits = {slot: size for slot, size in limits.items() if size > 0}
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        api_limit = s.getint("PIXIV_API_MAXSIZE")
        limits = {api.API_SLOT: api_limit, api.AUTH_SLOT: api_limit, api.IMAGE_SLOT: s.getint("PIXIV_FILE_MAXSIZE")}
        assert crawler.stats is not None
        return cls(limits, crawler.stats)

    def process_request(self, request: Request) -> None:
        limit = self.limits.get(request.meta.get("download_slot", ""))
        if limit is not None:
            request.meta.setdefault("download_maxsize", limit)

    def process_exception(self, request: Request, exception: BaseException) -> Any:
        if not isinstance(exception, DownloadCancelledError) or "download_maxsize" not in request.meta:
            return None
        slot = request.meta.get("download_slot", "other")
        self.stats.inc_value(f"pixivcrawl/too_large/{slot}")
        raise ResponseTooLarge(f"{request.url}: larger than {request.meta['download_maxsize']} bytes "
                               f"(the {slot} cap); not retried")
