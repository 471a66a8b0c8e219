"""Search routes: illusts and novels by word (tags/title per search_target), users by name."""
from __future__ import annotations

from datetime import date

from aiohttp import web

from .encoding import compact
from .responses import ApiError, illust_json, novel_json, offset_page, state, user_preview
from .world.listings import DURATIONS, SEARCH_TARGETS, SORTS

SEARCH_SPAN_LIMIT = 31536000


def _check(name: str, value: str | None, allowed: tuple[str, ...] | dict[str, int]) -> None:
    if value is not None and value not in allowed:
        raise ApiError(400, "", compact({name: [f"{name} is invalid"]}))


def search_response(request: web.Request, novel: bool) -> web.Response:
    q, world = request.query, state(request).world
    word = q.get("word", "").strip()
    if not word:
        raise ApiError(400, "", compact({"word": ["word is required"]}))
    target = q.get("search_target", "partial_match_for_tags")
    targets = SEARCH_TARGETS if novel else SEARCH_TARGETS[:-1]
    _check("search_target", target, targets)
    sort = q.get("sort", "date_desc")
    _check("sort", sort, SORTS)
    _check("duration", q.get("duration"), DURATIONS)
    for key in ("start_date", "end_date"):
        if q.get(key):
            try:
                date.fromisoformat(q[key])
            except ValueError:
                raise ApiError(400, "", compact({key: [f"{key} is invalid"]})) from None
    ai = q.get("search_ai_type")
    def it():  # type: ignore[no-untyped-def]
        return world.iter_search(word, novel, target, sort, q.get("start_date"), q.get("end_date"),
                                 q.get("duration"), ai)
    extra = {"search_span_limit": SEARCH_SPAN_LIMIT, "show_ai": ai != "0"}
    if novel:
        return offset_page(request, it, "novels", lambda w: novel_json(request, w), capped=True, extra=extra)
    return offset_page(request, it, "illusts", lambda w: illust_json(request, w), capped=True, extra=extra)


async def search_user(request: web.Request) -> web.Response:
    world = state(request).world
    word = request.query.get("word", "").strip()
    if not word:
        raise ApiError(400, "", compact({"word": ["word is required"]}))
    ids = world.search_user_ids(word)
    return offset_page(request, iter(ids), "user_previews", lambda u: user_preview(request, u), capped=True)
