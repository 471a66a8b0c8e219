"""A file is downloaded by one worker: the others wait for its result, or take over from a dead one."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
import redis
from scrapy import Spider
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from pixivcrawl.workers.files import FileClaims
from pixivcrawl.workers.keys import CrawlKeys

pytestmark = pytest.mark.redis

KEYS = CrawlKeys("test-crawl")
PATH = "illust/1/120000000_p0.png"
RESULT = {"url": "https://i.test/120000000_p0.png", "path": PATH, "checksum": "ab", "size": 3, "sha256": "ab",
          "width": 1, "height": 1, "status": "downloaded"}


class WorkerClaims(FileClaims):
    """FileClaims of a worker named ``worker`` (the scheduler stands in for a running crawl's)."""

    def __init__(self, redis_url: str, worker: str) -> None:
        super().__init__(get_crawler(Spider), redis_url)
        self._scheduler = SimpleNamespace(worker=worker, keys=KEYS)

    @property
    def scheduler(self):  # type: ignore[override]
        return self._scheduler


@deferred_f_from_coro_f
async def test_one_worker_downloads_the_others_take_its_result(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    for worker in ("a", "b"):
        client.set(KEYS.alive(worker), "1")
    a, b = WorkerClaims(redis_url, "a"), WorkerClaims(redis_url, "b")
    assert await a.claim(PATH) is None  # a downloads
    waiting = asyncio.ensure_future(b.claim(PATH))
    await asyncio.sleep(0.3)
    assert not waiting.done()  # b waits for a
    await a.done(PATH, RESULT)
    got = await asyncio.wait_for(waiting, 2)
    assert got == {k: v for k, v in RESULT.items() if k != "status"}
    assert await WorkerClaims(redis_url, "c").claim(PATH) == got  # later ones take it at once


@deferred_f_from_coro_f
async def test_a_claim_of_a_dead_or_failed_worker_is_taken_over(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.set(KEYS.alive("b"), "1")
    dead, b = WorkerClaims(redis_url, "dead"), WorkerClaims(redis_url, "b")
    assert await dead.claim(PATH) is None  # "dead" has no alive key: it was killed after claiming
    assert await asyncio.wait_for(b.claim(PATH), 2) is None  # b downloads it instead
    assert client.get(KEYS.file(PATH)) == b"b"
    await b.release(PATH)  # b's download failed: the next worker may try
    assert await WorkerClaims(redis_url, "c").claim(PATH) is None
