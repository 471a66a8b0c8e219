"""scrapy-redis's scheduler for many workers: requests held until done, taken again if a worker dies.

Released scrapy-redis pops a request from the shared queue and forgets it: a
worker killed with SIGKILL would lose everything it held in memory. Here a pop
moves the request, in one Redis script, from the queue to the worker's own
``held`` set; the worker removes it once the request is done (its response
scraped, its items through the pipelines and the archive's buffered rows
written). Every worker renews an ``alive`` key; a worker whose key expired is
dead, and the first idle worker that sees it puts its held requests back on the
queue. A stopped crawl (Ctrl-C, every worker gone) keeps its queue and
fingerprints in Redis and resumes when the same command runs again.

A worker stops when the whole crawl is done: the queue is empty and no live
worker holds a request or is still making its start requests, for
PIXIV_WORKERS_IDLE_TIMEOUT seconds. The crawl's keys are then deleted, so the
same command later starts a new crawl.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler

from pixivcrawl import api
from pixivcrawl.workers.client import REDIS_DOWN
from pixivcrawl.workers.keys import CrawlKeys, crawl_id, masked, redis_url

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import redis
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Move the first request of the queue to this worker's held set; the request or nil.
POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
redis.call('ZADD', KEYS[2], r[2], r[1])
return r[1]
"""

#: Put the held requests of dead workers (no alive key) back on the queue; how many.
REQUEUE_DEAD = """
local moved = 0
for _, w in ipairs(redis.call('HKEYS', KEYS[2])) do
  if redis.call('EXISTS', ARGV[1] .. ':alive:' .. w) == 0 then
    local held = ARGV[1] .. ':held:' .. w
    local items = redis.call('ZRANGE', held, 0, -1, 'WITHSCORES')
    for i = 1, #items, 2 do
      redis.call('ZADD', KEYS[1], items[i + 1], items[i])
      moved = moved + 1
    end
    redis.call('DEL', held)
    redis.call('HDEL', KEYS[2], w)
  end
end
return moved
"""

#: {queued requests, live workers busy (holding requests or making start requests)}.
STATUS = """
local busy = 0
for _, w in ipairs(redis.call('HKEYS', KEYS[2])) do
  if redis.call('EXISTS', ARGV[1] .. ':alive:' .. w) == 1 then
    if redis.call('HGET', KEYS[2], w) == 'start' or redis.call('ZCARD', ARGV[1] .. ':held:' .. w) > 0 then
      busy = busy + 1
    end
  end
end
return {redis.call('ZCARD', KEYS[1]), busy}
"""


class WorkerScheduler(Scheduler):
    """scrapy-redis's :class:`~scrapy_redis.scheduler.Scheduler` and
    :class:`~scrapy_redis.dupefilter.RFPDupeFilter` under the crawl's keys, with
    held requests, dead-worker recovery and the crawl-wide idle check.

    Settings: PIXIV_REDIS_URL, PIXIV_CRAWL_ID, PIXIV_WORKERS_IDLE_TIMEOUT,
    PIXIV_WORKERS_TIMEOUT, PIXIV_WORKERS_PREFETCH.
    """

    def __init__(self, server: redis.Redis, **kwargs: Any) -> None:
        super().__init__(server, **kwargs)
        self.crawler: Crawler | None = None
        self.url = ""
        self.idle_timeout = 0.0
        self.timeout = 0.0
        self.prefetch = 1
        self.worker = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.keys: CrawlKeys | None = None
        # Requests this worker popped and has not finished, with their queue entry.
        self.held: dict[Request, bytes] = {}
        self.started = False
        self.done_since: float | None = None
        self.redis_lost = False
        self._tick: asyncio.Task[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        try:
            scheduler = super().from_crawler(crawler)
        except REDIS_DOWN as exc:
            raise RuntimeError(f"Redis at {masked(redis_url(s))} is unreachable ({exc})") from None
        scheduler.crawler = crawler
        scheduler.url = redis_url(s)
        scheduler.idle_timeout = s.getfloat("PIXIV_WORKERS_IDLE_TIMEOUT")
        scheduler.timeout = s.getfloat("PIXIV_WORKERS_TIMEOUT")
        scheduler.prefetch = max(1, s.getint("PIXIV_WORKERS_PREFETCH"))
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        return scheduler

    # --- opening and closing ---------------------------------------------------------------
    def open(self, spider: Spider) -> None:
        self.keys = keys = CrawlKeys(crawl_id(spider, spider.settings))
        self.queue_key = keys.requests
        self.df = RFPDupeFilter(self.server, key=keys.dupefilter, debug=spider.settings.getbool("DUPEFILTER_DEBUG"))
        self.spider = spider
        try:
            self._beat()
            self.server.hset(keys.workers, self.worker, "start")
            super().open(spider)
        except REDIS_DOWN as exc:
            raise RuntimeError(f"Redis at {masked(self.url)} is unreachable ({exc})") from None
        logger.info("Worker %s joined crawl %s (Redis %s, keys %s)", self.worker, keys.crawl, masked(self.url), keys.pattern)
        self._tick = asyncio.ensure_future(self._ticking())

    def close(self, reason: str) -> None:
        if self._tick is not None:
            self._tick.cancel()
        if self.redis_lost or self.keys is None:
            return
        keys = self.keys
        try:
            if reason == "finished" and self._crawl_done():
                self._delete_crawl()
                logger.info("Crawl %s is done: its Redis keys are deleted", keys.crawl)
                return
            # Stopped before the crawl ended. The engine finished what was in progress and the
            # pipelines wrote their rows before the scheduler closes: what is still unfinished
            # (nothing, after a graceful stop) goes back for the others or the next run.
            finished = [entry for request, entry in self.held.items() if self.in_progress_of(request) is False]
            if finished:
                self.server.zrem(keys.held(self.worker), *finished)
            if len(finished) < len(self.held):
                self.server.zunionstore(keys.requests, [keys.requests, keys.held(self.worker)], aggregate="MIN")
            self.server.delete(keys.held(self.worker), keys.alive(self.worker))
            self.server.hdel(keys.workers, self.worker)
            pending = self.server.zcard(keys.requests)
            logger.info("Crawl %s stopped here with %d requests queued in Redis: the same command resumes it",
                        keys.crawl, pending)
        except REDIS_DOWN as exc:
            logger.error("Redis at %s went away while this worker stopped (%s)", masked(self.url), exc)

    def _delete_crawl(self) -> None:
        assert self.keys is not None
        for key in self.server.scan_iter(match=self.keys.pattern, count=1000):
            self.server.delete(key)

    # --- requests ----------------------------------------------------------------------------
    def enqueue_request(self, request: Request) -> bool:
        if self.redis_lost:
            return False
        # The auth middleware strips the token from responses' requests; a request made
        # elsewhere from one (a redirect copies headers and meta) must not carry it into Redis.
        request.headers.pop(b"Authorization", None)
        request.meta.pop("_pixiv_token", None)
        try:
            if not request.dont_filter and self.df.request_seen(request):
                self.df.log(request, self.spider)
                return False
            self.queue.push(request)
        except REDIS_DOWN as exc:
            self._lost(exc)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def in_progress_of(self, request: Request) -> bool | None:
        """Whether the engine still works on ``request`` (None: the engine is not known)."""
        slot = getattr(self.crawler.engine, "_slot", None) if self.crawler else None
        return None if slot is None else request in slot.inprogress

    def in_progress(self) -> int:
        """Held requests the engine has not finished (those finished leave Redis at the next tick)."""
        return sum(1 for request in self.held if self.in_progress_of(request) is not False)

    def has_capacity(self) -> bool:
        """Whether to take another request from the shared queue: yes while idle; else only
        below PIXIV_WORKERS_PREFETCH and while the image slot has room, so a worker busy with
        one page's files leaves the next page to a worker that is free."""
        held = self.in_progress()
        if held == 0:
            return True
        if held >= self.prefetch:
            return False
        downloader = getattr(self.crawler.engine, "downloader", None) if self.crawler else None
        images = downloader.slots.get(api.IMAGE_SLOT) if downloader is not None else None
        # ``active``: queued and transferring (Scrapy 2.19 can transfer more than ``concurrency`` at once).
        return images is None or len(images.active) < images.concurrency

    def next_request(self) -> Request | None:
        if self.redis_lost or not self.has_capacity():
            return None
        assert self.keys is not None
        try:
            data = self.server.eval(POP, 2, self.keys.requests, self.keys.held(self.worker))
        except REDIS_DOWN as exc:
            self._lost(exc)
            return None
        if not data:
            return None
        request = self.queue._decode_request(data)
        self.held[request] = data
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        if self.redis_lost:
            return False
        try:
            return super().has_pending_requests()
        except REDIS_DOWN as exc:
            self._lost(exc)
            return False

    # --- liveness, finished requests, the crawl-wide idle check --------------------------------
    def started_all(self) -> None:
        """This worker made all its start requests (StartTracker calls it)."""
        self.started = True
        if self.keys is not None and not self.redis_lost:
            try:
                self.server.hset(self.keys.workers, self.worker, "run")
            except REDIS_DOWN as exc:
                self._lost(exc)

    def _beat(self) -> None:
        assert self.keys is not None
        self.server.set(self.keys.alive(self.worker), "1", px=max(1, int(self.timeout * 1000)))

    async def _ticking(self) -> None:
        interval = max(0.1, min(0.5, self.timeout / 3))
        while not self.redis_lost:
            await asyncio.sleep(interval)
            try:
                self._beat()
                await self._settle()
            except REDIS_DOWN as exc:
                self._lost(exc)
                return
            except Exception:
                logger.exception("Worker bookkeeping failed")
            # Idle workers look at the shared queue again soon, not only at the engine's 5 s heartbeat.
            slot = getattr(self.crawler.engine, "_slot", None) if self.crawler and self.crawler.engine else None
            if slot is not None and slot.closing is None:
                slot.nextcall.schedule()

    async def _settle(self) -> None:
        """Remove from the held set the requests that are done, once their rows are written."""
        finished = [request for request in self.held if self.in_progress_of(request) is False]
        if not finished:
            return
        await self._flush_pipelines()
        assert self.keys is not None
        entries = [self.held.pop(request) for request in finished]
        self.server.zrem(self.keys.held(self.worker), *entries)

    async def _flush_pipelines(self) -> None:
        # Buffered rows must be in the database before their request leaves the held set.
        engine = self.crawler.engine if self.crawler else None
        itemproc = getattr(getattr(engine, "scraper", None), "itemproc", None)
        for pipeline in getattr(itemproc, "middlewares", ()):
            flush = getattr(pipeline, "flush", None)
            if flush is not None and asyncio.iscoroutinefunction(flush):
                await flush()

    def _status(self) -> tuple[int, int]:
        assert self.keys is not None
        queued, busy = self.server.eval(STATUS, 2, self.keys.requests, self.keys.workers, self.keys.base)
        return int(queued), int(busy)

    def _crawl_done(self) -> bool:
        queued, busy = self._status()
        return queued == 0 and busy == 0

    def spider_idle(self, spider: Spider) -> None:
        """Keep an idle worker open while the crawl has work anywhere; let it close once all is done."""
        if self.redis_lost:
            return
        if self.held or not self.started:
            raise DontCloseSpider  # the next tick settles what is held
        assert self.keys is not None
        try:
            moved = self.server.eval(REQUEUE_DEAD, 2, self.keys.requests, self.keys.workers, self.keys.base)
            if moved:
                logger.warning("Took back %d requests held by workers that stopped answering", moved)
            done = self._crawl_done()
        except REDIS_DOWN as exc:
            self._lost(exc)
            return
        if not done:
            self.done_since = None
            raise DontCloseSpider
        now = time.monotonic()
        if self.done_since is None:
            self.done_since = now
            logger.info("Crawl queue empty and no worker busy: waiting %.0fs before stopping", self.idle_timeout)
        if now - self.done_since < self.idle_timeout:
            raise DontCloseSpider

    def _lost(self, exc: Exception) -> None:
        if self.redis_lost:
            return
        self.redis_lost = True
        logger.error(
            "Redis at %s went away (%s): stopping this worker; run the same command again once Redis is back",
            masked(self.url), exc,
        )
        if self.crawler is not None and self.crawler.engine is not None:
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="redis_unavailable"))


class StartTracker:
    """Spider middleware: tells the worker scheduler when ``start()`` is exhausted.

    Until then the worker counts as busy, so the others do not call the crawl
    done while its start requests are still coming.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        try:
            async for item_or_request in start:
                yield item_or_request
        finally:
            scheduler = getattr(getattr(self.crawler.engine, "_slot", None), "scheduler", None)
            if isinstance(scheduler, WorkerScheduler):
                scheduler.started_all()
