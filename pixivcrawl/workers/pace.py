"""One API pace per account across every worker: a shared schedule of send times in Redis.

Each API call takes the next free send time from the account's ``pace`` key
(one call per the API slot's delay, across all workers: three workers send no
more calls a minute than one would), and a rate-limit answer seen by any worker
moves the account's ``paused`` key, which every worker's next call waits for.
Image downloads are not paced here: each worker keeps its own image slot.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Self

import redis.asyncio

from pixivcrawl import api
from pixivcrawl.auth import resolve_refresh_token
from pixivcrawl.exceptions import AuthError
from pixivcrawl.hosts import HostPolicy
from pixivcrawl.middlewares.errors import is_rate_limit, retry_after
from pixivcrawl.workers.client import REDIS_DOWN
from pixivcrawl.workers.keys import REDIS_PARAMS, AccountKeys, account_id, redis_url

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

#: Reserve the next send time: max(now, next free, paused until); returns the wait in ms.
RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
local at = math.max(now, free, paused)
local interval = tonumber(ARGV[1])
redis.call('SET', KEYS[1], at + interval, 'PX', at + interval - now + 60000)
return at - now
"""

#: Pause every worker of the account for ARGV[1] ms (never shortening a longer pause).
PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilms = now + tonumber(ARGV[1])
if untilms > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], untilms, 'PX', tonumber(ARGV[1]) + 60000)
end
return untilms - now
"""


class SharedApiPace:
    """Downloader middleware (workers only): waits for the account's shared send time before each API call.

    The pace is the API download slot's delay (``DOWNLOAD_SLOTS["pixiv-api"]["delay"]``);
    a rate-limit answer pauses all workers for its ``Retry-After``, else
    PIXIV_RATE_LIMIT_BACKOFF seconds (at most PIXIV_RATE_LIMIT_BACKOFF_MAX). The
    account is named by a keyed hash of its refresh token, never the token.
    """

    def __init__(self, crawler: Crawler, *, url: str, hosts: HostPolicy, interval: float, backoff: float,
                 backoff_max: float, refresh_token: str, token_file: str) -> None:
        self.crawler = crawler
        self.client = redis.asyncio.Redis.from_url(url, **REDIS_PARAMS)
        self.hosts = hosts
        self.interval_ms = max(0, int(interval * 1000))
        self.backoff = backoff
        self.backoff_max = backoff_max
        try:
            token = resolve_refresh_token(refresh_token, token_file)
        except AuthError:
            token = ""  # the auth middleware stops the crawl with the reason
        self.keys = AccountKeys(account_id(token))
        # One reservation at a time per worker: a worker never hoards future send times.
        self.lock = asyncio.Lock()
        self.pausing: set[asyncio.Future[None]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        slot = s.getdict("DOWNLOAD_SLOTS").get(api.API_SLOT) or {}
        return cls(
            crawler,
            url=redis_url(s),
            hosts=HostPolicy.from_settings(s),
            interval=float(slot.get("delay", s.getfloat("DOWNLOAD_DELAY"))),
            backoff=s.getfloat("PIXIV_RATE_LIMIT_BACKOFF"),
            backoff_max=s.getfloat("PIXIV_RATE_LIMIT_BACKOFF_MAX"),
            refresh_token=s["PIXIV_REFRESH_TOKEN"],
            token_file=s["PIXIV_TOKEN_FILE"],
        )

    def is_api(self, request: Request) -> bool:
        return not request.meta.get("pixiv_auth_request") and self.hosts.is_api(request.url)

    async def process_request(self, request: Request) -> None:
        if not self.is_api(request):
            return
        async with self.lock:
            try:
                wait_ms = await self.client.eval(RESERVE, 2, self.keys.pace, self.keys.paused, self.interval_ms)
            except REDIS_DOWN:
                return  # the scheduler notices and stops the worker
            if wait_ms > 0:
                self.crawler.stats.inc_value("pixivcrawl/workers/pace_waits")
                await asyncio.sleep(wait_ms / 1000)

    def process_response(self, request: Request, response: Response) -> Response:
        if self.is_api(request) and is_rate_limit(response, api.error_of(response.body)):
            delay = min(retry_after(response) or self.backoff, self.backoff_max)
            # Sent before this worker's own retry waits: the pause reaches the others at once.
            self.pausing.add(task := asyncio.ensure_future(self._pause_all(delay)))
            task.add_done_callback(self.pausing.discard)
        return response

    async def _pause_all(self, delay: float) -> None:
        try:
            await self.client.eval(PAUSE, 1, self.keys.paused, int(delay * 1000))
        except REDIS_DOWN:
            return
        self.crawler.stats.inc_value("pixivcrawl/workers/shared_pauses")
        logger.warning("Rate limit: every worker of this account pauses its API calls for %.1fs", delay)
