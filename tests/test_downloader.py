"""What reaches the downloader: no more API calls than the API slot sends at once (the rest wait in the
scheduler), sent as the app sends them."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from pixivcrawl import api
from pixivcrawl.spiders.ranking import RankingSpider
from tests.crawl import Archive, crawl_values


@deferred_f_from_coro_f
async def test_api_calls_wait_in_the_scheduler_not_the_downloader(make_sandbox, archive: Archive) -> None:
    # Twelve listings side by side, each always with its next page ready: with CONCURRENT_REQUESTS (16)
    # as the only bound the engine handed the downloader every one of them, and their answers then
    # arrived together and stayed in memory with their items while the store caught up.
    sandbox = make_sandbox(ranking_size=60, latency_api=20)
    slots = {"pixiv-api": {"concurrency": 2, "delay": 0}, "pixiv-images": {"concurrency": 4, "delay": 0}}
    crawler = get_crawler(RankingSpider, crawl_values(sandbox, archive, DOWNLOAD_SLOTS=slots))
    held: set[Any] = set()
    most = 0

    def reached(request: Any, spider: Any) -> None:
        nonlocal most
        if request.meta.get("download_slot") == api.API_SLOT:
            held.add(request)
            most = max(most, len(held))

    def left(request: Any, spider: Any) -> None:
        held.discard(request)

    crawler.signals.connect(reached, signal=signals.request_reached_downloader)
    crawler.signals.connect(left, signal=signals.request_left_downloader)
    await crawler.crawl_async(date="2026-10-19..2026-10-30")

    assert archive.query("SELECT count(DISTINCT date), count(*) FROM rankings") == [(12, 720)]
    assert crawler.stats.get_value("finish_reason") == "finished"
    assert 2 <= most <= 4  # the slot's 2 in transfer and as many waiting


@deferred_f_from_coro_f
async def test_api_calls_carry_no_referer_and_images_carry_pixivs(make_sandbox, archive: Archive, caplog) -> None:
    # Scrapy's RefererMiddleware is off: it gave every next page the previous API URL as its Referer,
    # which the app never sends; the image CDN's Referer comes from the auth middleware. Its absence
    # is no warning: Scrapy's redirect middleware warned about it on every crawl.
    sandbox = make_sandbox(ranking_size=45)
    crawler = get_crawler(RankingSpider, crawl_values(sandbox, archive))
    referers: dict[str, set[bytes | None]] = {api.API_SLOT: set(), api.IMAGE_SLOT: set()}

    def received(response: Any, request: Any, spider: Any) -> None:
        slot = request.meta.get("download_slot")
        if slot in referers:
            referers[slot].add(request.headers.get("Referer"))

    crawler.signals.connect(received, signal=signals.response_received)
    await crawler.crawl_async(date="2026-10-30")

    assert archive.count("rankings") == 45
    assert referers[api.API_SLOT] == {None}
    assert referers[api.IMAGE_SLOT] == {api.IMAGE_REFERER.encode()}
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
