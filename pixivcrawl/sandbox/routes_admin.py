"""Admin routes (no auth, not counted): /__stats, /__stats/reset, /__clock, /__works."""
from __future__ import annotations

import math

from aiohttp import web

from .responses import json_response, state

#: The most POST /__clock may move the world clock at once, either way (about 100 years).
MAX_CLOCK_STEP = 100 * 365 * 86400


async def get_stats(request: web.Request) -> web.Response:
    return json_response(state(request).stats.snapshot())


async def reset_stats(request: web.Request) -> web.Response:
    state(request).stats.reset()
    return json_response({})


async def clock(request: web.Request) -> web.Response:
    """POST /__clock?advance=SECONDS moves the world clock (view/bookmark counts grow); GET reads it."""
    world = state(request).world
    if request.method == "POST":
        raw = request.query.get("advance", "0")
        try:
            step = float(raw)
        except ValueError:
            step = math.nan
        if not math.isfinite(step) or abs(step) > MAX_CLOCK_STEP:
            return bad_request(f"advance={raw!r}: expected seconds, a number between "
                               f"-{MAX_CLOCK_STEP} and {MAX_CLOCK_STEP}")
        if not -world.epoch <= world.clock_advance + int(step) <= MAX_CLOCK_STEP:
            return bad_request(f"advance={raw!r} would move the clock out of range; "
                               "POST /__clock?advance=-N to go back")
        world.clock_advance += int(step)
    return json_response({"now": world.iso(world.now()), "advance": world.clock_advance})


def bad_request(message: str) -> web.Response:
    """An admin call with bad input: 400 and what to send instead; nothing changes."""
    return json_response({"error": message}, 400)


async def change_work(request: web.Request) -> web.Response:
    """POST /__works/{illust|novel}/{id}?status=hidden|deleted|available&reupload=1: the work changes from now on."""
    world = state(request).world
    try:
        w = world.change_work(request.match_info["kind"] == "novel", int(request.match_info["work_id"]),
                              request.query.get("status"), request.query.get("reupload") == "1")
    except ValueError as exc:
        return bad_request(str(exc))
    return json_response({"id": w.id, "deleted": w.deleted, "hidden": w.hidden, "upload_ts": w.upload_ts})


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/__stats", get_stats)
    router.add_post("/__stats/reset", reset_stats)
    router.add_route("*", "/__clock", clock)
    router.add_post(r"/__works/{kind:illust|novel}/{work_id:\d+}", change_work)
