"""Request helpers of the API routes: parameters, paging, work lookups, JSON answers and error bodies."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from .encoding import Raw, compact, encode
from .state import STATE, VIEWER, State
from .world import Work

OFFSET_CAP = 5000


class ApiError(Exception):
    """Raised by handlers: becomes a Pixiv error body."""

    def __init__(self, status: int, user_message: str = "", message: str = "") -> None:
        super().__init__(message or user_message)
        self.status, self.user_message, self.message = status, user_message, message


def error_body(user_message: str = "", message: str = "") -> dict[str, Any]:
    return {"error": {"user_message": user_message, "message": message, "reason": "", "user_message_details": {}}}


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=encode(data), status=status, headers=headers, content_type="application/json",
                        charset="utf-8")


def state(request: web.Request) -> State:
    return request.app[STATE]


def viewer(request: web.Request) -> int:
    return request.get(VIEWER, 0)


def lang(request: web.Request) -> str:
    # Without Accept-Language Pixiv's choice is unknown; English translations are served then.
    return (request.headers.get("Accept-Language") or "en")[:2].lower()


def int_param(request: web.Request, name: str, default: int | None = None) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        if default is None:
            raise ApiError(400, "", compact({name: [f"{name} is required"]}))
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, "", compact({name: [f"{name} must be an integer"]})) from None


DELETED = "Work has been deleted or the ID does not exist."


def get_work(request: web.Request, kind: str, param: str) -> Work:
    """The illust or novel named by query parameter ``param``; Pixiv's 404 body if it is gone."""
    world = state(request).world
    w = (world.illust_by_id if kind == "illust" else world.novel_by_id)(int_param(request, param))
    if w is None or w.deleted:
        raise ApiError(404, DELETED)
    return w


def offset_param(request: web.Request, capped: bool = False) -> int:
    offset = int_param(request, "offset", 0)
    if offset < 0:
        raise ApiError(400, "", compact({"offset": ["offset must be a positive number"]}))
    if capped and offset > OFFSET_CAP:
        state(request).stats.inc("offset_cap")
        raise ApiError(400, "", compact({"offset": [f"offset must be no more than {OFFSET_CAP}"]}))
    return offset


def next_url(request: web.Request, drop: Iterable[str] = (), **overrides: Any) -> str:
    """Absolute next_url echoing the request's params (as sent) with `overrides` replaced or appended."""
    pairs = [(k, v) for k, v in request.query.items() if k not in overrides and k not in drop]
    pairs += [(k, str(v)) for k, v in overrides.items()]
    return f"{state(request).api_base}{request.path}?{urlencode(pairs)}"


def take(it: Iterator[Any], offset: int, n: int) -> tuple[list[Any], bool]:
    chunk = list(islice(it, offset, offset + n + 1))
    return chunk[:n], len(chunk) > n


def take_cached(request: web.Request, it: Iterator[Any] | Callable[[], Iterator[Any]], offset: int,
                n: int) -> tuple[list[Any], bool]:
    if not callable(it) or hasattr(it, "__next__"):
        return take(it, offset, n)  # type: ignore[arg-type]
    st = state(request)
    key = (request.path, tuple(sorted((k, v) for k, v in request.query.items() if k != "offset")),
           viewer(request), st.world.revision)
    chunk = st.prefix(key, it, offset + n + 1)[offset:]
    return chunk[:n], len(chunk) > n


def offset_page(request: web.Request, it: Iterator[Any] | Callable[[], Iterator[Any]], key: str,
                convert: Callable[[Any], Any], capped: bool = False, extra: dict[str, Any] | None = None,
                limit: int | None = None) -> web.Response:
    """One offset-paged list; pass a zero-argument factory as `it` to have deep offsets remembered."""
    offset = offset_param(request, capped)
    n = state(request).config.page_size
    items, more = take_cached(request, it, offset, n)
    if limit is not None and offset + n >= limit:
        more = False
    body = {key: [convert(x) for x in items], **(extra or {}),
            "next_url": next_url(request, offset=offset + n) if more else None}
    return json_response(body)


def illust_json(request: web.Request, w: Any, detail: bool = False) -> Raw:
    st = state(request)
    return st.fragment(False, w.idx, lang(request), viewer(request), st.world.revision, detail)


def novel_json(request: web.Request, w: Any) -> Raw:
    st = state(request)
    return st.fragment(True, w.idx, lang(request), viewer(request), st.world.revision, False)


def user_preview(request: web.Request, user_id: int) -> Raw:
    world = state(request).world
    return Raw(encode({"user": world.user_preview_user(user_id, viewer(request)),
                       "illusts": [illust_json(request, w) for w in world.latest_works(user_id, "any")],
                       "novels": [novel_json(request, w) for w in world.latest_works(user_id, "novel")],
                       "is_muted": world.is_muted(user_id)}))


def dead_endpoint(request: web.Request) -> web.Response:
    ja = lang(request) == "ja"
    message = "指定されたエンドポイントは存在しません" if ja else "Specified end-point doesn't exist"
    return json_response(error_body(message), 404)



async def send_truncated(request: web.Request, resp: web.Response) -> web.StreamResponse:
    body = bytes(resp.body)  # type: ignore[arg-type]
    out = web.StreamResponse(status=resp.status, headers={"Content-Type": resp.headers.get("Content-Type", "")})
    out.content_length = len(body)
    await out.prepare(request)
    await out.write(body[: len(body) // 2])
    if request.transport is not None:
        request.transport.close()
    return out
