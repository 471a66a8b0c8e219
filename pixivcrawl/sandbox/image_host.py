"""Image listener (i.pximg.net / s.pximg.net stand-in): Referer check, faults, HEAD, counters."""
from __future__ import annotations

import asyncio

from aiohttp import web

from .images import ALLOWED_REFERERS, CONTENT_TYPES, ImageMaker, resolve
from .responses import send_truncated
from .state import STATE, State

MAKER = web.AppKey("image_maker", ImageMaker)


async def serve(request: web.Request) -> web.StreamResponse:
    st: State = request.app[STATE]
    st.stats.image_started()
    try:
        resp = await _serve(request, st)
    finally:
        st.stats.image_finished()
    if request.transport is not None and not request.transport.is_closing():  # a reset has no status
        st.stats.inc_map("image_by_status", str(resp.status))
    return resp


async def _serve(request: web.Request, st: State) -> web.StreamResponse:
    cfg, stats = st.config, st.stats
    stats.inc("image_requests")
    if "Authorization" in request.headers:
        stats.inc("image_auth_headers")
    if cfg.latency_image > 0:
        await asyncio.sleep(cfg.latency_image / 1000)
    if request.method not in ("GET", "HEAD"):
        return web.Response(status=405)
    fault = st.faults.decide("image", request.method + request.path_qs)
    if fault:
        stats.inc_map("faults", fault)
        if fault == "reset":
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)
        if fault == "5xx":
            return web.Response(status=500, text="<html><body>500 Internal Server Error</body></html>",
                                content_type="text/html")
        if fault == "429":
            return web.Response(status=429, text="Too Many Requests", headers={"Retry-After": str(cfg.retry_after)})
    if request.headers.get("Referer") not in ALLOWED_REFERERS:
        stats.inc("image_403")
        return web.Response(status=403, text="<html><body>403 Forbidden</body></html>", content_type="text/html")
    found = resolve(st.world, request.path)
    if found is None:
        stats.inc("image_404")
        return web.Response(status=404, text="<html><body>404 Not Found</body></html>", content_type="text/html")
    kind, key, fmt = found
    if kind == "placeholder":
        stats.inc("placeholder_fetches")
    maker = request.app[MAKER]
    body = maker.zip(key[0], key[1]) if kind == "zip" else maker.image(key, fmt)
    headers = {"Content-Type": CONTENT_TYPES[fmt], "Cache-Control": "max-age=31536000",
               "Last-Modified": "Sat, 01 Nov 2025 00:00:00 GMT", "Accept-Ranges": "bytes"}
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        return web.Response(status=200, headers=headers)
    stats.inc("image_bytes", len(body))
    resp = web.Response(body=body, headers=headers)
    if fault == "truncate":
        return await send_truncated(request, resp)
    return resp


def make_image_app(st: State) -> web.Application:
    app = web.Application()
    app[STATE] = st
    app[MAKER] = ImageMaker(st.config)
    app.router.add_route("*", "/{path:.*}", serve)
    return app
