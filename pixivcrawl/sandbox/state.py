"""The sandbox's shared state (config, world, stats, OAuth, faults) and its answer caches."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from typing import Any

from aiohttp import web

from .config import SandboxConfig
from .encoding import Raw, dumps
from .faults import Faults, RateLimiter
from .oauth import OAuthServer
from .stats import Stats
from .world import World

PAGE_CACHE_BYTES = 32 << 20


@dataclass
class State:
    config: SandboxConfig
    world: World
    stats: Stats = field(default_factory=Stats)
    oauth: OAuthServer = None  # type: ignore[assignment]
    faults: Faults = None  # type: ignore[assignment]
    limiter: RateLimiter = None  # type: ignore[assignment]
    api_base: str = ""

    def __post_init__(self) -> None:
        self.oauth = self.oauth or OAuthServer(self.config)
        self.faults = self.faults or Faults(self.config)
        self.limiter = self.limiter or RateLimiter(self.config)
        self.fragment = lru_cache(maxsize=20_000)(self._fragment)
        self.prefixes: OrderedDict[tuple[Any, ...], tuple[Iterator[Any], list[Any]]] = OrderedDict()
        self.pages: OrderedDict[tuple[Any, ...], tuple[bytes, str]] = OrderedDict()
        self.page_bytes = 0

    def cached_page(self, key: tuple[Any, ...]) -> web.Response | None:
        hit = self.pages.get(key)
        if hit is None:
            return None
        self.pages.move_to_end(key)
        return web.Response(body=hit[0], content_type=hit[1], charset="utf-8")

    def remember_page(self, key: tuple[Any, ...], resp: web.StreamResponse) -> None:
        # answers are a pure function of (path+query, viewer, language, world clock): keep recent ones
        raw = resp.body if resp.status == 200 and isinstance(resp, web.Response) else None
        if isinstance(raw, (bytes, bytearray)) and len(raw) < 1 << 18:
            body = bytes(raw)
            self.pages[key] = (body, resp.content_type)
            self.page_bytes += len(body)
            while self.page_bytes > PAGE_CACHE_BYTES or len(self.pages) > 2048:
                _, (old, _ct) = self.pages.popitem(last=False)
                self.page_bytes -= len(old)

    def _fragment(self, novel: bool, idx: int, lang: str, viewer: int, clock: int, detail: bool) -> Raw:
        """Encoded JSON of one work, cached: pages are mostly joins of these."""
        w = self.world
        obj = w.novel_obj(w.novel(idx), viewer, lang) if novel else w.illust_obj(w.illust(idx), viewer, lang, detail)
        return Raw(dumps(obj))

    def prefix(self, key: tuple[Any, ...], make: Callable[[], Iterator[Any]], upto: int) -> list[Any]:
        """The first `upto` items of a listing, remembered so deep offsets are not re-walked per page."""
        entry = self.prefixes.pop(key, None) or (make(), [])
        self.prefixes[key] = entry
        if len(self.prefixes) > 64:
            self.prefixes.popitem(last=False)
        it, items = entry
        if len(items) < upto:
            items.extend(islice(it, upto - len(items)))
        return items[:upto]


STATE = web.AppKey("sandbox_state", State)
VIEWER = web.RequestKey("viewer", int)
