"""Comment lists (v1, v3) and replies for illusts and novels."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from .responses import ApiError, int_param, json_response, next_url, offset_param, state
from .world import Work
from .world.rand import K_COMMENT, rng
from .world.social import REPLY_BASE

LINES = ["素敵です！", "色使いが綺麗ですね", "Amazing work!", "好きです…", "続きが楽しみです！", "神", "かわいい",
         "This is so cool <3", "背景の描き込みがすごい", "wwww"]


def comment_json(request: web.Request, cid: int, ts: int, has_replies: bool | None) -> dict[str, Any]:
    world = state(request).world
    r = rng(world.seed, K_COMMENT, 3, cid)
    user_id = 1 + r.randrange(world.n_users)
    # one commenter in 25 has left pixiv: `user` is null then (pixivpy models allow it)
    user = None if cid % 25 == 3 else {k: v for k, v in world.user_obj(user_id).items()
                                       if k in ("id", "name", "account", "profile_image_urls")}
    c: dict[str, Any] = {"id": cid, "comment": r.choice(LINES), "date": world.iso(ts + r.randrange(60, 86400 * 30)),
                         "user": user}
    if has_replies is not None:
        c["has_replies"] = has_replies
    # One comment in eight is a stamp: an empty text and the stamp (pixivpy's Comment.stamp).
    stamp_id = 100 + cid % 400
    stamp_url = f"{world.static_base}/common/images/stamp/generated-stamps/{stamp_id}_s.jpg"
    c["stamp"] = {"stamp_id": stamp_id, "stamp_url": stamp_url} if cid % 8 == 5 else None
    if c["stamp"]:
        c["comment"] = ""
    return c


def comments_page(request: web.Request, w: Work, v1: bool) -> web.Response:
    world, n = state(request).world, state(request).config.page_size
    offset = offset_param(request)
    total = world.comment_count(w)
    ks = range(total - 1, -1, -1)[offset: offset + n]  # newest first
    items = []
    for k in ks:
        cid = world.comment_id(w, k)
        c = comment_json(request, cid, w.ts, None if v1 else world.reply_count(cid) > 0)
        if v1:
            c["parent_comment"] = {}
        items.append(c)
    body: dict[str, Any] = {"total_comments": total, "comments": items,
                            "next_url": next_url(request, offset=offset + n) if offset + n < total else None,
                            "comment_access_control": 0}
    return json_response(body)


def replies_page(request: web.Request, novel: bool) -> web.Response:
    world = state(request).world
    cid = int_param(request, "comment_id")
    parent = world.comment_parent(cid)
    if parent is None or parent[0] != novel:
        raise ApiError(404, "", "Comment not found")  # wording unknown
    w = world.novel(parent[1]) if novel else world.illust(parent[1])
    items = [comment_json(request, REPLY_BASE + cid * 8 + j, w.ts + 3600, False) for j in range(world.reply_count(cid))]
    return json_response({"comments": items, "next_url": None})



