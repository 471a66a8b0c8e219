"""Pure functions from pixivcrawl's models to table rows: the ``rows_for`` registry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any, TypeVar

from pixivcrawl.db.rules import Row, Rows
from pixivcrawl.models import (
    Bookmark,
    BookmarkTag,
    Comment,
    Follow,
    Illust,
    Novel,
    NovelText,
    RankingEntry,
    Series,
    SeriesEntry,
    StoredFile,
    TrendingTag,
    User,
    UserRelation,
    WorkStatus,
)

M = TypeVar("M")
RowBuilder = Callable[[Any, dt.datetime], Rows]

#: model class -> function(item, seen_at) -> {table: [row, ...]}. See :func:`rows_builder`.
ROW_BUILDERS: dict[type, RowBuilder] = {}


def rows_builder(model: type[M]) -> Callable[[Callable[[M, dt.datetime], Rows]], Callable[[M, dt.datetime], Rows]]:
    """Register the function that turns ``model`` items into rows.

    Rows must carry every column of their table the builder knows about, the
    same keys for every row of a table, so a batch becomes one multi-row INSERT.
    """

    def register(func: Callable[[M, dt.datetime], Rows]) -> Callable[[M, dt.datetime], Rows]:
        ROW_BUILDERS[model] = func
        return func

    return register


def builder_for(item: object) -> RowBuilder | None:
    for cls in type(item).__mro__:
        if cls in ROW_BUILDERS:
            return ROW_BUILDERS[cls]
    return None


def rows_for(item: object, seen_at: dt.datetime) -> Rows:
    """The rows that archive ``item`` as seen at ``seen_at``; TypeError for an unknown type."""
    builder = builder_for(item)
    if builder is None:
        raise TypeError(f"no rows builder for {type(item).__name__}")
    return builder(item, seen_at)


def merge_rows(into: Rows, rows: Rows) -> Rows:
    for table, table_rows in rows.items():
        into.setdefault(table, []).extend(table_rows)
    return into


def user_row(user: User, seen_at: dt.datetime) -> Row:
    return {
        "id": user.id,
        "name": user.name,
        "account": user.account,
        "profile_image_url": user.profile_image_url,
        "profile_image_local_path": user.profile_image_file.local_path if user.profile_image_file else None,
        "profile_image_sha256": user.profile_image_file.sha256 if user.profile_image_file else None,
        "comment": user.comment,
        "is_followed": user.is_followed,
        "is_muted": user.is_muted,
        "profile": user.profile,
        "profile_publicity": user.profile_publicity,
        "workspace": user.workspace,
        "detail_fetched_at": seen_at if user.is_detailed else None,
        "first_seen_at": seen_at,
        "last_seen_at": seen_at,
    }


@rows_builder(User)
def user_rows(user: User, seen_at: dt.datetime) -> Rows:
    return {"users": [user_row(user, seen_at)]} if user.id else {}


def _file_columns(file: StoredFile | None, prefix: str = "") -> Row:
    return {
        f"{prefix}local_path": file.local_path if file else None,
        f"{prefix}size": file.size if file else None,
        f"{prefix}sha256": file.sha256 if file else None,
    }


def _extension(file: StoredFile | None) -> str | None:
    return PurePosixPath(file.local_path).suffix.lstrip(".").lower() or None if file else None


def _illust_row(illust: Illust, seen_at: dt.datetime) -> Row:
    return {
        "id": illust.id,
        "user_id": illust.user.id or None,
        "title": illust.title,
        "type": illust.type,
        "caption": illust.caption,
        "restrict": illust.restrict,
        "x_restrict": illust.x_restrict,
        "sanity_level": illust.sanity_level,
        "ai_type": illust.ai_type,
        "book_style": illust.book_style,
        "create_date": illust.create_date,
        "page_count": illust.page_count,
        "width": illust.width,
        "height": illust.height,
        "total_view": illust.total_view,
        "total_bookmarks": illust.total_bookmarks,
        "total_comments": illust.total_comments,
        "is_bookmarked": illust.is_bookmarked,
        "is_muted": illust.is_muted,
        "series_id": illust.series_id,
        "tools": list(illust.tools),
        "status": illust.status.value,
        "restriction": illust.restriction,
        "restriction_attributes": illust.restriction_attributes,
        "comment_access_control": illust.comment_access_control,
        "first_seen_at": seen_at,
        "last_seen_at": seen_at,
    }


@rows_builder(Illust)
def illust_rows(illust: Illust, seen_at: dt.datetime) -> Rows:
    rows: Rows = {"illusts": [_illust_row(illust, seen_at)]}
    if illust.user.id:
        rows["users"] = [user_row(illust.user, seen_at)]
    if illust.status is not WorkStatus.AVAILABLE:
        # A placeholder's blank pages, tags and zero counts say nothing about the work.
        return rows
    if illust.series_id:
        rows["series"] = [series_row("illust", illust.series_id, illust.series_title, illust.user.id, seen_at)]
    rows["illust_pages"] = [
        {
            "illust_id": illust.id,
            "page": page.index,
            "original_url": page.original_url,
            "square_medium_url": page.square_medium_url,
            "medium_url": page.medium_url,
            "large_url": page.large_url,
            "file_url": page.file.url if page.file else None,
            **_file_columns(page.file),
            "width": page.file.width if page.file else None,
            "height": page.file.height if page.file else None,
            "downloaded_at": seen_at if page.file else None,
        }
        for page in illust.pages
    ]
    rows["tags"] = [{"name": t.name, "translated_name": t.translated_name} for t in illust.tags]
    rows["illust_tags"] = [
        {"illust_id": illust.id, "tag": t.name, "position": i} for i, t in enumerate(illust.tags)
    ]
    if illust.ugoira:
        ugoira = illust.ugoira
        animation = ugoira.animation_file
        rows["ugoira"] = [
            {
                "illust_id": illust.id,
                "zip_url": ugoira.zip_url,
                "frames": [f.model_dump() for f in ugoira.frames],
                "frame_count": len(ugoira.frames),
                "duration_ms": sum(f.delay for f in ugoira.frames),
                **_file_columns(ugoira.zip_file, "zip_"),
                **_file_columns(animation, "animation_"),
                "animation_format": _extension(animation),
            }
        ]
    stats = work_stats_row("illust", illust.id, seen_at, illust.total_view, illust.total_bookmarks, illust.total_comments)
    if stats:
        rows["work_stats"] = [stats]
    return rows


def series_row(kind: str, series_id: int, title: str | None, user_id: int | None, seen_at: dt.datetime) -> Row:
    """A series as a work embeds it (id and title); the series spider fills the rest."""
    return {
        "kind": kind,
        "id": series_id,
        "title": title or "",
        "caption": None,
        "user_id": user_id or None,
        "cover_url": None,
        "work_count": None,
        "create_date": None,
        "is_original": None,
        "is_concluded": None,
        "total_character_count": None,
        "width": None,
        "height": None,
        "watchlist_added": None,
        "ai_type": None,
        "display_text": None,
        "first_seen_at": seen_at,
        "last_seen_at": seen_at,
    }


def work_stats_row(
    kind: str, work_id: int, seen_at: dt.datetime, views: int | None, bookmarks: int | None, comments: int | None
) -> Row | None:
    if views is None and bookmarks is None and comments is None:
        return None
    return {
        "kind": kind,
        "work_id": work_id,
        "captured_at": seen_at,
        "total_view": views,
        "total_bookmarks": bookmarks,
        "total_comments": comments,
    }


@rows_builder(RankingEntry)
def ranking_rows(entry: RankingEntry, seen_at: dt.datetime) -> Rows:
    return {
        "rankings": [
            {
                "kind": entry.kind,
                "mode": entry.mode,
                "date": entry.date,
                "work_id": entry.work_id,
                "rank": entry.rank,
                "crawled_at": seen_at,
            }
        ]
    }


@rows_builder(Bookmark)
def bookmark_rows(bookmark: Bookmark, seen_at: dt.datetime) -> Rows:
    return {
        "bookmarks": [
            {
                "user_id": bookmark.user_id,
                "work_kind": bookmark.work_kind,
                "work_id": bookmark.work_id,
                "restrict": bookmark.restrict,
                "bookmark_id": None,
                "tags": bookmark.tags,
                "first_seen_at": seen_at,
                "last_seen_at": seen_at,
            }
        ]
    }


@rows_builder(BookmarkTag)
def bookmark_tag_rows(tag: BookmarkTag, seen_at: dt.datetime) -> Rows:
    row = tag.model_dump()
    return {"bookmark_tags": [{**row, "first_seen_at": seen_at, "last_seen_at": seen_at}]}


@rows_builder(UserRelation)
def user_relation_rows(relation: UserRelation, seen_at: dt.datetime) -> Rows:
    row = relation.model_dump()
    return {"user_relations": [{**row, "first_seen_at": seen_at, "last_seen_at": seen_at}]}


@rows_builder(Follow)
def follow_rows(follow: Follow, seen_at: dt.datetime) -> Rows:
    return {
        "follows": [
            {
                "user_id": follow.user_id,
                "followed_user_id": follow.followed_user_id,
                "restrict": follow.restrict,
                "first_seen_at": seen_at,
                "last_seen_at": seen_at,
            }
        ]
    }


@rows_builder(TrendingTag)
def trending_tag_rows(trend: TrendingTag, seen_at: dt.datetime) -> Rows:
    return {
        "tags": [{"name": trend.tag.name, "translated_name": trend.tag.translated_name}],
        "trending_tags": [
            {
                "kind": trend.kind,
                "date": trend.date,
                "tag": trend.tag.name,
                "position": trend.position,
                "translated_name": trend.tag.translated_name,
                "work_id": trend.work_id,
                "captured_at": seen_at,
            }
        ],
    }


def _novel_row(novel: Novel, seen_at: dt.datetime) -> Row:
    return {
        "id": novel.id,
        "user_id": novel.user.id or None,
        "title": novel.title,
        "caption": novel.caption,
        "restrict": novel.restrict,
        "x_restrict": novel.x_restrict,
        "is_original": novel.is_original,
        "ai_type": novel.ai_type,
        "create_date": novel.create_date,
        "page_count": novel.page_count,
        "text_length": novel.text_length,
        "cover_url": novel.cover_url,
        "cover_local_path": novel.cover_file.local_path if novel.cover_file else None,
        "cover_sha256": novel.cover_file.sha256 if novel.cover_file else None,
        "total_view": novel.total_view,
        "total_bookmarks": novel.total_bookmarks,
        "total_comments": novel.total_comments,
        "is_bookmarked": novel.is_bookmarked,
        "is_muted": novel.is_muted,
        "is_mypixiv_only": novel.is_mypixiv_only,
        "is_x_restricted": novel.is_x_restricted,
        "series_id": novel.series_id,
        "status": novel.status.value,
        "restriction": novel.restriction,
        "first_seen_at": seen_at,
        "last_seen_at": seen_at,
    }


@rows_builder(Novel)
def novel_rows(novel: Novel, seen_at: dt.datetime) -> Rows:
    rows: Rows = {"novels": [_novel_row(novel, seen_at)]}
    if novel.user.id:
        rows["users"] = [user_row(novel.user, seen_at)]
    if novel.status is not WorkStatus.AVAILABLE:
        # As for illusts: a placeholder's empty tags and zero counts say nothing about the work.
        return rows
    if novel.series_id:
        rows["series"] = [series_row("novel", novel.series_id, novel.series_title, novel.user.id, seen_at)]
    rows["tags"] = [{"name": t.name, "translated_name": t.translated_name} for t in novel.tags]
    rows["novel_tags"] = [
        {"novel_id": novel.id, "tag": t.name, "position": i, "added_by_uploaded_user": t.added_by_uploaded_user}
        for i, t in enumerate(novel.tags)
    ]
    stats = work_stats_row("novel", novel.id, seen_at, novel.total_view, novel.total_bookmarks, novel.total_comments)
    if stats:
        rows["work_stats"] = [stats]
    return rows


@rows_builder(NovelText)
def novel_text_rows(text: NovelText, seen_at: dt.datetime) -> Rows:
    return {
        "novel_texts": [
            {
                "novel_id": text.novel_id,
                "text": text.text,
                "plain_text": text.plain_text,
                "length": text.length,
                "marker": text.marker,
                "fetched_at": seen_at,
                "like_count": text.like_count,
            }
        ],
        "novel_images": [
            {
                "novel_id": text.novel_id,
                "kind": image.kind,
                "image_key": image.key,
                "illust_id": image.illust_id,
                "page": image.page,
                "sanity_level": image.sanity_level,
                "url": image.url,
                "urls": image.urls,
                **_file_columns(image.file),
                "first_seen_at": seen_at,
                "last_seen_at": seen_at,
            }
            for image in text.images
        ],
    }


@rows_builder(Series)
def series_rows(series: Series, seen_at: dt.datetime) -> Rows:
    user_id = series.user.id if series.user else None
    row = series_row(series.kind, series.id, series.title, user_id, seen_at)
    row.update(
        caption=series.caption,
        cover_url=series.cover_url,
        work_count=series.work_count,
        create_date=series.create_date,
        is_original=series.is_original,
        is_concluded=series.is_concluded,
        total_character_count=series.total_character_count,
        width=series.width,
        height=series.height,
        watchlist_added=series.watchlist_added,
        ai_type=series.ai_type,
        display_text=series.display_text,
    )
    rows: Rows = {"series": [row]}
    if series.user and series.user.id:
        rows["users"] = [user_row(series.user, seen_at)]
    return rows


@rows_builder(SeriesEntry)
def series_entry_rows(entry: SeriesEntry, seen_at: dt.datetime) -> Rows:
    return {
        "series_works": [
            {
                "kind": entry.kind,
                "series_id": entry.series_id,
                "work_id": entry.work_id,
                "position": entry.position,
                "first_seen_at": seen_at,
                "last_seen_at": seen_at,
            }
        ]
    }


@rows_builder(Comment)
def comment_rows(comment: Comment, seen_at: dt.datetime) -> Rows:
    rows: Rows = {
        "comments": [
            {
                "id": comment.id,
                "work_kind": comment.work_kind,
                "work_id": comment.work_id,
                "parent_id": comment.parent_id,
                "user_id": comment.user.id if comment.user and comment.user.id else None,
                "text": comment.text,
                "stamp_id": comment.stamp_id,
                "stamp_url": comment.stamp_url,
                "date": comment.date,
                "has_replies": comment.has_replies,
                "first_seen_at": seen_at,
                "last_seen_at": seen_at,
            }
        ]
    }
    if comment.user and comment.user.id:
        rows["users"] = [user_row(comment.user, seen_at)]
    return rows
