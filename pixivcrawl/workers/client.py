"""Connecting to the workers' Redis: the errors that mean it is down, and the check before a crawl.

Only workers (PIXIV_REDIS_URL set) import this module, and with it redis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import redis

from pixivcrawl.exceptions import ArgumentError
from pixivcrawl.workers.keys import REDIS_PARAMS, RedisUnavailable, masked, redis_url

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

#: Errors that mean the Redis server is not there (any more).
REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def connect(url: str) -> redis.Redis:
    """A synchronous client (what scrapy-redis uses)."""
    return redis.Redis.from_url(url, **REDIS_PARAMS)


def check_redis(settings: BaseSettings) -> None:
    """ArgumentError with one clear line if PIXIV_REDIS_URL is set but bad or unreachable."""
    url = redis_url(settings)
    if not url:
        return
    try:
        client = connect(url)
    except ValueError as exc:
        raise ArgumentError(
            f"bad PIXIV_REDIS_URL {masked(url)!r} ({exc}); expected redis://host:6379/0"
        ) from None
    try:
        client.ping()
    except REDIS_DOWN as exc:
        raise RedisUnavailable(
            f"Redis at {masked(url)} is unreachable ({exc}); start it or fix PIXIV_REDIS_URL"
        ) from None
    except redis.exceptions.RedisError as exc:
        raise RedisUnavailable(f"Redis at {masked(url)} refused the connection ({exc}); fix PIXIV_REDIS_URL") from None
    finally:
        client.close()
