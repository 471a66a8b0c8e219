"""Pure functions from App API JSON to pixivcrawl's models.

No Response, no I/O: each takes the decoded JSON of one object (plus context)
and returns a model, raising ``pydantic.ValidationError`` or ``ValueError`` when
the payload is not what Pixiv sends. Tests feed them sample payloads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pixivcrawl.models import (
    Illust,
    Page,
    PixivModel,
    RankingEntry,
    Tag,
    User,
    WorkStatus,
)

PLACEHOLDER_PATH = "/common/images/limit_"


def placeholder_name(url: str | None) -> str | None:
    """``limit_sanity_level`` for a ``.../common/images/limit_sanity_level_360.png`` URL.

    Recognised by path, whatever the host: mirrors and the sandbox rewrite hosts.
    """
    if not url or PLACEHOLDER_PATH not in url:
        return None
    name = url.rsplit("/", 1)[-1].split(".", 1)[0]
    return name.removesuffix("_360")


def parse_user(data: dict[str, Any], detail: dict[str, Any] | None = None) -> User:
    """A user from an embedded ``user`` object, or from ``/v1/user/detail`` when ``detail`` is given."""
    images = data.get("profile_image_urls") or {}
    return User(
        id=int(data["id"]),
        name=data.get("name") or "",
        account=data.get("account") or "",
        profile_image_url=images.get("medium") or images.get("px_170x170"),
        comment=data.get("comment"),
        is_followed=data.get("is_followed"),
        profile=(detail or {}).get("profile"),
        profile_publicity=(detail or {}).get("profile_publicity"),
        workspace=(detail or {}).get("workspace"),
    )


def parse_user_detail(data: dict[str, Any]) -> User:
    """A user from the whole ``/v1/user/detail`` response."""
    return parse_user(data["user"], detail=data)


def _pages(data: dict[str, Any]) -> list[Page]:
    meta_pages = data.get("meta_pages") or []
    if meta_pages:
        return [
            Page(
                index=i,
                original_url=p["image_urls"].get("original"),
                square_medium_url=p["image_urls"].get("square_medium"),
                medium_url=p["image_urls"].get("medium"),
                large_url=p["image_urls"].get("large"),
            )
            for i, p in enumerate(meta_pages)
        ]
    images = data.get("image_urls") or {}
    return [
        Page(
            index=0,
            original_url=(data.get("meta_single_page") or {}).get("original_image_url"),
            square_medium_url=images.get("square_medium"),
            medium_url=images.get("medium"),
            large_url=images.get("large"),
        )
    ]


def illust_status(data: dict[str, Any]) -> tuple[WorkStatus, str | None]:
    """The status of an illust object and the placeholder it carries, if any."""
    images = data.get("image_urls") or {}
    urls = [*images.values(), (data.get("meta_single_page") or {}).get("original_image_url")]
    restriction = next((n for n in map(placeholder_name, urls) if n), None)
    # Pixiv lists deleted works (mostly in bookmarks) as limit_unknown with user id 0.
    if restriction == "limit_unknown" or not (data.get("user") or {}).get("id"):
        return WorkStatus.DELETED, restriction or "deleted"
    if restriction or data.get("visible") is False:
        return WorkStatus.HIDDEN, restriction
    return WorkStatus.AVAILABLE, None


def parse_illust(data: dict[str, Any]) -> Illust:
    status, restriction = illust_status(data)
    series = data.get("series") or {}
    pages = _pages(data) if status is WorkStatus.AVAILABLE else []
    return Illust(
        id=data["id"],
        title=data.get("title") or "",
        type=data.get("type") or "illust",
        caption=data.get("caption") or "",
        restrict=data.get("restrict") or 0,
        x_restrict=data.get("x_restrict") or 0,
        sanity_level=data.get("sanity_level"),
        ai_type=data.get("illust_ai_type") or 0,
        book_style=data.get("illust_book_style"),
        create_date=data.get("create_date"),
        page_count=data.get("page_count", 1),
        width=data.get("width") or 0,
        height=data.get("height") or 0,
        total_view=data.get("total_view"),
        total_bookmarks=data.get("total_bookmarks"),
        total_comments=data.get("total_comments"),
        is_bookmarked=data.get("is_bookmarked"),
        is_muted=data.get("is_muted"),
        series_id=series.get("id"),
        series_title=series.get("title"),
        tools=data.get("tools") or [],
        user=parse_user(data["user"]),
        tags=[Tag(name=t["name"], translated_name=t.get("translated_name")) for t in data.get("tags") or []],
        pages=pages,
        status=status,
        restriction=restriction,
    )


def parse_deleted_illust(data: dict[str, Any]) -> Illust:
    """A work the API answered 404 for: only its id is known."""
    return Illust(
        id=data["id"],
        user=User(id=0),
        page_count=0,
        status=WorkStatus.DELETED,
        restriction="deleted",
    )


def parse_ranking_entry(data: dict[str, Any]) -> RankingEntry:
    return RankingEntry.model_validate(data)


Parser = Callable[[dict[str, Any]], PixivModel]

#: ``ApiObject.kind`` -> parser. Each source registers the kinds it emits here.
PARSERS: dict[str, Parser] = {
    "illust": parse_illust,
    "illust_deleted": parse_deleted_illust,
    "ranking_entry": parse_ranking_entry,
    "user": parse_user,
    "user_detail": parse_user_detail,
}
