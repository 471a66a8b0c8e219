"""The archive's tables as SQLAlchemy 2.0 typed models: the user's query interface.

Each table also says how the store writes it (:mod:`pixivcrawl.db.rules`): its primary key
is the conflict key, ``info`` on a column its merge rule, ``info`` on the table its default
rule, its children or its history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pixivcrawl.db.rules import AVAILABLE_COALESCE, COALESCE, FILE, FIRST, KEEP, NONBLANK, REPLACE, Merge
from pixivcrawl.db.types import Json, UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Python None is SQL NULL (not JSON null), so COALESCE-style merges and IS NULL work.
JsonType = Json()
WORK_STATUSES = "status IN ('available', 'hidden', 'deleted')"
WORK_KINDS = "IN ('illust', 'novel')"

# SQLite only makes a rowid alias of a column declared exactly INTEGER PRIMARY KEY.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: UtcDateTime(),
        dt.date: sa.Date(),
        dict[str, Any]: JsonType,
        list[Any]: JsonType,
        list[str]: JsonType,
    }

    def __repr__(self) -> str:
        keys = ", ".join(f"{c.key}={getattr(self, c.key)!r}" for c in self.__table__.primary_key)
        return f"<{type(self).__name__} {keys}>"


class SeenMixin:
    """When the crawler first and last saw the row (UTC)."""

    first_seen_at: Mapped[dt.datetime] = mapped_column(index=True, info=KEEP)
    last_seen_at: Mapped[dt.datetime] = mapped_column(index=True, info=REPLACE)


#: A work table's columns take a placeholder's (hidden or deleted) values only for
#: status, restriction and last_seen_at: its blank title and zero counts are not the work's.
PLACEHOLDER_SPEAKS_FOR_STATUS = {"info": {"merge": Merge.IF_AVAILABLE}}
#: The store's upserts leave these tables alone (the run recorder's, the store's own inserts).
NOT_UPSERTED = {"info": {"upsert": False}}


class User(SeenMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(default="", info=NONBLANK)
    account: Mapped[str] = mapped_column(default="", index=True, info=NONBLANK)
    profile_image_url: Mapped[str | None] = mapped_column(info=COALESCE)
    profile_image_local_path: Mapped[str | None] = mapped_column(info=COALESCE)
    profile_image_sha256: Mapped[str | None] = mapped_column(sa.String(64), info=COALESCE)
    comment: Mapped[str | None] = mapped_column(info=COALESCE)
    is_followed: Mapped[bool | None] = mapped_column(info=COALESCE)
    profile: Mapped[dict[str, Any] | None] = mapped_column(info=COALESCE)
    profile_publicity: Mapped[dict[str, Any] | None] = mapped_column(info=COALESCE)
    workspace: Mapped[dict[str, Any] | None] = mapped_column(info=COALESCE)
    detail_fetched_at: Mapped[dt.datetime | None] = mapped_column(info=COALESCE)
    is_muted: Mapped[bool | None] = mapped_column(info=COALESCE)


class Illust(SeenMixin, Base):
    __tablename__ = "illusts"
    __table_args__ = (
        sa.CheckConstraint(WORK_STATUSES, name="status"),
        sa.Index("ix_illusts_user_id_create_date", "user_id", "create_date"),
        PLACEHOLDER_SPEAKS_FOR_STATUS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    user_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(default="")
    type: Mapped[str] = mapped_column(default="illust")
    caption: Mapped[str] = mapped_column(default="")
    restrict: Mapped[int] = mapped_column(default=0)
    x_restrict: Mapped[int] = mapped_column(default=0)
    sanity_level: Mapped[int | None]
    ai_type: Mapped[int] = mapped_column(default=0)
    book_style: Mapped[int | None]
    create_date: Mapped[dt.datetime | None] = mapped_column(index=True)
    # NULL while the work was only ever seen behind a placeholder (its 100x100, 0 pages are not data).
    page_count: Mapped[int | None] = mapped_column(default=1)
    width: Mapped[int | None] = mapped_column(default=0)
    height: Mapped[int | None] = mapped_column(default=0)
    total_view: Mapped[int | None] = mapped_column(info=AVAILABLE_COALESCE)
    total_bookmarks: Mapped[int | None] = mapped_column(info=AVAILABLE_COALESCE)
    total_comments: Mapped[int | None] = mapped_column(info=AVAILABLE_COALESCE)
    is_bookmarked: Mapped[bool | None]
    is_muted: Mapped[bool | None]
    series_id: Mapped[int | None] = mapped_column(BigId, index=True)
    tools: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(sa.String(16), default="available", index=True, info=REPLACE)
    restriction: Mapped[str | None] = mapped_column(info=REPLACE)
    restriction_attributes: Mapped[list[str] | None] = mapped_column(info=AVAILABLE_COALESCE)
    comment_access_control: Mapped[int | None] = mapped_column(info=AVAILABLE_COALESCE)


class IllustPage(Base):
    __tablename__ = "illust_pages"

    illust_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("illusts.id", ondelete="CASCADE"), primary_key=True
    )
    page: Mapped[int] = mapped_column(primary_key=True)
    original_url: Mapped[str | None]
    square_medium_url: Mapped[str | None]
    medium_url: Mapped[str | None]
    large_url: Mapped[str | None]
    file_url: Mapped[str | None] = mapped_column(info=FILE)
    local_path: Mapped[str | None] = mapped_column(info=FILE)
    size: Mapped[int | None] = mapped_column(sa.BigInteger, info=FILE)
    sha256: Mapped[str | None] = mapped_column(sa.String(64), info=FILE)
    width: Mapped[int | None] = mapped_column(info=FILE)
    height: Mapped[int | None] = mapped_column(info=FILE)
    downloaded_at: Mapped[dt.datetime | None] = mapped_column(info=FIRST)


class Tag(Base):
    __tablename__ = "tags"

    name: Mapped[str] = mapped_column(primary_key=True)
    translated_name: Mapped[str | None] = mapped_column(info=COALESCE)


class IllustTag(Base):
    __tablename__ = "illust_tags"
    __table_args__ = (sa.Index("ix_illust_tags_tag_illust_id", "tag", "illust_id"), {"info": {"children_of": "illust_id"}})

    illust_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("illusts.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(sa.ForeignKey("tags.name"), primary_key=True)
    position: Mapped[int]


class Novel(SeenMixin, Base):
    __tablename__ = "novels"
    __table_args__ = (
        sa.CheckConstraint(WORK_STATUSES, name="status"),
        sa.Index("ix_novels_user_id_create_date", "user_id", "create_date"),
        PLACEHOLDER_SPEAKS_FOR_STATUS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    user_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(default="")
    caption: Mapped[str] = mapped_column(default="")
    restrict: Mapped[int] = mapped_column(default=0)
    x_restrict: Mapped[int] = mapped_column(default=0)
    is_original: Mapped[bool | None]
    ai_type: Mapped[int] = mapped_column(default=0)
    create_date: Mapped[dt.datetime | None] = mapped_column(index=True)
    page_count: Mapped[int | None] = mapped_column(default=1)
    text_length: Mapped[int | None] = mapped_column(info=AVAILABLE_COALESCE)
    cover_url: Mapped[str | None]
    cover_local_path: Mapped[str | None] = mapped_column(info=AVAILABLE_COALESCE)
    cover_sha256: Mapped[str | None] = mapped_column(sa.String(64), info=AVAILABLE_COALESCE)
    total_view: Mapped[int | None] = mapped_column(info=AVAILABLE_COALESCE)
    total_bookmarks: Mapped[int | None] = mapped_column(info=AVAILABLE_COALESCE)
    total_comments: Mapped[int | None] = mapped_column(info=AVAILABLE_COALESCE)
    is_bookmarked: Mapped[bool | None]
    is_muted: Mapped[bool | None]
    is_mypixiv_only: Mapped[bool | None]
    is_x_restricted: Mapped[bool | None]
    series_id: Mapped[int | None] = mapped_column(BigId, index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="available", index=True, info=REPLACE)
    restriction: Mapped[str | None] = mapped_column(info=REPLACE)


class NovelTag(Base):
    __tablename__ = "novel_tags"
    __table_args__ = (sa.Index("ix_novel_tags_tag_novel_id", "tag", "novel_id"), {"info": {"children_of": "novel_id"}})

    novel_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("novels.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(sa.ForeignKey("tags.name"), primary_key=True)
    position: Mapped[int]
    added_by_uploaded_user: Mapped[bool | None]


class NovelText(Base):
    """The novel's text; no FK to novels because the webview may be fetched before the detail."""

    __tablename__ = "novel_texts"

    novel_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    text: Mapped[str] = mapped_column(sa.Text)
    plain_text: Mapped[str] = mapped_column(sa.Text)
    length: Mapped[int]
    marker: Mapped[dict[str, Any] | None]
    fetched_at: Mapped[dt.datetime]
    like_count: Mapped[int | None] = mapped_column(info=COALESCE)


class NovelImage(Base):
    """An image a novel's text embeds: ``[uploadedimage:N]`` (kind uploaded) or ``[pixivimage:ID-P]`` (kind pixiv)."""

    __tablename__ = "novel_images"
    __table_args__ = (sa.CheckConstraint("kind IN ('uploaded', 'pixiv')", name="kind"),)

    novel_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    image_key: Mapped[str] = mapped_column(primary_key=True)
    illust_id: Mapped[int | None] = mapped_column(BigId, index=True)
    page: Mapped[int | None]
    sanity_level: Mapped[int | None]
    url: Mapped[str | None]
    urls: Mapped[dict[str, Any] | None]
    local_path: Mapped[str | None] = mapped_column(info=FILE)
    size: Mapped[int | None] = mapped_column(sa.BigInteger, info=FILE)
    sha256: Mapped[str | None] = mapped_column(sa.String(64), info=FILE)
    first_seen_at: Mapped[dt.datetime] = mapped_column(info=KEEP)
    last_seen_at: Mapped[dt.datetime]


class Series(SeenMixin, Base):
    __tablename__ = "series"
    __table_args__ = (sa.CheckConstraint(f"kind {WORK_KINDS}", name="kind"),)

    kind: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(default="", info=NONBLANK)
    caption: Mapped[str | None] = mapped_column(info=COALESCE)
    user_id: Mapped[int | None] = mapped_column(BigId, index=True, info=COALESCE)
    cover_url: Mapped[str | None] = mapped_column(info=COALESCE)
    work_count: Mapped[int | None] = mapped_column(info=COALESCE)
    create_date: Mapped[dt.datetime | None] = mapped_column(info=COALESCE)
    is_original: Mapped[bool | None] = mapped_column(info=COALESCE)
    is_concluded: Mapped[bool | None] = mapped_column(info=COALESCE)
    total_character_count: Mapped[int | None] = mapped_column(info=COALESCE)
    width: Mapped[int | None] = mapped_column(info=COALESCE)
    height: Mapped[int | None] = mapped_column(info=COALESCE)
    watchlist_added: Mapped[bool | None] = mapped_column(info=COALESCE)
    ai_type: Mapped[int | None] = mapped_column(info=COALESCE)
    display_text: Mapped[str | None] = mapped_column(info=COALESCE)


class SeriesWork(SeenMixin, Base):
    """A work's place in its series; no FK, because works and series arrive in any order."""

    __tablename__ = "series_works"
    __table_args__ = (
        sa.CheckConstraint(f"kind {WORK_KINDS}", name="kind"),
        sa.Index("ix_series_works_kind_series_id_position", "kind", "series_id", "position"),
        sa.Index("ix_series_works_kind_work_id", "kind", "work_id"),
    )

    kind: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    series_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    work_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    position: Mapped[int]


class Comment(SeenMixin, Base):
    __tablename__ = "comments"
    __table_args__ = (
        sa.CheckConstraint(f"work_kind {WORK_KINDS}", name="work_kind"),
        sa.Index("ix_comments_work_kind_work_id", "work_kind", "work_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    work_kind: Mapped[str] = mapped_column(sa.String(16))
    work_id: Mapped[int] = mapped_column(BigId)
    parent_id: Mapped[int | None] = mapped_column(BigId, index=True)
    user_id: Mapped[int | None] = mapped_column(BigId, index=True)
    text: Mapped[str] = mapped_column(sa.Text, default="", info=NONBLANK)
    stamp_id: Mapped[int | None]
    stamp_url: Mapped[str | None]
    date: Mapped[dt.datetime | None]
    has_replies: Mapped[bool | None]


class Ranking(Base):
    """One work's place in one ranking (illust or novel); keyed by work so a re-crawl moves it, never duplicates it."""

    __tablename__ = "rankings"
    __table_args__ = (
        sa.CheckConstraint(f"kind {WORK_KINDS}", name="kind"),
        sa.Index("ix_rankings_kind_mode_date_rank", "kind", "mode", "date", "rank"),
        sa.Index("ix_rankings_kind_work_id_date", "kind", "work_id", "date"),
    )

    kind: Mapped[str] = mapped_column(sa.String(16), primary_key=True, server_default="illust")
    mode: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    date: Mapped[dt.date] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    rank: Mapped[int]
    crawled_at: Mapped[dt.datetime]


class Bookmark(SeenMixin, Base):
    __tablename__ = "bookmarks"
    __table_args__ = (
        sa.CheckConstraint(f"work_kind {WORK_KINDS}", name="work_kind"),
        sa.Index("ix_bookmarks_work_kind_work_id", "work_kind", "work_id"),
    )

    user_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    work_kind: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    work_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    restrict: Mapped[str] = mapped_column(sa.String(16), default="public")
    bookmark_id: Mapped[int | None] = mapped_column(BigId, info=COALESCE)
    # NULL until a crawl asked for the bookmark's tags (bookmarks -a tags=true).
    tags: Mapped[list[str] | None] = mapped_column(info=COALESCE)


class BookmarkTag(SeenMixin, Base):
    """A bookmark tag of a user's illust or novel bookmarks, public or private, with how many bookmarks carry it."""

    __tablename__ = "bookmark_tags"
    __table_args__ = (sa.CheckConstraint(f"kind {WORK_KINDS}", name="kind"),)

    user_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    restrict: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    name: Mapped[str] = mapped_column(primary_key=True)
    count: Mapped[int | None]


class UserRelation(SeenMixin, Base):
    """A user in one of another user's lists: related, mypixiv, recommended (to the account) or listed (/v2/user/list)."""

    __tablename__ = "user_relations"
    __table_args__ = (
        sa.CheckConstraint("relation IN ('related', 'mypixiv', 'recommended', 'listed')", name="relation"),
    )

    relation: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    other_user_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False, index=True)
    position: Mapped[int | None]


class Follow(SeenMixin, Base):
    __tablename__ = "follows"

    user_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    followed_user_id: Mapped[int] = mapped_column(BigId, primary_key=True, index=True)
    restrict: Mapped[str] = mapped_column(sa.String(16), default="public")


class Ugoira(Base):
    __tablename__ = "ugoira"

    illust_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("illusts.id", ondelete="CASCADE"), primary_key=True
    )
    zip_url: Mapped[str]
    frames: Mapped[list[Any]]
    frame_count: Mapped[int]
    duration_ms: Mapped[int]
    zip_local_path: Mapped[str | None] = mapped_column(info=FILE)
    zip_size: Mapped[int | None] = mapped_column(sa.BigInteger, info=FILE)
    zip_sha256: Mapped[str | None] = mapped_column(sa.String(64), info=FILE)
    animation_local_path: Mapped[str | None] = mapped_column(info=FILE)
    animation_format: Mapped[str | None] = mapped_column(sa.String(16), info=FILE)
    animation_size: Mapped[int | None] = mapped_column(sa.BigInteger, info=FILE)
    animation_sha256: Mapped[str | None] = mapped_column(sa.String(64), info=FILE)


class WorkStat(Base):
    """Counters over time: a row is added only when a work's counts change."""

    __tablename__ = "work_stats"
    __table_args__ = (sa.CheckConstraint(f"kind {WORK_KINDS}", name="kind"), {"info": {"history": "captured_at"}})

    kind: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    work_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    captured_at: Mapped[dt.datetime] = mapped_column(primary_key=True)
    total_view: Mapped[int | None]
    total_bookmarks: Mapped[int | None]
    total_comments: Mapped[int | None]


class TrendingTag(Base):
    __tablename__ = "trending_tags"
    __table_args__ = (sa.CheckConstraint(f"kind {WORK_KINDS}", name="kind"),)

    kind: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    date: Mapped[dt.date] = mapped_column(primary_key=True)
    tag: Mapped[str] = mapped_column(primary_key=True, index=True)
    position: Mapped[int]
    translated_name: Mapped[str | None]
    work_id: Mapped[int | None] = mapped_column(BigId)
    captured_at: Mapped[dt.datetime]


class CrawlRun(Base):
    __tablename__ = "crawl_runs"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('running', 'finished', 'interrupted', 'failed', 'lost')", name="status"
        ),
        NOT_UPSERTED,
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    spider: Mapped[str] = mapped_column(sa.String(64), index=True)
    arguments: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[dt.datetime] = mapped_column(index=True)
    finished_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(sa.String(16), default="running", index=True)
    finish_reason: Mapped[str | None]
    counts: Mapped[dict[str, Any] | None]
    # Who runs it, and when it last said it was alive: a run whose process is gone
    # or whose heartbeat stopped is marked `lost` by the next crawl.
    host: Mapped[str | None] = mapped_column(sa.String(255))
    pid: Mapped[int | None]
    heartbeat_at: Mapped[dt.datetime | None]
    # The crawl a worker's run belongs to (PIXIV_REDIS_URL): every worker of one crawl shares it.
    crawl_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    # The archive plan job (`scrapy archive`) this crawl ran for, if any.
    job: Mapped[str | None] = mapped_column(sa.String(128), index=True)


WORK_EVENTS = "event IN ('new', 'hidden', 'deleted', 'restored', 'reuploaded', 'retitled', 'retagged')"


class WorkEvent(Base):
    """What a crawl found changed about a work: new to the archive, hidden, deleted, back, re-uploaded, retitled, retagged."""

    __tablename__ = "work_events"
    __table_args__ = (
        sa.CheckConstraint(f"kind {WORK_KINDS}", name="kind"),
        sa.CheckConstraint(WORK_EVENTS, name="event"),
        sa.Index("ix_work_events_kind_work_id", "kind", "work_id"),
        NOT_UPSERTED,
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("crawl_runs.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    work_id: Mapped[int] = mapped_column(BigId)
    event: Mapped[str] = mapped_column(sa.String(16), index=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    # Before and after, for the events that have them: {"old": ..., "new": ...}.
    detail: Mapped[dict[str, Any] | None]


class Reject(Base):
    """An item refused by validation or by the store, kept with its raw JSON for a later look."""

    __tablename__ = "rejects"
    __table_args__ = NOT_UPSERTED

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(sa.String(32), index=True)
    object_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    spider: Mapped[str | None] = mapped_column(sa.String(64))
    url: Mapped[str | None]
    reason: Mapped[str] = mapped_column(sa.String(32))
    error: Mapped[str]
    raw: Mapped[str] = mapped_column(sa.Text)
    rejected_at: Mapped[dt.datetime] = mapped_column(index=True)


class ArchiveMeta(Base):
    """Facts about the archive itself, such as ``sandbox`` (it holds the demo's fake works)."""

    __tablename__ = "archive_meta"
    __table_args__ = NOT_UPSERTED

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[str]
    updated_at: Mapped[dt.datetime]


TABLES: dict[str, sa.Table] = dict(Base.metadata.tables)
