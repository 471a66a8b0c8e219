"""API listener: app factory, shared helpers, and the auth/fault/stats middleware."""
from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from typing import Any, Awaitable, Callable, Iterable, Iterator
from urllib.parse import urlencode

from aiohttp import web

from .config import SandboxConfig
from .faults import RATE_LIMIT_BODY, Faults, RateLimiter
from .oauth import OAuthServer, api_oauth_error
from .stats import Stats
from .world import Work, World

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
OFFSET_CAP = 5000
PAGE_CACHE_BYTES = 32 << 20
NO_AUTH = ("/auth/", "/web/v1/", "/__")
ADMIN = ("/__stats", "/__stats/reset", "/__clock")


class Raw(bytes):
    """Already-encoded JSON, spliced into a response as is."""


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
        if resp.status == 200 and isinstance(resp, web.Response) and resp.body is not None and len(resp.body) < 1 << 18:
            body = bytes(resp.body)  # type: ignore[arg-type]
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


class ApiError(Exception):
    """Raised by handlers: becomes a Pixiv error body."""

    def __init__(self, status: int, user_message: str = "", message: str = "") -> None:
        super().__init__(message or user_message)
        self.status, self.user_message, self.message = status, user_message, message


def error_body(user_message: str = "", message: str = "") -> dict[str, Any]:
    return {"error": {"user_message": user_message, "message": message, "reason": "", "user_message_details": {}}}


def compact(data: Any) -> str:
    """JSON text the way Pixiv writes field errors inside `message`."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def encode(data: Any) -> bytes:
    """dumps() that splices Raw fragments found as top-level values or items of top-level lists."""
    if not isinstance(data, dict) or not any(isinstance(v, (Raw, list)) for v in data.values()):
        return dumps(data)
    parts = []
    for k, v in data.items():
        if isinstance(v, Raw):
            enc = bytes(v)
        elif isinstance(v, list) and v and any(isinstance(x, Raw) for x in v):
            enc = b"[" + b",".join(x if isinstance(x, Raw) else dumps(x) for x in v) + b"]"
        else:
            enc = dumps(v)
        parts.append(dumps(k) + b":" + enc)
    return b"{" + b",".join(parts) + b"}"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=encode(data), status=status, headers=headers, content_type="application/json",
                        charset="utf-8")


def state(request: web.Request) -> State:
    return request.app[STATE]


def viewer(request: web.Request) -> int:
    return request.get(VIEWER, 0)


def lang(request: web.Request) -> str:
    # Without Accept-Language Pixiv's choice is unknown; English translations are served then.
    return (request.headers.get("Accept-Language") or "en")[:2].lower()


def int_param(request: web.Request, name: str, default: int | None = None) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        if default is None:
            raise ApiError(400, "", compact({name: [f"{name} is required"]}))
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, "", compact({name: [f"{name} must be an integer"]})) from None


DELETED = "Work has been deleted or the ID does not exist."


def get_work(request: web.Request, kind: str, param: str) -> Work:
    """The illust or novel named by query parameter ``param``; Pixiv's 404 body if it is gone."""
    world = state(request).world
    w = (world.illust_by_id if kind == "illust" else world.novel_by_id)(int_param(request, param))
    if w is None or w.deleted:
        raise ApiError(404, DELETED)
    return w


def offset_param(request: web.Request, capped: bool = False) -> int:
    offset = int_param(request, "offset", 0)
    if offset < 0:
        raise ApiError(400, "", compact({"offset": ["offset must be a positive number"]}))
    if capped and offset > OFFSET_CAP:
        state(request).stats.inc("offset_cap")
        raise ApiError(400, "", compact({"offset": [f"offset must be no more than {OFFSET_CAP}"]}))
    return offset


def next_url(request: web.Request, drop: Iterable[str] = (), **overrides: Any) -> str:
    """Absolute next_url echoing the request's params (as sent) with `overrides` replaced or appended."""
    pairs = [(k, v) for k, v in request.query.items() if k not in overrides and k not in drop]
    pairs += [(k, str(v)) for k, v in overrides.items()]
    return f"{state(request).api_base}{request.path}?{urlencode(pairs)}"


def take(it: Iterator[Any], offset: int, n: int) -> tuple[list[Any], bool]:
    chunk = list(islice(it, offset, offset + n + 1))
    return chunk[:n], len(chunk) > n


def take_cached(request: web.Request, it: Iterator[Any] | Callable[[], Iterator[Any]], offset: int,
                n: int) -> tuple[list[Any], bool]:
    if not callable(it) or hasattr(it, "__next__"):
        return take(it, offset, n)  # type: ignore[arg-type]
    st = state(request)
    key = (request.path, tuple(sorted((k, v) for k, v in request.query.items() if k != "offset")),
           viewer(request), st.world.revision)
    chunk = st.prefix(key, it, offset + n + 1)[offset:]
    return chunk[:n], len(chunk) > n


def offset_page(request: web.Request, it: Iterator[Any] | Callable[[], Iterator[Any]], key: str,
                convert: Callable[[Any], Any], capped: bool = False, extra: dict[str, Any] | None = None,
                limit: int | None = None) -> web.Response:
    """One offset-paged list; pass a zero-argument factory as `it` to have deep offsets remembered."""
    offset = offset_param(request, capped)
    n = state(request).config.page_size
    items, more = take_cached(request, it, offset, n)
    if limit is not None and offset + n >= limit:
        more = False
    body = {key: [convert(x) for x in items], **(extra or {}),
            "next_url": next_url(request, offset=offset + n) if more else None}
    return json_response(body)


def illust_json(request: web.Request, w: Any, detail: bool = False) -> Raw:
    st = state(request)
    return st.fragment(False, w.idx, lang(request), viewer(request), st.world.revision, detail)


def novel_json(request: web.Request, w: Any) -> Raw:
    st = state(request)
    return st.fragment(True, w.idx, lang(request), viewer(request), st.world.revision, False)


def user_preview(request: web.Request, user_id: int) -> Raw:
    world = state(request).world
    return Raw(encode({"user": world.user_preview_user(user_id, viewer(request)),
                       "illusts": [illust_json(request, w) for w in world.latest_works(user_id, "any")],
                       "novels": [novel_json(request, w) for w in world.latest_works(user_id, "novel")],
                       "is_muted": world.is_muted(user_id)}))


def dead_endpoint(request: web.Request) -> web.Response:
    ja = lang(request) == "ja"
    return json_response(error_body("指定されたエンドポイントは存在しません" if ja else "Specified end-point doesn't exist"), 404)


# --- middleware -----------------------------------------------------------------------------
@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    st = state(request)
    path = request.path
    if path in ADMIN or path.startswith("/__works/"):
        return await handler(request)
    st.stats.inc("requests_total")
    route = request.match_info.route.resource
    st.stats.inc_map("by_route", route.canonical if route is not None else "<unknown>")
    resp = await _answer(request, st, handler)
    if request.transport is not None and not request.transport.is_closing():  # a reset has no status
        st.stats.inc_map("by_status", str(resp.status))
    return resp


async def _answer(request: web.Request, st: State, handler: Handler) -> web.StreamResponse:
    cfg = st.config
    if cfg.latency_api > 0:
        await asyncio.sleep(cfg.latency_api / 1000)
    if request.match_info.http_exception is not None:
        exc = request.match_info.http_exception
        if isinstance(exc, web.HTTPMethodNotAllowed):
            return json_response(error_body("", "Method Not Allowed"), 405)
        return dead_endpoint(request)
    auth_route = request.path.startswith(NO_AUTH)
    if not auth_route and not st.limiter.allow():
        st.stats.inc("rate_limited")
        return rate_limit_answer(cfg.rate_limit_style, st.limiter.retry_after())
    allowed = frozenset({"reset", "5xx", "429", "truncate"}) if auth_route else None
    fault = st.faults.decide("api", request.method + request.path_qs, allowed)
    if fault:
        st.stats.inc_map("faults", fault)
        early = fault_answer(request, fault, cfg.retry_after)
        if early is not None:
            return early
    if not auth_route:
        user_id, problem = st.oauth.check_bearer(request.headers.get("Authorization"))
        if problem:
            st.stats.inc("auth_failures")
            return json_response(api_oauth_error(problem), 400)
        request[VIEWER] = user_id or 0
    key = (request.path_qs, request[VIEWER], lang(request), st.world.revision) \
        if request.method == "GET" and not auth_route else None
    cached = st.cached_page(key) if key else None
    try:
        resp = cached or await handler(request)
        if key and cached is None:
            st.remember_page(key, resp)
    except ApiError as e:
        resp = json_response(error_body(e.user_message, e.message), e.status)
    except web.HTTPNotFound:
        resp = dead_endpoint(request)
    except web.HTTPMethodNotAllowed:
        resp = json_response(error_body("", "Method Not Allowed"), 405)
    if fault == "malformed" and isinstance(resp, web.Response) and resp.body:
        body = bytes(resp.body)  # type: ignore[arg-type]
        return web.Response(body=body[: max(1, len(body) // 2)] + b"<br />\n<b>Fatal error</b>", status=200,
                            content_type="application/json", charset="utf-8")
    if fault == "truncate" and isinstance(resp, web.Response) and resp.body is not None:
        return await send_truncated(request, resp)
    return resp


def rate_limit_answer(style: str, retry_after: int) -> web.Response:
    # The real status of Pixiv's "Rate Limit" body is unrecorded (reference §3.2): 403 is a guess;
    # "429" mimics the pixivts assumption. Clients must survive both.
    if style == "429":
        return json_response(RATE_LIMIT_BODY, 429, {"Retry-After": str(retry_after)})
    return json_response(RATE_LIMIT_BODY, 403)


def fault_answer(request: web.Request, fault: str, retry_after: int) -> web.StreamResponse | None:
    """Answer for faults decided before the handler runs; None for after-the-fact ones."""
    if fault == "reset":
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)  # never reaches the client
    if fault == "5xx":
        status = (500, 502, 503)[len(request.path_qs) % 3]
        return web.Response(status=status, text=f"<html><body><h1>{status} Server Error</h1></body></html>",
                            content_type="text/html")
    if fault == "429":
        return web.Response(status=429, text="Too Many Requests", headers={"Retry-After": str(retry_after)})
    if fault == "rate_limit":
        return json_response(RATE_LIMIT_BODY, 403)
    if fault == "token_expiry":
        return json_response(api_oauth_error("invalid_grant"), 400)
    return None


async def send_truncated(request: web.Request, resp: web.Response) -> web.StreamResponse:
    body = bytes(resp.body)  # type: ignore[arg-type]
    out = web.StreamResponse(status=resp.status, headers={"Content-Type": resp.headers.get("Content-Type", "")})
    out.content_length = len(body)
    await out.prepare(request)
    await out.write(body[: len(body) // 2])
    if request.transport is not None:
        request.transport.close()
    return out


def make_api_app(st: State) -> web.Application:
    from . import routes_admin, routes_auth, routes_illust, routes_novel, routes_user

    app = web.Application(middlewares=[api_middleware])
    app[STATE] = st
    for mod in (routes_admin, routes_auth, routes_illust, routes_user, routes_novel):
        mod.add_routes(app.router)
    return app
