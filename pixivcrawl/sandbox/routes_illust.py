"""Illust routes: ranking, detail, ugoira, related, recommended, new, follow feed, series, comments, search."""
from __future__ import annotations

from datetime import date
from urllib.parse import quote

from aiohttp import web

from .comments import comments_page, replies_page
from .encoding import Raw, compact, encode
from .images import ugoira_delays, ugoira_frame_count
from .responses import (
    ApiError,
    dead_endpoint,
    get_work,
    illust_json,
    int_param,
    json_response,
    lang,
    next_url,
    offset_page,
    offset_param,
    state,
    take,
    viewer,
)
from .search import search_response
from .world import RANKING_MODES, Work


def get_illust(request: web.Request, param: str = "illust_id") -> Work:
    return get_work(request, "illust", param)


def parse_date(raw: str | None, default: date) -> date:
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "", compact({"date": ["date is invalid"]})) from None


async def ranking(request: web.Request) -> web.Response:
    world = state(request).world
    mode = request.query.get("mode", "day")
    if mode not in RANKING_MODES:
        # exact wording of Pixiv's answer to an unknown mode is not recorded; this mirrors the offset one
        raise ApiError(400, "", compact({"mode": ["mode is invalid"]}))
    d = parse_date(request.query.get("date"), world.default_ranking_date())
    # dates after the world's epoch are served from its newest works rather than refused, so a crawler
    # asking for the real "yesterday" still gets a ranking
    ids = world.ranking(mode, d)
    return offset_page(request, iter(ids), "illusts", lambda i: illust_json(request, world.illust_by_id(i)))


async def detail(request: web.Request) -> web.Response:
    return json_response({"illust": illust_json(request, get_illust(request), detail=True)})


async def ugoira_metadata(request: web.Request) -> web.Response:
    w = get_illust(request)
    world = state(request).world
    if w.type != "ugoira" or w.hidden:
        raise ApiError(400, "", "Invalid ugoira")  # wording unknown; clients only need "not a 200"
    frames = [{"file": f"{i:06d}.jpg", "delay": d} for i, d in enumerate(ugoira_delays(world.seed, w.id))]
    assert len(frames) == ugoira_frame_count(w.id)
    return json_response({"ugoira_metadata": {"zip_urls": {"medium": world.ugoira_zip_url(w)}, "frames": frames}})


def _php_array(request: web.Request, name: str) -> list[str]:
    """Values of name[], name[0], name[1]... in order."""
    return [v for k, v in request.query.items() if k == name + "[]" or (k.startswith(name + "[") and k.endswith("]"))]


#: Works of viewed[] a later related page lists again.
RELATED_REPEATS = 2


async def related(request: web.Request) -> web.Response:
    world = state(request).world
    w = get_illust(request)
    n = state(request).config.page_size
    viewed = _php_array(request, "viewed")
    seeds = _php_array(request, "seed_illust_ids") or [str(w.id)]
    # Real later pages repeat a few works already in their viewed[] (captures): two here.
    repeats = [int(v) for v in viewed[:RELATED_REPEATS]]
    idxs = world.related_idx(w.idx, False, n - len(repeats), len(viewed))
    items = [illust_json(request, world.illust_by_id(i)) for i in repeats]
    items += [illust_json(request, world.illust(i)) for i in idxs]
    url = None
    if len(viewed) + len(idxs) < n * 4:  # Pixiv's related list runs dry after a few pages
        pairs = [("illust_id", str(w.id)), ("filter", request.query.get("filter", "for_ios"))]
        pairs += [(f"seed_illust_ids[{i}]", s) for i, s in enumerate(seeds)]
        pairs += [(f"viewed[{i}]", v) for i, v in enumerate(viewed + [str(world.illust(i).id) for i in idxs])]
        url = f"{state(request).api_base}{request.path}?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)
    return json_response({"illusts": items, "next_url": url})


async def recommended(request: web.Request) -> web.Response:
    st = state(request)
    world, n = st.world, st.config.page_size
    offset = offset_param(request)
    manga = request.query.get("content_type") == "manga"
    idxs = world.recommended_idx(viewer(request), False, manga, offset, n)
    ranking_illusts = []
    if offset == 0 and request.query.get("include_ranking_illusts") == "true":
        ranking_illusts = [illust_json(request, world.illust_by_id(i)) for i in world.ranking("day")[:3]]
    more = offset + n < n * 10
    return json_response({"illusts": [illust_json(request, world.illust(i)) for i in idxs],
                          "ranking_illusts": ranking_illusts, "contest_exists": False,
                          "privacy_policy": {},
                          "next_url": recommended_next_url(request, offset + n, idxs) if more else None})


def recommended_next_url(request: web.Request, offset: int, idxs: list[int]) -> str:
    """The long next_url of the capture: the ids viewed so far as viewed[N], and the bookmark-id bounds."""
    world = state(request).world
    viewed = _php_array(request, "viewed") + [str(world.illust(i).id) for i in idxs]
    pairs = [(k, request.query.get(k, d)) for k, d in (("content_type", "illust"), ("filter", "for_ios"),
                                                       ("include_ranking_label", "true"))]
    bookmarks = world.user_bookmarks(viewer(request), "public") or [0]
    pairs += [("min_bookmark_id_for_recent_illust", str(min(bookmarks) * 10 + 7)),
              ("max_bookmark_id_for_recommend", str(max(bookmarks) * 10 + 3)), ("offset", str(offset)),
              ("include_privacy_policy", "false")]
    pairs += [(f"viewed[{i}]", v) for i, v in enumerate(viewed)]
    return f"{state(request).api_base}{request.path}?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)


async def new(request: web.Request) -> web.Response:
    st = state(request)
    world, n = st.world, st.config.page_size
    max_id = request.query.get("max_illust_id")
    it = world.iter_new(False, request.query.get("content_type", "illust"), int(max_id) if max_id else None)
    items, more = take(it, 0, n)
    body = {"illusts": [illust_json(request, w) for w in items],
            "next_url": next_url(request, max_illust_id=items[-1].id - 1) if more else None}
    return json_response(body)


async def follow(request: web.Request) -> web.Response:
    world = state(request).world
    restrict = request.query.get("restrict", "public")
    if restrict not in ("public", "private", "all"):
        raise ApiError(400, "", compact({"restrict": ["restrict is invalid"]}))
    return offset_page(request, lambda: world.iter_follow_feed(viewer(request), restrict, novel=False), "illusts",
                       lambda w: illust_json(request, w))


def series_detail(request: web.Request, sid_: int) -> tuple[dict[str, object], list[int]]:
    """``illust_series_detail`` of a series, and its works' indexes in order (deleted ones left out)."""
    world = state(request).world
    members = [i for i in world.series_members(sid_, False) if not world.illust(i).deleted]
    if not members:
        raise ApiError(404, "", "Series not found")  # wording unknown
    first = world.illust(members[0])
    detail = {"id": sid_, "title": world.series_title(sid_, False), "caption": "",
              "cover_image_urls": {"medium": world.illust_urls(first, 0)["medium"]},
              "series_work_count": len(members), "create_date": world.iso(first.ts),
              "width": 1000, "height": 1414, "user": world.user_obj(first.user_id, viewer(request)),
              "watchlist_added": sid_ % 5 == 0}
    return detail, members


async def series(request: web.Request) -> web.Response:
    world = state(request).world
    detail, members = series_detail(request, int_param(request, "illust_series_id"))
    first = world.illust(members[0])
    extra = {"illust_series_detail": detail, "illust_series_first_illust": illust_json(request, first)}
    # newest first, as Pixiv lists a series' works
    return offset_page(request, iter(reversed(members)), "illusts",
                       lambda i: illust_json(request, world.illust(i)), extra=extra)


async def series_context(request: web.Request) -> web.Response:
    """/v1/illust-series/illust: a work's series and its place there (Owlbear: content_order, prev, next)."""
    world = state(request).world
    w = get_illust(request)
    if not w.series_id or w.deleted:
        raise ApiError(404, "", "Series not found")  # wording unknown, as for /v1/illust/series
    detail, members = series_detail(request, w.series_id)
    pos = members.index(w.idx)
    neighbour = {k: illust_json(request, world.illust(members[j])) if 0 <= j < len(members) else None
                 for k, j in (("prev", pos - 1), ("next", pos + 1))}
    context = Raw(encode({"content_order": pos + 1, **neighbour}))
    return json_response({"illust_series_detail": detail, "illust_series_context": context})


async def bookmark_detail(request: web.Request) -> web.Response:
    world = state(request).world
    w = get_illust(request)
    b = world.bookmark_of(viewer(request), w.id)
    names = sorted({t for k in (("illust", "public"), ("illust", "private"))
                    for e in world.bookmark_entries(viewer(request), *k) for t in e.tags})
    tags = [{"name": t, "is_registered": bool(b and t in b.tags)} for t in names]
    return json_response({"bookmark_detail": {"is_bookmarked": b is not None, "tags": tags,
                                              "restrict": b.restrict if b else "public"}})


async def trending(request: web.Request) -> web.Response:
    return json_response({"trend_tags": trend_tags(request, novel=False)})


def trend_tags(request: web.Request, novel: bool) -> list[Raw]:
    from .world import TAGS

    world, lg = state(request).world, lang(request)
    out = []
    for i, t in enumerate(TAGS):
        if t.name in ("R-18", "R-18G"):
            continue
        # The novel list's entries carry an illust too (the Owlbear capture; pixiv-artvier and
        # Pixeval parse it with the illust model): the tag must be a novel tag of the day.
        if world.latest_with_tag(i, novel) is None:
            continue
        w = world.latest_with_tag(i, False)
        if w is None:
            continue
        out.append(Raw(encode({"tag": t.name, "translated_name": (t.tr or {}).get(lg) if lg != "ja" else None,
                               "illust": illust_json(request, w)})))
    return out


async def search(request: web.Request) -> web.Response:
    return search_response(request, novel=False)


async def comments(request: web.Request) -> web.Response:
    return comments_page(request, get_illust(request), v1=False)


async def replies(request: web.Request) -> web.Response:
    return replies_page(request, novel=False)


async def write_ok(request: web.Request) -> web.Response:
    # write endpoints answer {} (Owlbear docs); the sandbox does not change its world
    await request.post()
    return json_response({})


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/v1/illust/ranking", ranking)
    router.add_get("/v1/illust/detail", detail)
    router.add_get("/v1/ugoira/metadata", ugoira_metadata)
    router.add_get("/v2/illust/related", related)
    router.add_get("/v1/illust/recommended", recommended)
    router.add_get("/v1/illust/new", new)
    router.add_get("/v2/illust/follow", follow)
    router.add_get("/v1/illust/series", series)
    router.add_get("/v1/illust-series/illust", series_context)
    router.add_get("/v2/illust/bookmark/detail", bookmark_detail)
    router.add_get("/v1/trending-tags/illust", trending)
    router.add_get("/v1/search/illust", search)
    router.add_get("/v3/illust/comments", comments)
    router.add_get("/v2/illust/comment/replies", replies)
    router.add_get("/v1/illust/comments", dead)  # pixivpy#378: answers 404 nowadays
    router.add_post("/v2/illust/bookmark/add", write_ok)
    router.add_post("/v1/illust/bookmark/delete", write_ok)


async def dead(request: web.Request) -> web.Response:
    return dead_endpoint(request)

