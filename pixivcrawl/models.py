"""Pydantic models of the Pixiv objects pixivcrawl archives.

These are the items that reach the store: spiders emit raw API objects
(:class:`pixivcrawl.items.ApiObject`) and the validation pipeline turns them
into these models with the pure functions of :mod:`pixivcrawl.parsing`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PrivateAttr

#: What the archive's integer columns hold (BIGINT, SQLite INTEGER): ids and counts must fit.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: Longest ugoira frame delay accepted (ms; about 24 days): delays summed over a zip stay far inside INT64.
MAX_FRAME_DELAY = 2**31 - 1
#: Every integer field: a value past a 64-bit signed integer refuses the item (checked in pydantic's core).
#: Its bounds use gt/lt so that a field's own ge/le (below) add to them instead of replacing them.
Int64 = Annotated[int, Field(gt=INT64_MIN - 1, lt=INT64_MAX + 1)]


class WorkStatus(StrEnum):
    """Whether Pixiv showed a work, hid it behind a placeholder, or deleted it."""

    AVAILABLE = "available"
    HIDDEN = "hidden"
    DELETED = "deleted"


class PixivModel(BaseModel):
    # Pixiv adds fields over time; unknown ones are ignored, known ones checked.
    model_config = ConfigDict(extra="ignore", validate_assignment=True)
    #: Fields pixivcrawl fills itself (downloaded files, what it concluded): never read from Pixiv's JSON.
    OWN_FIELDS: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def pixiv_fields(cls, data: dict[str, Any]) -> dict[str, Any]:
        """The values of ``data`` (a Pixiv object) named as this model's fields are: a field
        Pixiv sends under its own name needs no parser code."""
        names = _PIXIV_NAMES.get(cls)
        if names is None:
            names = _PIXIV_NAMES[cls] = frozenset(cls.model_fields.keys() - cls.OWN_FIELDS)
        return {k: v for k, v in data.items() if k in names}


_PIXIV_NAMES: dict[type[PixivModel], frozenset[str]] = {}


class ItemModel(PixivModel):
    """A model the validation pipeline makes an item of (what a parser returns), not one only nested in another.

    Only these carry ``_source``: a private attribute costs every instance its
    initialisation, and a ranked work's tags and pages are many.
    """

    # The API object this model was parsed from (kind, raw JSON, URL), for the rejects table.
    _source: Any = PrivateAttr(default=None)


class Tag(PixivModel):
    name: str = Field(min_length=1)
    translated_name: str | None = None


class User(ItemModel):
    OWN_FIELDS = frozenset({"profile_image_file"})

    id: Int64 = Field(ge=0)
    name: str = ""
    account: str = ""
    profile_image_url: str | None = None
    # The full-size avatar, when PIXIV_DOWNLOAD_PROFILE_IMAGES fetched it.
    profile_image_file: StoredFile | None = None
    comment: str | None = None
    is_followed: bool | None = None
    # Whether the account muted this user: user_previews entries (following, followers...) say it.
    is_muted: bool | None = None
    # Only on /v1/user/detail: the profile, its publicity and the workspace, as Pixiv sends them.
    profile: dict[str, Any] | None = None
    profile_publicity: dict[str, Any] | None = None
    workspace: dict[str, Any] | None = None

    @property
    def is_detailed(self) -> bool:
        return self.profile is not None


class StoredFile(PixivModel):
    """A downloaded file: where it is (relative to FILES_STORE) and how to check it."""

    url: str
    local_path: str
    size: Int64 = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    width: Int64 | None = None
    height: Int64 | None = None


class Page(PixivModel):
    index: Int64 = Field(ge=0)
    original_url: str | None = None
    square_medium_url: str | None = None
    medium_url: str | None = None
    large_url: str | None = None
    file: StoredFile | None = None


class UgoiraFrame(PixivModel):
    file: str
    delay: Int64 = Field(ge=0, le=MAX_FRAME_DELAY)


class Ugoira(PixivModel):
    zip_url: str
    frames: list[UgoiraFrame]
    # Why the frame metadata was unusable (then ``frames`` is empty): the zip is kept, no animation is made.
    metadata_error: str | None = None
    zip_file: StoredFile | None = None
    animation_file: StoredFile | None = None


class Illust(ItemModel):
    """An illustration, manga or ugoira, with its user, tags and pages."""

    OWN_FIELDS = frozenset({"pages", "status", "restriction", "ugoira"})

    id: Int64 = Field(ge=1)
    title: str = ""
    type: str = "illust"
    caption: str = ""
    restrict: Int64 = 0
    x_restrict: Int64 = 0
    sanity_level: Int64 | None = None
    ai_type: Int64 = 0
    book_style: Int64 | None = None
    create_date: dt.datetime | None = None
    # None when only a placeholder was seen: its 100x100 and page counts are not the work's.
    page_count: Int64 | None = Field(default=1, ge=0)
    width: Int64 | None = 0
    height: Int64 | None = 0
    total_view: Int64 | None = None
    total_bookmarks: Int64 | None = None
    total_comments: Int64 | None = None
    is_bookmarked: bool | None = None
    is_muted: bool | None = None
    series_id: Int64 | None = None
    series_title: str | None = None
    tools: list[str] = []
    user: User
    tags: list[Tag] = []
    pages: list[Page] = []
    status: WorkStatus = WorkStatus.AVAILABLE
    # The placeholder Pixiv showed instead of the work, e.g. "limit_sanity_level".
    restriction: str | None = None
    ugoira: Ugoira | None = None
    # e.g. ["restricted_mode"] on some list items; the detail's comment_access_control.
    restriction_attributes: list[str] | None = None
    comment_access_control: Int64 | None = None


class RankingEntry(ItemModel):
    kind: str = Field(default="illust", pattern=r"^(illust|novel)$")
    mode: str
    date: dt.date
    rank: Int64 = Field(ge=1)
    work_id: Int64 = Field(ge=1, validation_alias=AliasChoices("work_id", "illust_id"))


class NovelTag(Tag):
    added_by_uploaded_user: bool | None = None


class Novel(ItemModel):
    """A novel's metadata (reference §5.2); its text is a :class:`NovelText`."""

    OWN_FIELDS = frozenset({"cover_file", "status", "restriction"})

    id: Int64 = Field(ge=1)
    title: str = ""
    caption: str = ""
    restrict: Int64 = 0
    x_restrict: Int64 = 0
    is_original: bool | None = None
    # novel_ai_type: 0 unknown, 1 not AI, 2 AI-generated (named like Illust.ai_type).
    ai_type: Int64 = 0
    create_date: dt.datetime | None = None
    page_count: Int64 | None = Field(default=1, ge=0)
    text_length: Int64 | None = None
    # The work's own cover; None for Pixiv's default covers and placeholders.
    cover_url: str | None = None
    cover_file: StoredFile | None = None
    total_view: Int64 | None = None
    total_bookmarks: Int64 | None = None
    total_comments: Int64 | None = None
    is_bookmarked: bool | None = None
    is_muted: bool | None = None
    is_mypixiv_only: bool | None = None
    is_x_restricted: bool | None = None
    visible: bool | None = None
    series_id: Int64 | None = None
    series_title: str | None = None
    user: User
    tags: list[NovelTag] = []
    status: WorkStatus = WorkStatus.AVAILABLE
    restriction: str | None = None


class NovelText(ItemModel):
    """A novel's text as Pixiv stores it (with markup) and as plain text for search."""

    novel_id: Int64 = Field(ge=1)
    text: str
    plain_text: str
    length: Int64 = Field(ge=0)
    marker: dict[str, Any] | None = None
    # rating.like of the webview page: the novel's like count is given nowhere else.
    like_count: Int64 | None = None
    images: list[NovelImage] = []


class NovelImage(PixivModel):
    """An image in a novel's text: ``[uploadedimage:N]`` (``kind`` uploaded) or ``[pixivimage:ID-P]`` (pixiv)."""

    kind: str = Field(pattern=r"^(uploaded|pixiv)$")
    # The novelImageId, or "ID-P" of an illust page.
    key: str = Field(pattern=r"^[0-9A-Za-z_-]+$")  # parsing.IMAGE_KEY
    illust_id: Int64 | None = None
    page: Int64 | None = None
    sanity_level: Int64 | None = None
    url: str | None = None
    urls: dict[str, Any] | None = None
    file: StoredFile | None = None


class Series(ItemModel):
    """An illust (manga) or novel series, from its detail envelope."""

    kind: str = Field(pattern=r"^(illust|novel)$")
    id: Int64 = Field(ge=1)
    title: str = ""
    caption: str | None = None
    user: User | None = None
    cover_url: str | None = None
    work_count: Int64 | None = Field(default=None, ge=0)
    create_date: dt.datetime | None = None
    is_original: bool | None = None
    is_concluded: bool | None = None
    total_character_count: Int64 | None = None
    width: Int64 | None = None
    height: Int64 | None = None
    watchlist_added: bool | None = None
    ai_type: Int64 | None = None
    display_text: str | None = None


class SeriesEntry(ItemModel):
    """A work's place in its series: ``position`` 1 is the first work."""

    kind: str = Field(pattern=r"^(illust|novel)$")
    series_id: Int64 = Field(ge=1)
    work_id: Int64 = Field(ge=1)
    position: Int64 = Field(ge=1)


class Comment(ItemModel):
    """A comment on an illust or novel; replies carry their ``parent_id``."""

    id: Int64 = Field(ge=1)
    work_kind: str = Field(pattern=r"^(illust|novel)$")
    work_id: Int64 = Field(ge=1)
    parent_id: Int64 | None = None
    user: User | None = None
    text: str = ""
    date: dt.datetime | None = None
    has_replies: bool | None = None
    stamp_id: Int64 | None = None
    stamp_url: str | None = None


class Bookmark(ItemModel):
    """A user's bookmark of a work; ``tags`` is None when they were not asked for."""

    user_id: Int64 = Field(ge=1)
    work_kind: str = Field(pattern=r"^(illust|novel)$")
    work_id: Int64 = Field(ge=1)
    restrict: str = Field(pattern=r"^(public|private)$")
    tags: list[str] | None = None


class Follow(ItemModel):
    """``user_id`` follows ``followed_user_id``, publicly or privately."""

    user_id: Int64 = Field(ge=1)
    followed_user_id: Int64 = Field(ge=1)
    restrict: str = Field(pattern=r"^(public|private)$")


class BookmarkTag(ItemModel):
    """A tag of ``user_id``'s ``kind`` bookmarks (``restrict`` public or private), on ``count`` of them."""

    user_id: Int64 = Field(ge=1)
    kind: str = Field(pattern=r"^(illust|novel)$")
    restrict: str = Field(pattern=r"^(public|private)$")
    name: str = Field(min_length=1)
    count: Int64 | None = Field(default=None, ge=0)


class UserRelation(ItemModel):
    """``other_user_id`` is in ``user_id``'s list ``relation`` (related, mypixiv, recommended, listed)."""

    relation: str = Field(pattern=r"^(related|mypixiv|recommended|listed)$")
    user_id: Int64 = Field(ge=1)
    other_user_id: Int64 = Field(ge=1)
    position: Int64 | None = Field(default=None, ge=1)


class TrendingTag(ItemModel):
    """A tag in Pixiv's trending list on ``date``, with the work Pixiv showed for it."""

    kind: str = Field(pattern=r"^(illust|novel)$")
    date: dt.date
    position: Int64 = Field(ge=1)
    tag: Tag
    work_id: Int64 | None = None
