"""Admin routes (no auth, not counted): /__stats, /__stats/reset, /__clock, /__works."""
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


async def change_work(request: web.Request) -> web.Response:
    """POST /__works/{illust|novel}/{id}?status=hidden|deleted|available&reupload=1: the work changes from now on."""
    world = state(request).world
    try:
        w = world.change_work(request.match_info["kind"] == "novel", int(request.match_info["work_id"]),
                              request.query.get("status"), request.query.get("reupload") == "1")
    except ValueError as exc:
        return json_response({"error": str(exc)}, 400)
    return json_response({"id": w.id, "deleted": w.deleted, "hidden": w.hidden, "upload_ts": w.upload_ts})


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/__stats", get_stats)
    router.add_post("/__stats/reset", reset_stats)
    router.add_route("*", "/__clock", clock)
    router.add_post(r"/__works/{kind:illust|novel}/{work_id:\d+}", change_work)
