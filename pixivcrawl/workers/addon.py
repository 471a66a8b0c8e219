"""The workers add-on: ``PIXIV_REDIS_URL`` puts the crawl on scrapy-redis and the shared account budget."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from scrapy.exceptions import NotConfigured

from pixivcrawl.addons import _override
from pixivcrawl.workers.keys import REDIS_PARAMS, redis_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings

#: The files pipelines and the claiming ones that replace them on workers.
CLAIMED_PIPELINES = {
    "pixivcrawl.pipelines.media.PixivFilesPipeline": "pixivcrawl.workers.files.ClaimedFilesPipeline",
    "pixivcrawl.pipelines.ugoira.UgoiraPipeline": "pixivcrawl.workers.files.ClaimedUgoiraPipeline",
}


class WorkersAddon:
    """With PIXIV_REDIS_URL set: scrapy-redis's scheduler and duplicate filter
    (persisted), the shared API pace, the worker start tracker and file claims.
    Without it, nothing changes."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not redis_url(crawler.settings):
            raise NotConfigured
        return cls()

    def update_settings(self, settings: Settings) -> None:
        url = redis_url(settings)
        _override(settings, "SCHEDULER", "pixivcrawl.workers.scheduler.WorkerScheduler")
        _override(settings, "DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter")
        _override(settings, "SCHEDULER_QUEUE_CLASS", "scrapy_redis.queue.PriorityQueue")
        _override(settings, "SCHEDULER_PERSIST", True)
        _override(settings, "REDIS_URL", url)
        _override(settings, "REDIS_PARAMS", REDIS_PARAMS)
        downloader = settings.getdict("DOWNLOADER_MIDDLEWARES")
        # Between the error middleware (555, local pause) and the auth middleware (560).
        downloader["pixivcrawl.workers.pace.SharedApiPace"] = 558
        _override(settings, "DOWNLOADER_MIDDLEWARES", downloader)
        spider = settings.getdict("SPIDER_MIDDLEWARES")
        spider["pixivcrawl.workers.scheduler.StartTracker"] = 0
        _override(settings, "SPIDER_MIDDLEWARES", spider)
        pipelines = {CLAIMED_PIPELINES.get(k, k): v for k, v in settings.getdict("ITEM_PIPELINES").items()}
        _override(settings, "ITEM_PIPELINES", pipelines)
