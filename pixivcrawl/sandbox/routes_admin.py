"""Admin routes (no auth, not counted): /__stats, /__stats/reset, /__clock."""
from __future__ import annotations

from aiohttp import web

from .api import json_response, state


async def get_stats(request: web.Request) -> web.Response:
    return json_response(state(request).stats.snapshot())


async def reset_stats(request: web.Request) -> web.Response:
    state(request).stats.reset()
    return json_response({})


async def clock(request: web.Request) -> web.Response:
    """POST /__clock?advance=SECONDS moves the world clock (view/bookmark counts grow); GET reads it."""
    world = state(request).world
    if request.method == "POST":
        world.clock_advance += int(float(request.query.get("advance", "0")))
    return json_response({"now": world.iso(world.now()), "advance": world.clock_advance})


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/__stats", get_stats)
    router.add_post("/__stats/reset", reset_stats)
    router.add_route("*", "/__clock", clock)
