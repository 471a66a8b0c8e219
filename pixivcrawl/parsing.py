"""Pure functions from App API JSON to pixivcrawl's models.

No Response, no I/O: each takes the decoded JSON of one object (plus context)
and returns a model, raising ``pydantic.ValidationError`` or ``ValueError`` when
the payload is not what Pixiv sends. Tests feed them sample payloads.

A field Pixiv sends under the model's own name is read as it is
(:meth:`~pixivcrawl.models.PixivModel.pixiv_fields`); the parsers say only what
differs: renamed and nested values, nulls that mean a default, statuses, pages
and placeholders.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from pixivcrawl.models import (
    Bookmark,
    BookmarkTag,
    Comment,
    Follow,
    Illust,
    ItemModel,
    Novel,
    NovelImage,
    NovelText,
    RankingEntry,
    Series,
    SeriesEntry,
    Tag,
    TrendingTag,
    Ugoira,
    UgoiraFrame,
    User,
    UserRelation,
    WorkStatus,
)
from pixivcrawl.novel_text import pixiv_images, plain_text, webview_novel

#: Pixiv's shared images (no avatar, default novel covers, ``limit_*`` placeholders) live here.
COMMON_IMAGES = "/common/images/"
PLACEHOLDER_PATH = f"{COMMON_IMAGES}limit_"
#: What a novel image's id may be: it names the file (``novels/<novel_id>_image<key>``).
IMAGE_KEY = re.compile(r"[0-9A-Za-z_-]+")


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
    return User.model_validate(user_fields(data, detail))


def user_fields(data: dict[str, Any], detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """The fields of a :class:`User`, for it or for a model it is nested in (validated in one pass)."""
    images = data.get("profile_image_urls") or {}
    detail = detail or {}
    return {
        **User.pixiv_fields(data),
        # Only /v1/user/detail has them, beside the user object.
        "profile": detail.get("profile"),
        "profile_publicity": detail.get("profile_publicity"),
        "workspace": detail.get("workspace"),
        "id": int(data["id"]),
        "name": data.get("name") or "",
        "account": data.get("account") or "",
        "profile_image_url": images.get("medium") or images.get("px_170x170"),
    }


def parse_user_detail(data: dict[str, Any]) -> User:
    """A user from the whole ``/v1/user/detail`` response."""
    return parse_user(data["user"], detail=data)


def _pages(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The fields of each :class:`Page` (validated with the work, in one pass)."""
    meta_pages = data.get("meta_pages") or []
    if meta_pages:
        return [_page(i, p["image_urls"], p["image_urls"].get("original")) for i, p in enumerate(meta_pages)]
    return [_page(0, data.get("image_urls") or {}, (data.get("meta_single_page") or {}).get("original_image_url"))]


def _page(index: int, images: dict[str, Any], original: Any) -> dict[str, Any]:
    return {"index": index, "original_url": original, "square_medium_url": images.get("square_medium"),
            "medium_url": images.get("medium"), "large_url": images.get("large")}


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


def parse_ugoira(metadata: dict[str, Any]) -> Ugoira:
    """``ugoira_metadata`` of ``/v1/ugoira/metadata``: the zip URL and each frame's file and delay (ms)."""
    zip_urls = metadata.get("zip_urls") or {}
    zip_url = zip_urls.get("medium") or next(iter(zip_urls.values()))
    try:
        frames = [UgoiraFrame(file=f["file"], delay=f["delay"]) for f in metadata["frames"]]
    except (ValidationError, KeyError, TypeError) as exc:
        # Bad frames cost only the animation: the illust and its zip are still archived.
        return Ugoira(zip_url=zip_url, frames=[], metadata_error=first_error(exc))
    if not frames:
        return Ugoira(zip_url=zip_url, frames=[], metadata_error="frames: none")
    return Ugoira(zip_url=zip_url, frames=frames)


def first_error(exc: Exception) -> str:
    """The first problem of a failed parse, in one line: ``where: what``."""
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "object"
        return f"{where}: {err['msg']}"
    return f"{type(exc).__name__}: {exc}"


def shown(data: dict[str, Any], available: bool, key: str, default: Any = None) -> Any:
    """``data[key]`` of a work Pixiv shows; None behind a placeholder, whose 0 views,
    100x100 size and page counts are not the work's."""
    return data.get(key, default) if available else None


def parse_illust(data: dict[str, Any]) -> Illust:
    """An illust; ``ugoira_metadata`` (added by the spider for ugoira works) fills ``ugoira``."""
    status, restriction = illust_status(data)
    available = status is WorkStatus.AVAILABLE
    series = data.get("series") or {}
    pages = _pages(data) if available else []
    metadata = data.get("ugoira_metadata") if available else None
    return Illust.model_validate({
        **Illust.pixiv_fields(data),
        "id": data["id"],
        "title": data.get("title") or "",
        "type": data.get("type") or "illust",
        "caption": data.get("caption") or "",
        "restrict": data.get("restrict") or 0,
        "x_restrict": data.get("x_restrict") or 0,
        "sanity_level": shown(data, available, "sanity_level"),
        "ai_type": data.get("illust_ai_type") or 0,
        "book_style": data.get("illust_book_style"),
        "page_count": shown(data, available, "page_count", 1),
        "width": shown(data, available, "width", 0),
        "height": shown(data, available, "height", 0),
        "total_view": shown(data, available, "total_view"),
        "total_bookmarks": shown(data, available, "total_bookmarks"),
        "total_comments": shown(data, available, "total_comments"),
        "series_id": series.get("id"),
        "series_title": series.get("title"),
        "tools": data.get("tools") or [],
        "user": user_fields(data["user"]),
        "tags": [{"name": t["name"], "translated_name": t.get("translated_name")} for t in data.get("tags") or []],
        "pages": pages,
        "status": status,
        "restriction": restriction,
        "ugoira": parse_ugoira(metadata) if metadata else None,
    })


def parse_deleted_illust(data: dict[str, Any]) -> Illust:
    """A work the API answered 404 for: only its id is known."""
    return Illust(
        id=data["id"],
        user=User(id=0),
        page_count=None,
        width=None,
        height=None,
        status=WorkStatus.DELETED,
        restriction="deleted",
    )


def parse_ranking_entry(data: dict[str, Any]) -> RankingEntry:
    return RankingEntry.model_validate(data)


def cover_url(data: dict[str, Any]) -> str | None:
    """The novel's own cover, largest first; None for default covers and placeholders."""
    images = data.get("image_urls") or {}
    url = images.get("large") or images.get("medium") or images.get("square_medium")
    # Coverless novels point at s.pximg.net/common/images/novel_thumb/...: not the work's.
    if not url or "/common/images/" in url:
        return None
    return url


def parse_novel(data: dict[str, Any]) -> Novel:
    # Same placeholder rules as illusts (reference §4.4): limit_* URLs, user id 0, visible false.
    status, restriction = illust_status(data)
    series = data.get("series") or {}
    available = status is WorkStatus.AVAILABLE
    return Novel.model_validate({
        **Novel.pixiv_fields(data),
        "id": data["id"],
        "title": data.get("title") or "",
        "caption": data.get("caption") or "",
        "restrict": data.get("restrict") or 0,
        "x_restrict": data.get("x_restrict") or 0,
        "ai_type": data.get("novel_ai_type") or 0,
        "page_count": shown(data, available, "page_count", 1),
        "text_length": shown(data, available, "text_length"),
        "cover_url": cover_url(data) if available else None,
        "total_view": shown(data, available, "total_view"),
        "total_bookmarks": shown(data, available, "total_bookmarks"),
        "total_comments": shown(data, available, "total_comments"),
        "series_id": series.get("id") or None,
        "series_title": series.get("title"),
        "user": user_fields(data["user"]),
        "tags": [
            {"name": t["name"], "translated_name": t.get("translated_name"),
             "added_by_uploaded_user": t.get("added_by_uploaded_user")}
            for t in data.get("tags") or []
        ],
        "status": status,
        "restriction": restriction,
    })


def parse_deleted_novel(data: dict[str, Any]) -> Novel:
    """A novel the API answered 404 for: only its id is known."""
    return Novel(id=data["id"], user=User(id=0), page_count=None, status=WorkStatus.DELETED, restriction="deleted")


def parse_novel_text(data: dict[str, Any]) -> NovelText:
    """The text of novel ``id`` from its webview page (``html``)."""
    novel = webview_novel(data["html"])
    if str(novel["id"]) != str(data["id"]):
        raise ValueError(f"the webview page holds novel {novel['id']}")
    text = novel["text"]
    if not isinstance(text, str):
        raise TypeError("novel.text is not a string")
    plain = plain_text(text)
    marker = novel.get("marker")
    rating = novel.get("rating")
    return NovelText(
        novel_id=data["id"],
        text=text,
        plain_text=plain,
        length=len(plain),
        marker=marker if isinstance(marker, dict) else None,
        like_count=rating.get("like") if isinstance(rating, dict) else None,
        images=novel_images(novel),
    )


def novel_images(novel: dict[str, Any]) -> list[NovelImage]:
    """The images of a webview ``novel``: its ``images`` map (``[uploadedimage:N]``; ``[]`` when
    empty) and the illust pages its text shows with ``[pixivimage:ID-P]``."""
    uploaded = novel.get("images")
    images = [
        NovelImage(
            kind="uploaded",
            key=str(image.get("novelImageId") or key),
            sanity_level=image.get("sl"),
            url=(image.get("urls") or {}).get("original"),
            urls=image.get("urls"),
        )
        for key, image in (uploaded.items() if isinstance(uploaded, dict) else ())
        # An image entry Pixiv shapes otherwise is left out, never the novel's text with it.
        if isinstance(image, dict) and IMAGE_KEY.fullmatch(str(image.get("novelImageId") or key))
        and isinstance(image.get("urls") or {}, dict)
    ]
    embedded = illusts if isinstance(illusts := novel.get("illusts"), dict) else {}
    for key, illust_id, page in pixiv_images(novel["text"]):
        entry = found if isinstance(found := embedded.get(key), dict) else {}
        urls = (entry.get("illust") or {}).get("images")
        # The page's own URLs, unless the illust is hidden from the reader (visible false).
        url = urls.get("original") if isinstance(urls, dict) and entry.get("visible") is not False else None
        images.append(NovelImage(kind="pixiv", key=key, illust_id=illust_id, page=page, url=url, urls=urls or None))
    return images


def parse_illust_series(data: dict[str, Any]) -> Series:
    """``illust_series_detail`` of ``/v1/illust/series``."""
    covers = data.get("cover_image_urls") or {}
    return Series.model_validate({
        **Series.pixiv_fields(data),
        "kind": "illust",
        "id": data["id"],
        "title": data.get("title") or "",
        "user": parse_user(data["user"]) if data.get("user") else None,
        "cover_url": covers.get("medium"),
        "work_count": data.get("series_work_count"),
    })


def parse_novel_series(data: dict[str, Any]) -> Series:
    """``novel_series_detail`` of ``/v2/novel/series``."""
    return Series.model_validate({
        **Series.pixiv_fields(data),
        "kind": "novel",
        "id": data["id"],
        "title": data.get("title") or "",
        "user": parse_user(data["user"]) if data.get("user") else None,
        "work_count": data.get("content_count"),
        "ai_type": data.get("novel_ai_type"),
    })


def parse_series_entry(data: dict[str, Any]) -> SeriesEntry:
    return SeriesEntry.model_validate(data)


def parse_comment(data: dict[str, Any]) -> Comment:
    """A comment (v3 or replies) with its ``work_kind``, ``work_id`` and ``parent_id`` context."""
    stamp = data.get("stamp") or {}
    user = data.get("user")
    return Comment.model_validate({
        **Comment.pixiv_fields(data),
        "id": data["id"],
        "work_kind": data["work_kind"],
        "work_id": data["work_id"],
        "parent_id": data.get("parent_id") or (data.get("parent_comment") or {}).get("id"),
        # A commenter who left Pixiv comes as null (or with id 0).
        "user": parse_user(user) if user and user.get("id") else None,
        "text": data.get("comment") or "",
        "stamp_id": stamp.get("stamp_id"),
        "stamp_url": stamp.get("stamp_url"),
    })


def parse_trending_tag(data: dict[str, Any]) -> TrendingTag:
    """One ``trend_tags`` entry, with ``kind``, ``date`` and ``position`` added by the spider;
    the work shown with it is an illust in both lists."""
    work = data.get("illust") or {}
    return TrendingTag(
        kind=data["kind"],
        date=data["date"],
        position=data["position"],
        tag=Tag(name=data["tag"], translated_name=data.get("translated_name")),
        work_id=work.get("id"),
    )


Parser = Callable[[dict[str, Any]], ItemModel]

#: ``ApiObject.kind`` -> parser. Each source registers the kinds it emits here.
PARSERS: dict[str, Parser] = {
    "illust": parse_illust,
    "illust_deleted": parse_deleted_illust,
    "ranking_entry": parse_ranking_entry,
    "bookmark": Bookmark.model_validate,
    "bookmark_tag": BookmarkTag.model_validate,
    "user_relation": UserRelation.model_validate,
    "follow": Follow.model_validate,
    "trending_tag": parse_trending_tag,
    "user": parse_user,
    "user_detail": parse_user_detail,
    "novel": parse_novel,
    "novel_deleted": parse_deleted_novel,
    "novel_text": parse_novel_text,
    "illust_series": parse_illust_series,
    "novel_series": parse_novel_series,
    "series_entry": parse_series_entry,
    "comment": parse_comment,
}
