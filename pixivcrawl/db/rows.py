"""Pure functions from pixivcrawl's models to table rows: the ``rows_for`` registry.

A model's fields land in the table's columns of the same name (:func:`row`); only what
is not a field of the model is written out here: ids of nested objects, file facts, the
time a row was seen, and the fan-outs of one item into several tables (a work's user,
tags, pages, series and stats).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any, TypeVar

from pydantic import BaseModel

from pixivcrawl.db.rules import Row, Rows
from pixivcrawl.db.schema import TABLES
from pixivcrawl.models import (
    Bookmark,
    BookmarkTag,
    Comment,
    Follow,
    Illust,
    Novel,
    NovelTag,
    NovelText,
    RankingEntry,
    Series,
    SeriesEntry,
    StoredFile,
    Tag,
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


#: table -> its columns, in table order.
COLUMNS = {name: tuple(c.name for c in table.columns) for name, table in TABLES.items()}
#: Columns every row of a table takes from the time it was seen.
SEEN = frozenset({"first_seen_at", "last_seen_at"})


def row(table: str, model: BaseModel, seen_at: dt.datetime | None = None, /, **given: Any) -> Row:
    """A whole row of ``table``: each column from ``given``, else ``seen_at`` (first/last_seen_at),
    else ``model``'s field of the same name (a column the model has no field for is an error)."""
    if seen_at is not None:
        for column in _SEEN_IN[table]:
            given[column] = seen_at
    plan = (table, *given)
    columns = _FROM_MODEL.get(plan)
    if columns is None:
        columns = _FROM_MODEL[plan] = tuple(c for c in COLUMNS[table] if c not in given)
    fields = model.__dict__  # a pydantic model's field values: faster to read than its attributes
    try:
        values = {c: fields[c] for c in columns}
    except KeyError as exc:
        raise AttributeError(f"{type(model).__name__} has no field for column {table}.{exc.args[0]}") from None
    values.update(given)
    return values


#: (table, the columns given) -> the columns :func:`row` reads from the model.
_FROM_MODEL: dict[tuple[str, ...], tuple[str, ...]] = {}
_SEEN_IN = {name: tuple(c for c in columns if c in SEEN) for name, columns in COLUMNS.items()}


def blank_row(table: str, seen_at: dt.datetime, /, **given: Any) -> Row:
    """A whole row of ``table`` from what little is known: every other column NULL."""
    return {c: given.get(c, seen_at if c in SEEN else None) for c in COLUMNS[table]}


def merge_rows(into: Rows, rows: Rows) -> Rows:
    for table, table_rows in rows.items():
        into.setdefault(table, []).extend(table_rows)
    return into


def user_row(user: User, seen_at: dt.datetime) -> Row:
    file = user.profile_image_file
    return row(
        "users", user, seen_at,
        profile_image_local_path=file.local_path if file else None,
        profile_image_sha256=file.sha256 if file else None,
        detail_fetched_at=seen_at if user.is_detailed else None,
    )


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


def _tag_rows(tags: list[Tag] | list[NovelTag]) -> list[Row]:
    return [{"name": t.name, "translated_name": t.translated_name} for t in tags]


@rows_builder(Illust)
def illust_rows(illust: Illust, seen_at: dt.datetime) -> Rows:
    rows: Rows = {
        "illusts": [row("illusts", illust, seen_at, user_id=illust.user.id or None, status=illust.status.value)]
    }
    if illust.user.id:
        rows["users"] = [user_row(illust.user, seen_at)]
    if illust.status is not WorkStatus.AVAILABLE:
        # A placeholder's blank pages, tags and zero counts say nothing about the work.
        return rows
    if illust.series_id:
        rows["series"] = [series_row("illust", illust.series_id, illust.series_title, illust.user.id, seen_at)]
    rows["illust_pages"] = [
        row(
            "illust_pages", page,
            illust_id=illust.id,
            page=page.index,
            file_url=page.file.url if page.file else None,
            **_file_columns(page.file),
            width=page.file.width if page.file else None,
            height=page.file.height if page.file else None,
            downloaded_at=seen_at if page.file else None,
        )
        for page in illust.pages
    ]
    rows["tags"] = _tag_rows(illust.tags)
    rows["illust_tags"] = [
        {"illust_id": illust.id, "tag": t.name, "position": i} for i, t in enumerate(illust.tags)
    ]
    if ugoira := illust.ugoira:
        animation = ugoira.animation_file
        rows["ugoira"] = [
            row(
                "ugoira", ugoira,
                illust_id=illust.id,
                frames=[f.model_dump() for f in ugoira.frames],
                frame_count=len(ugoira.frames),
                duration_ms=sum(f.delay for f in ugoira.frames),
                **_file_columns(ugoira.zip_file, "zip_"),
                **_file_columns(animation, "animation_"),
                animation_format=_extension(animation),
            )
        ]
    stats = work_stats_row("illust", illust.id, seen_at, illust.total_view, illust.total_bookmarks, illust.total_comments)
    if stats:
        rows["work_stats"] = [stats]
    return rows


def series_row(kind: str, series_id: int, title: str | None, user_id: int | None, seen_at: dt.datetime) -> Row:
    """A series as a work embeds it (id and title); the series spider fills the rest."""
    return blank_row("series", seen_at, kind=kind, id=series_id, title=title or "", user_id=user_id or None)


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
    return {"rankings": [row("rankings", entry, crawled_at=seen_at)]}


@rows_builder(Bookmark)
def bookmark_rows(bookmark: Bookmark, seen_at: dt.datetime) -> Rows:
    # A listing does not say the bookmark's own id.
    return {"bookmarks": [row("bookmarks", bookmark, seen_at, bookmark_id=None)]}


@rows_builder(BookmarkTag)
def bookmark_tag_rows(tag: BookmarkTag, seen_at: dt.datetime) -> Rows:
    return {"bookmark_tags": [row("bookmark_tags", tag, seen_at)]}


@rows_builder(UserRelation)
def user_relation_rows(relation: UserRelation, seen_at: dt.datetime) -> Rows:
    return {"user_relations": [row("user_relations", relation, seen_at)]}


@rows_builder(Follow)
def follow_rows(follow: Follow, seen_at: dt.datetime) -> Rows:
    return {"follows": [row("follows", follow, seen_at)]}


@rows_builder(TrendingTag)
def trending_tag_rows(trend: TrendingTag, seen_at: dt.datetime) -> Rows:
    tag = trend.tag
    return {
        "tags": [row("tags", tag)],
        "trending_tags": [
            row("trending_tags", trend, tag=tag.name, translated_name=tag.translated_name, captured_at=seen_at)
        ],
    }


@rows_builder(Novel)
def novel_rows(novel: Novel, seen_at: dt.datetime) -> Rows:
    cover = novel.cover_file
    rows: Rows = {
        "novels": [
            row(
                "novels", novel, seen_at,
                user_id=novel.user.id or None,
                cover_local_path=cover.local_path if cover else None,
                cover_sha256=cover.sha256 if cover else None,
                status=novel.status.value,
            )
        ]
    }
    if novel.user.id:
        rows["users"] = [user_row(novel.user, seen_at)]
    if novel.status is not WorkStatus.AVAILABLE:
        # As for illusts: a placeholder's empty tags and zero counts say nothing about the work.
        return rows
    if novel.series_id:
        rows["series"] = [series_row("novel", novel.series_id, novel.series_title, novel.user.id, seen_at)]
    rows["tags"] = _tag_rows(novel.tags)
    rows["novel_tags"] = [
        row("novel_tags", t, novel_id=novel.id, tag=t.name, position=i) for i, t in enumerate(novel.tags)
    ]
    stats = work_stats_row("novel", novel.id, seen_at, novel.total_view, novel.total_bookmarks, novel.total_comments)
    if stats:
        rows["work_stats"] = [stats]
    return rows


@rows_builder(NovelText)
def novel_text_rows(text: NovelText, seen_at: dt.datetime) -> Rows:
    return {
        "novel_texts": [row("novel_texts", text, fetched_at=seen_at)],
        "novel_images": [
            row("novel_images", image, seen_at, novel_id=text.novel_id, image_key=image.key, **_file_columns(image.file))
            for image in text.images
        ],
    }


@rows_builder(Series)
def series_rows(series: Series, seen_at: dt.datetime) -> Rows:
    user = series.user
    rows: Rows = {"series": [row("series", series, seen_at, user_id=user.id or None if user else None)]}
    if user and user.id:
        rows["users"] = [user_row(user, seen_at)]
    return rows


@rows_builder(SeriesEntry)
def series_entry_rows(entry: SeriesEntry, seen_at: dt.datetime) -> Rows:
    return {"series_works": [row("series_works", entry, seen_at)]}


@rows_builder(Comment)
def comment_rows(comment: Comment, seen_at: dt.datetime) -> Rows:
    user = comment.user if comment.user and comment.user.id else None
    rows: Rows = {"comments": [row("comments", comment, seen_at, user_id=user.id if user else None)]}
    if user:
        rows["users"] = [user_row(user, seen_at)]
    return rows
