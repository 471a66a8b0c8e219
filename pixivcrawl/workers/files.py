"""A file is downloaded once across workers: a claim per file path in Redis.

FilesPipeline downloads through ``engine.download``, past the scheduler, so the
shared duplicate filter never sees file requests. Before a worker downloads a
file that the archive does not have (the database and disk check comes first),
it claims the file's path with SET NX. The worker holding the claim downloads
it and then replaces the claim by the result (path, size, sha256, dimensions:
no secret); a worker that finds the file claimed waits for that result and
records the file as ``uptodate``. A claim whose worker died (no alive key) or
gave up is taken over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import TYPE_CHECKING, Any, Self

import redis.asyncio

from pixivcrawl.pipelines.media import PixivFilesPipeline
from pixivcrawl.pipelines.ugoira import UgoiraPipeline
from pixivcrawl.workers.client import REDIS_DOWN
from pixivcrawl.workers.keys import REDIS_PARAMS, as_text, redis_url
from pixivcrawl.workers.scheduler import WorkerScheduler

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.pipelines.media import FileInfo, MediaPipeline
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

#: How often a worker waiting for another's download looks again (seconds).
POLL = 0.2
DONE = "done:"


class FileClaims:
    """Claims on file paths of one crawl, for one worker."""

    def __init__(self, crawler: Crawler, url: str) -> None:
        self.crawler = crawler
        self.client = redis.asyncio.Redis.from_url(url, **REDIS_PARAMS)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler, redis_url(crawler.settings))

    @property
    def scheduler(self) -> WorkerScheduler:
        scheduler = self.crawler.engine._slot.scheduler  # type: ignore[union-attr]
        assert isinstance(scheduler, WorkerScheduler)
        return scheduler

    def key(self, path: str) -> str:
        keys = self.scheduler.keys
        assert keys is not None
        return keys.file(path)

    async def claim(self, path: str) -> dict[str, Any] | None:
        """None when this worker downloads ``path``; else the result another worker stored."""
        key, me = self.key(path), self.scheduler.worker
        keys = self.scheduler.keys
        assert keys is not None
        waited = False
        while True:
            if await self.client.set(key, me, nx=True):
                return None
            value = as_text(await self.client.get(key))
            if value.startswith(DONE):
                if waited:
                    self.crawler.stats.inc_value("pixivcrawl/workers/files_waited")
                return json.loads(value[len(DONE):])
            if value == me:
                return None
            if value and not await self.client.exists(keys.alive(value)):
                # The worker that claimed it is gone: take the claim over, unless someone did first.
                async with self.client.pipeline(transaction=True) as pipe:
                    try:
                        await pipe.watch(key)
                        if as_text(await pipe.get(key)) == value:
                            pipe.multi()
                            pipe.set(key, me)
                            await pipe.execute()
                            return None
                    except redis.exceptions.WatchError:
                        pass
            waited = True
            await asyncio.sleep(POLL)

    async def done(self, path: str, result: dict[str, Any]) -> None:
        await self.client.set(self.key(path), DONE + json.dumps({k: v for k, v in result.items() if k != "status"}, default=str))

    async def release(self, path: str) -> None:
        key = self.key(path)
        if as_text(await self.client.get(key)) == self.scheduler.worker:
            await self.client.delete(key)


class ClaimingMixin(PixivFilesPipeline):
    """Wraps a files pipeline's download in a :class:`FileClaims` claim (before the pipeline's own class in the bases)."""

    claims: FileClaims
    releasing: set[asyncio.Future[None]]  # claims being given back (held so they are not collected)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pipeline = super().from_crawler(crawler)
        pipeline.claims = FileClaims.from_crawler(crawler)
        pipeline.releasing = set()
        return pipeline

    async def media_to_download(  # type: ignore[override]
        self, request: Request, info: MediaPipeline.SpiderInfo, *, item: Any = None
    ) -> FileInfo | None:
        result = await super().media_to_download(request, info, item=item)
        if result is not None:
            return result
        path = str(request.meta["pixiv_file_path"])
        try:
            stored = await self.claims.claim(path)
        except REDIS_DOWN:
            return None  # downloading it twice is harmless; the scheduler stops the worker
        if stored is None:
            request.meta["pixiv_claim"] = path
            return None
        self.inc_stats("uptodate")
        logger.debug("File (downloaded by another worker): %s at %s", request.url, path)
        return {**stored, "status": "uptodate"}  # type: ignore[return-value]

    async def media_downloaded(
        self, response: Response, request: Request, info: MediaPipeline.SpiderInfo, *, item: Any = None
    ) -> FileInfo:
        path = request.meta.get("pixiv_claim")
        try:
            result = await super().media_downloaded(response, request, info, item=item)
        except Exception:
            if path:
                await self._release(path)
            raise
        if path:
            with contextlib.suppress(*REDIS_DOWN):
                await self.claims.done(path, dict(result))
        return result

    def media_failed(self, failure: Failure, request: Request, info: MediaPipeline.SpiderInfo) -> Any:
        if path := request.meta.get("pixiv_claim"):
            self.releasing.add(task := asyncio.ensure_future(self._release(path)))
            task.add_done_callback(self.releasing.discard)
        return super().media_failed(failure, request, info)

    async def _release(self, path: str) -> None:
        with contextlib.suppress(*REDIS_DOWN):
            await self.claims.release(path)


class ClaimedFilesPipeline(ClaimingMixin, PixivFilesPipeline):
    """:class:`PixivFilesPipeline` on workers."""


class ClaimedUgoiraPipeline(ClaimingMixin, UgoiraPipeline):
    """:class:`UgoiraPipeline` on workers."""
