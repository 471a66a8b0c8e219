"""API middleware: stats, latency, rate limit, faults, the bearer check, the page cache and error bodies."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from .faults import RATE_LIMIT_BODY
from .oauth import api_oauth_error
from .responses import (
    ApiError,
    dead_endpoint,
    error_body,
    json_response,
    lang,
    send_truncated,
    state,
)
from .state import VIEWER, State

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
NO_AUTH = ("/auth/", "/web/v1/", "/__")
ADMIN = ("/__stats", "/__stats/reset", "/__clock")


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
