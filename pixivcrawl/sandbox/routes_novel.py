"""Novel routes: detail, webview text page, series, new, follow feed, recommended, ranking, comments, search."""
from __future__ import annotations

import html
import json

from aiohttp import web

from .comments import comments_page, replies_page
from .encoding import compact
from .responses import (
    ApiError,
    dead_endpoint,
    get_work,
    int_param,
    json_response,
    lang,
    next_url,
    novel_json,
    offset_page,
    offset_param,
    state,
    take,
    viewer,
)
from .routes_illust import parse_date, trend_tags
from .search import search_response
from .world import NOVEL_RANKING_MODES, Work


def get_novel(request: web.Request, param: str = "novel_id") -> Work:
    return get_work(request, "novel", param)


async def detail(request: web.Request) -> web.Response:
    return json_response({"novel": novel_json(request, get_novel(request))})


def webview_html(novel_json_text: str, user_id: int, user_lang: str, title: str) -> str:
    # Layout matters: pixivpy reads `novel:\s({.+}),\s+isOwnWork` (one line), gallery-dl and Pixko cut
    # from "novel: " to the first ",\n". json.dumps never emits a raw newline, and "</" is escaped
    # so novel text cannot end the <script>.
    return f"""<!DOCTYPE html>
<html lang="{user_lang}">
<head>
  <meta charset="utf-8">
  <title>{html.escape(title)}</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
</head>
<body>
  <div id="root"></div>
  <script>
    Object.defineProperty(window, 'pixiv', {{
      value: {{
        sessionUserId: '{user_id}',
        isV2: true,
        userLang: '{user_lang}',
        novel: {novel_json_text},
        isOwnWork: false,
        authorDetails: {{}},
        viewerVersion: '20221031_ai'
      }},
      writable: false,
      configurable: false,
      enumerable: true
    }});
  </script>
</body>
</html>
"""


async def webview(request: web.Request) -> web.Response:
    world = state(request).world
    w = get_novel(request, "id")
    if w.hidden:
        raise ApiError(403, "", "")  # hidden novels have no readable text; Pixiv's exact answer is not recorded
    data = json.dumps(world.webview_novel(w, viewer(request)), ensure_ascii=False).replace("</", "<\\/")
    return web.Response(text=webview_html(data, viewer(request), lang(request), world.title(w)),
                        content_type="text/html")


async def series(request: web.Request) -> web.Response:
    world, n = state(request).world, state(request).config.page_size
    sid_ = int_param(request, "series_id")
    members = world.series_members(sid_, True)
    live = [(order + 1, i) for order, i in enumerate(members) if not world.novel(i).deleted]
    if not live:
        raise ApiError(404, "", "Series not found")  # wording unknown
    last_order = int_param(request, "last_order", 0)
    rest = [(o, i) for o, i in live if o > last_order]
    page, more = rest[:n], len(rest) > n
    first, latest = world.novel(live[0][1]), world.novel(live[-1][1])
    chars = sum(len(world.novel_text(world.novel(i))) for _, i in live if not world.novel(i).hidden)
    detail = {"id": sid_, "title": world.series_title(sid_, True), "caption": "", "is_original": sid_ % 2 == 0,
              "is_concluded": len(members) == 40, "content_count": len(live), "total_character_count": chars,
              "user": world.user_obj(first.user_id, viewer(request)), "display_text": f"全{len(live)}話",
              "novel_ai_type": first.ai_type, "watchlist_added": False}
    return json_response({"novel_series_detail": detail, "novel_series_first_novel": novel_json(request, first),
                          "novel_series_latest_novel": novel_json(request, latest),
                          "novels": [novel_json(request, world.novel(i)) for _, i in page],
                          "next_url": next_url(request, last_order=page[-1][0]) if more else None})


async def new(request: web.Request) -> web.Response:
    world, n = state(request).world, state(request).config.page_size
    max_id = request.query.get("max_novel_id")
    items, more = take(world.iter_new(True, "novel", int(max_id) if max_id else None), 0, n)
    return json_response({"novels": [novel_json(request, w) for w in items],
                          "next_url": next_url(request, max_novel_id=items[-1].id - 1) if more else None})


async def follow(request: web.Request) -> web.Response:
    world = state(request).world
    restrict = request.query.get("restrict", "public")
    if restrict not in ("public", "private", "all"):
        raise ApiError(400, "", compact({"restrict": ["restrict is invalid"]}))
    return offset_page(request, lambda: world.iter_follow_feed(viewer(request), restrict, novel=True), "novels",
                       lambda w: novel_json(request, w))


async def recommended(request: web.Request) -> web.Response:
    world, n = state(request).world, state(request).config.page_size
    offset = offset_param(request)
    idxs = world.recommended_idx(viewer(request), True, False, offset, n)
    ranking_novels = []
    if offset == 0 and request.query.get("include_ranking_novels") == "true":
        ranking_novels = [novel_json(request, world.novel_by_id(i)) for i in world.ranking("day", novel=True)[:3]]
    more = offset + n < n * 10
    return json_response({"novels": [novel_json(request, world.novel(i)) for i in idxs],
                          "ranking_novels": ranking_novels, "privacy_policy": {},
                          "next_url": next_url(request, offset=offset + n) if more else None})


async def ranking(request: web.Request) -> web.Response:
    world = state(request).world
    mode = request.query.get("mode", "day")
    if mode not in NOVEL_RANKING_MODES:
        raise ApiError(400, "", compact({"mode": ["mode is invalid"]}))
    d = parse_date(request.query.get("date"), world.default_ranking_date())
    ids = world.ranking(mode, d, novel=True)
    return offset_page(request, iter(ids), "novels", lambda i: novel_json(request, world.novel_by_id(i)))


async def comments_v3(request: web.Request) -> web.Response:
    return comments_page(request, get_novel(request), v1=False)


async def comments_v1(request: web.Request) -> web.Response:
    # pixivpy's novel_comments still calls v1; whether Pixiv still serves it is unrecorded, so it answers
    # in the v1 shape (parent_comment) like the pixivpy models expect
    return comments_page(request, get_novel(request), v1=True)


async def replies(request: web.Request) -> web.Response:
    return replies_page(request, novel=True)


async def trending(request: web.Request) -> web.Response:
    return json_response({"trend_tags": trend_tags(request, novel=True)})


async def search(request: web.Request) -> web.Response:
    return search_response(request, novel=True)


async def bookmark_detail(request: web.Request) -> web.Response:
    world = state(request).world
    w = get_novel(request)
    b = world.bookmark_of(viewer(request), w.id)
    tags = [{"name": t, "is_registered": True} for t in (b.tags if b else ())]
    return json_response({"bookmark_detail": {"is_bookmarked": b is not None, "tags": tags,
                                              "restrict": b.restrict if b else "public"}})


async def dead(request: web.Request) -> web.Response:
    return dead_endpoint(request)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/v2/novel/detail", detail)
    router.add_get("/webview/v2/novel", webview)
    router.add_get("/v2/novel/series", series)
    router.add_get("/v1/novel/series", series)
    router.add_get("/v1/novel/new", new)
    router.add_get("/v1/novel/follow", follow)
    router.add_get("/v1/novel/recommended", recommended)
    router.add_get("/v1/novel/ranking", ranking)
    router.add_get("/v3/novel/comments", comments_v3)
    router.add_get("/v1/novel/comments", comments_v1)
    router.add_get("/v2/novel/comment/replies", replies)
    router.add_get("/v1/trending-tags/novel", trending)
    router.add_get("/v1/search/novel", search)
    router.add_get("/v2/novel/bookmark/detail", bookmark_detail)
    router.add_get("/v1/novel/text", dead)  # pixivpy#337: gone
