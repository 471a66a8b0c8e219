"""The crawl's shared id and the Redis keys of a crawl and of an account (never a secret in them)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pixivcrawl.exceptions import ArgumentError

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.settings import BaseSettings

#: Every key pixivcrawl writes to Redis starts with this.
PREFIX = "pixivcrawl"

#: Connection options: fail fast when Redis is gone instead of scrapy-redis's 30 s.
REDIS_PARAMS: dict[str, Any] = {"socket_timeout": 10, "socket_connect_timeout": 5, "health_check_interval": 30}


def as_text(reply: bytes | str | None) -> str:
    """A Redis reply as text, "" for none (the clients here do not decode; redis-py types a reply as either)."""
    if isinstance(reply, bytes):
        return reply.decode()
    return reply or ""


def crawl_id(spider: Spider, settings: BaseSettings) -> str:
    """The id every worker of one crawl shares: PIXIV_CRAWL_ID, else a hash of the spider and its arguments."""
    from pixivcrawl.extensions import spider_arguments  # here: extensions imports this module

    configured = str(settings["PIXIV_CRAWL_ID"] or "")
    if configured:
        return configured
    text = json.dumps({"spider": spider.name, "arguments": spider_arguments(spider)}, sort_keys=True)
    return f"{spider.name}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def crawl_id_of(spider: Spider, settings: BaseSettings) -> str | None:
    """The crawl id when the crawl runs on workers (PIXIV_REDIS_URL set), else None."""
    return crawl_id(spider, settings) if settings["PIXIV_REDIS_URL"] else None


def _digest(label: str, secret: str) -> bytes:
    return hashlib.sha256(f"pixivcrawl {label}\0{secret}".encode()).digest()


def account_id(refresh_token: str) -> str:
    """A name for the account of ``refresh_token`` that does not reveal it (a keyed hash)."""
    return _digest("account", refresh_token).hex()[:16]


def token_cipher_key(refresh_token: str) -> bytes:
    """The AES key that seals the shared token record: only holders of the refresh token can open it."""
    return _digest("token key", refresh_token)


@dataclass(frozen=True, slots=True)
class CrawlKeys:
    """The keys of one crawl: ``pixivcrawl:crawl:<id>:*``."""

    crawl: str

    @property
    def base(self) -> str:
        return f"{PREFIX}:crawl:{self.crawl}"

    @property
    def pattern(self) -> str:
        return f"{self.base}:*"

    @property
    def requests(self) -> str:
        return f"{self.base}:requests"

    @property
    def dupefilter(self) -> str:
        return f"{self.base}:dupefilter"

    @property
    def workers(self) -> str:
        return f"{self.base}:workers"

    def held(self, worker: str) -> str:
        return f"{self.base}:held:{worker}"

    def alive(self, worker: str) -> str:
        return f"{self.base}:alive:{worker}"

    def file(self, path: str) -> str:
        return f"{self.base}:file:{hashlib.sha256(path.encode()).hexdigest()[:32]}"


@dataclass(frozen=True, slots=True)
class AccountKeys:
    """The keys of one account: ``pixivcrawl:account:<hash>:*``."""

    account: str

    @property
    def base(self) -> str:
        return f"{PREFIX}:account:{self.account}"

    @property
    def pace(self) -> str:
        return f"{self.base}:pace"

    @property
    def paused(self) -> str:
        return f"{self.base}:paused"

    @property
    def token_lock(self) -> str:
        return f"{self.base}:token-lock"

    @property
    def token(self) -> str:
        return f"{self.base}:token"


def redis_url(settings: BaseSettings) -> str:
    return str(settings["PIXIV_REDIS_URL"] or "")


def masked(url: str) -> str:
    """The Redis URL without its password, for messages."""
    from pixivcrawl.db.engine import mask_url  # here: this module is loaded by every command (the add-on)

    return mask_url(url)


class RedisUnavailable(ArgumentError):
    """PIXIV_REDIS_URL names a Redis that does not answer (exit status 1, not 2: nothing is wrong with the command)."""
