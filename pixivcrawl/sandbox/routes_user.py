"""User routes: detail, works, bookmarks (max_bookmark_id cursor), bookmark tags, follows, recommendations."""
from __future__ import annotations

from aiohttp import web

from .encoding import compact
from .responses import (
    ApiError,
    illust_json,
    int_param,
    json_response,
    next_url,
    novel_json,
    offset_page,
    state,
    user_preview,
    viewer,
)
from .search import search_user

USER_GONE = "User has left pixiv or the user ID does not exist."


def get_user(request: web.Request, param: str = "user_id") -> int:
    user_id = int_param(request, param)
    if not state(request).world.user_exists(user_id):
        raise ApiError(404, USER_GONE)
    return user_id


def get_restrict(request: web.Request, allowed: tuple[str, ...] = ("public", "private")) -> str:
    restrict = request.query.get("restrict", "public")
    if restrict not in allowed:
        raise ApiError(400, "", compact({"restrict": ["restrict is invalid"]}))
    return restrict


async def detail(request: web.Request) -> web.Response:
    return json_response(state(request).world.user_detail(get_user(request), viewer(request)))


async def illusts(request: web.Request) -> web.Response:
    world = state(request).world
    user_id = get_user(request)
    typ = request.query.get("type", "illust")
    if typ not in ("illust", "manga"):
        raise ApiError(400, "", compact({"type": ["type is invalid"]}))
    extra = {"user": world.user_obj(user_id, viewer(request))}
    return offset_page(request, lambda: world.iter_user_works(user_id, typ), "illusts",
                       lambda w: illust_json(request, w),
                       extra=extra)


async def novels(request: web.Request) -> web.Response:
    world = state(request).world
    user_id = get_user(request)
    extra = {"user": world.user_obj(user_id, viewer(request))}
    return offset_page(request, lambda: world.iter_user_works(user_id, "novel"), "novels",
                       lambda w: novel_json(request, w),
                       extra=extra)


def _bookmarks(request: web.Request, kind: str) -> web.Response:
    st = state(request)
    world, n = st.world, st.config.page_size
    user_id = get_user(request)
    restrict = get_restrict(request)
    if restrict == "private" and user_id != viewer(request):
        raise ApiError(403, "", "")  # others' private bookmarks are not visible (status is a guess)
    entries = world.filter_bookmarks(user_id, kind, restrict, request.query.get("tag"))
    cursor = request.query.get("max_bookmark_id")
    if cursor:
        try:
            limit = int(cursor)
        except ValueError:
            raise ApiError(400, "", compact({"max_bookmark_id": ["max_bookmark_id is invalid"]})) from None
        # inclusive: next_url carries the bookmark id of the next page's first item (Pixiv's exact
        # convention is not recorded; following next_url verbatim works either way)
        entries = [b for b in entries if b.bookmark_id <= limit]
    page, rest = entries[:n], entries[n:]
    get = world.novel if kind == "novel" else world.illust
    conv = novel_json if kind == "novel" else illust_json
    items = [conv(request, get(b.idx)) for b in page]
    url = next_url(request, max_bookmark_id=rest[0].bookmark_id) if rest else None
    return json_response({"novels" if kind == "novel" else "illusts": items, "next_url": url})


async def bookmarks_illust(request: web.Request) -> web.Response:
    return _bookmarks(request, "illust")


async def bookmarks_novel(request: web.Request) -> web.Response:
    return _bookmarks(request, "novel")


def _bookmark_tags(request: web.Request, kind: str) -> web.Response:
    world = state(request).world
    user_id = get_user(request)
    restrict = get_restrict(request)
    tags = world.bookmark_tags(user_id, kind, restrict)
    return offset_page(request, iter(tags), "bookmark_tags", lambda t: t)


async def bookmark_tags_illust(request: web.Request) -> web.Response:
    return _bookmark_tags(request, "illust")


async def bookmark_tags_novel(request: web.Request) -> web.Response:
    return _bookmark_tags(request, "novel")


async def following(request: web.Request) -> web.Response:
    world = state(request).world
    user_id = get_user(request)
    ids = world.following_ids(user_id, get_restrict(request))
    return offset_page(request, iter(ids), "user_previews", lambda u: user_preview(request, u), capped=True)


async def follower(request: web.Request) -> web.Response:
    world = state(request).world
    ids = world.follower_ids(get_user(request))
    return offset_page(request, iter(ids), "user_previews", lambda u: user_preview(request, u))


async def mypixiv(request: web.Request) -> web.Response:
    world = state(request).world
    ids = world.mypixiv_ids(get_user(request))
    return offset_page(request, iter(ids), "user_previews", lambda u: user_preview(request, u))


async def recommended(request: web.Request) -> web.Response:
    world = state(request).world
    ids = world.recommended_user_ids(viewer(request))
    return offset_page(request, iter(ids), "user_previews", lambda u: user_preview(request, u))


async def related(request: web.Request) -> web.Response:
    world = state(request).world
    ids = world.related_user_ids(get_user(request, "seed_user_id"))
    return json_response({"user_previews": [user_preview(request, u) for u in ids], "next_url": None})


async def user_list(request: web.Request) -> web.Response:
    world = state(request).world
    ids = world.listed_user_ids(get_user(request))
    return offset_page(request, iter(ids), "user_previews", lambda u: user_preview(request, u))


async def write_ok(request: web.Request) -> web.Response:
    await request.post()
    return json_response({})


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/v1/user/detail", detail)
    router.add_get("/v1/user/illusts", illusts)
    router.add_get("/v1/user/novels", novels)
    router.add_get("/v1/user/bookmarks/illust", bookmarks_illust)
    router.add_get("/v1/user/bookmarks/novel", bookmarks_novel)
    router.add_get("/v1/user/bookmark-tags/illust", bookmark_tags_illust)
    router.add_get("/v1/user/bookmark-tags/novel", bookmark_tags_novel)
    router.add_get("/v1/user/following", following)
    router.add_get("/v1/user/follower", follower)
    router.add_get("/v1/user/mypixiv", mypixiv)
    router.add_get("/v1/user/recommended", recommended)
    router.add_get("/v1/user/related", related)
    router.add_get("/v2/user/list", user_list)
    router.add_get("/v1/search/user", search_user)
    router.add_post("/v1/user/follow/add", write_ok)
    router.add_post("/v1/user/follow/delete", write_ok)
