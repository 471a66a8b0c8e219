"""The App API catalogue: hosts, app headers, endpoints and parameter values.

Everything a spider needs to name an endpoint or validate an argument lives
here, so the values users may pass are written once (and the README lists them).
Each endpoint is an :class:`Endpoint`: its path and the parameters it is sent, in
order, with their defaults (``filter`` is PIXIV_FILTER wherever an endpoint takes it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlencode

# Download slots (see DOWNLOAD_SLOTS in settings.py): API calls are paced
# together; images come from a CDN and run in parallel on their own slot.
API_SLOT: Final = "pixiv-api"
IMAGE_SLOT: Final = "pixiv-images"
AUTH_SLOT: Final = "pixiv-auth"

# The public client of the Android/iOS apps, the same in every open-source client.
CLIENT_ID: Final = "MOBrBDS8blbauoSck0ZfDbtuzpyT"
CLIENT_SECRET: Final = "lsACyCD94FhDUtGTXi3QzcFE2uU1hqtDaKeqrdwj"
HASH_SECRET: Final = "28c1fdd170a5204386cb1313c7077b34f83e4aaf4aa829ce78c231e05b0bae2c"

APP_HEADERS: Final = {
    "App-OS": "ios",
    "App-OS-Version": "16.7.2",
    "App-Version": "7.19.1",
    "User-Agent": "PixivIOSApp/7.19.1 (iOS 16.7.2; iPhone12,8)",
}
# i.pximg.net answers 403 without it, on every size.
IMAGE_REFERER: Final = "https://app-api.pixiv.net/"

# The `filter` parameter (PIXIV_FILTER): the iOS app's value, the Android app's, or sent empty.
FILTERS: Final = ("for_ios", "for_android", "")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One App API endpoint: its ``path`` and the ``params`` it is sent, in the order sent.

    ``filter`` among the params takes the crawl's PIXIV_FILTER; ``fixed`` params are sent
    with the same value every time; the rest come from the caller, and None leaves one out.
    """

    path: str
    params: tuple[str, ...] = ()
    fixed: Mapping[str, str] = field(default_factory=dict)

    def query(self, values: Mapping[str, Any], filter_value: str) -> str:
        """The query string of a request with ``values``, its defaults filled in."""
        unknown = set(values) - set(self.params)
        if unknown:
            raise TypeError(f"{self.path} takes no {', '.join(sorted(unknown))} parameter")
        given = {**self.fixed, "filter": filter_value, **values}
        return urlencode({k: given[k] for k in self.params if given.get(k) is not None})

    def url(self, base: str, values: Mapping[str, Any], filter_value: str) -> str:
        return f"{base}{self.path}?{self.query(values, filter_value)}"


def _by_kind(template: str, *params: str) -> dict[str, Endpoint]:
    """The illust and novel endpoints of one template (``{kind}`` in the path and params)."""
    return {
        kind: Endpoint(template.format(kind=kind), tuple(p.format(kind=kind) for p in params))
        for kind in ("illust", "novel")
    }


# Listings of every source (pixivpy's AppPixivAPI names in comments where they differ).
ILLUST_BOOKMARK_DETAIL: Final = Endpoint("/v2/illust/bookmark/detail", ("illust_id",))
ILLUST_FOLLOW: Final = Endpoint("/v2/illust/follow", ("restrict",))
ILLUST_NEW: Final = Endpoint("/v1/illust/new", ("content_type", "filter", "max_illust_id"))
ILLUST_RECOMMENDED: Final = Endpoint(
    "/v1/illust/recommended",
    ("content_type", "include_ranking_label", "include_ranking_illusts", "filter"),
    {"include_ranking_label": "true", "include_ranking_illusts": "true"},
)
ILLUST_RELATED: Final = Endpoint("/v2/illust/related", ("illust_id", "filter"))
NOVEL_BOOKMARK_DETAIL: Final = Endpoint("/v2/novel/bookmark/detail", ("novel_id",))
NOVEL_FOLLOW: Final = Endpoint("/v1/novel/follow", ("restrict",))
NOVEL_NEW: Final = Endpoint("/v1/novel/new", ("filter", "max_novel_id"))
NOVEL_RECOMMENDED: Final = Endpoint(
    "/v1/novel/recommended", ("include_ranking_novels", "filter"), {"include_ranking_novels": "true"}
)
# Search: novels match the plain keyword and translated tags too, and take no `filter`;
# users have no target and no date window.
_WORK_SEARCH = ("word", "sort", "search_target", "filter", "duration", "search_ai_type", "start_date", "end_date")
SEARCH: Final = {
    "illust": Endpoint("/v1/search/illust", _WORK_SEARCH),
    "novel": Endpoint(
        "/v1/search/novel",
        ("word", "sort", "search_target", "merge_plain_keyword_results", "include_translated_tag_results",
         "duration", "search_ai_type", "start_date", "end_date"),
        {"merge_plain_keyword_results": "true", "include_translated_tag_results": "true"},
    ),
    "user": Endpoint("/v1/search/user", ("word", "sort", "filter", "duration", "search_ai_type")),
}
TRENDING_TAGS: Final = _by_kind("/v1/trending-tags/{kind}", "filter")
USER_BOOKMARKS: Final = _by_kind("/v1/user/bookmarks/{kind}", "user_id", "restrict", "filter", "tag")
USER_FOLLOWING: Final = Endpoint("/v1/user/following", ("user_id", "restrict"))
USER_FOLLOWER: Final = Endpoint("/v1/user/follower", ("user_id", "filter"))
# pixivpy sends seed_user_id last; the order does not matter to Pixiv.
USER_RELATED: Final = Endpoint("/v1/user/related", ("filter", "offset", "seed_user_id"), {"offset": "0"})
USER_MYPIXIV: Final = Endpoint("/v1/user/mypixiv", ("user_id",))
USER_LIST: Final = Endpoint("/v2/user/list", ("user_id", "filter"))
USER_RECOMMENDED: Final = Endpoint("/v1/user/recommended", ("filter",))
USER_BOOKMARK_TAGS: Final = _by_kind("/v1/user/bookmark-tags/{kind}", "user_id", "restrict")
NOVEL_RANKING: Final = Endpoint("/v1/novel/ranking", ("mode", "filter", "date"))
ILLUST_SERIES_CONTEXT: Final = Endpoint("/v1/illust-series/illust", ("illust_id",))
USER_ILLUSTS: Final = Endpoint("/v1/user/illusts", ("user_id", "type", "filter"))
USER_NOVELS: Final = Endpoint("/v1/user/novels", ("user_id", "filter"))

# Offset-paged listings answer 400 past this offset ("offset must be no more than 5000").
OFFSET_CAP: Final = 5000

RESTRICTS: Final = ("public", "private")
SEARCH_TARGETS: Final = ("partial_match_for_tags", "exact_match_for_tags", "title_and_caption", "keyword", "text")
SEARCH_SORTS: Final = ("date_desc", "date_asc", "popular_desc")
SEARCH_DURATIONS: Final = ("within_last_day", "within_last_week", "within_last_month")
# Passed on as given: the sources disagree (pixivpy's docstring: 0 hides AI works, 1 shows them;
# the endpoint reference: omitted = all, 1 = exclude AI works, 2 = AI works only).
SEARCH_AI_TYPES: Final = ("0", "1", "2")
CONTENT_TYPES: Final = ("illust", "manga")

# The webview page layout the novel parser knows (pixivpy's value).
WEBVIEW_VIEWER_VERSION: Final = "20221031_ai"

# Details.
ILLUST_DETAIL: Final = Endpoint("/v1/illust/detail", ("illust_id", "filter"))
ILLUST_RANKING: Final = Endpoint("/v1/illust/ranking", ("mode", "filter", "date"))
UGOIRA_METADATA: Final = Endpoint("/v1/ugoira/metadata", ("illust_id",))
USER_DETAIL: Final = Endpoint("/v1/user/detail", ("user_id", "filter"))
NOVEL_DETAIL: Final = Endpoint("/v2/novel/detail", ("novel_id",))
NOVEL_WEBVIEW: Final = Endpoint(
    "/webview/v2/novel", ("id", "viewer_version"), {"viewer_version": WEBVIEW_VIEWER_VERSION}
)
NOVEL_SERIES: Final = Endpoint("/v2/novel/series", ("series_id", "filter"))
ILLUST_SERIES: Final = Endpoint("/v1/illust/series", ("illust_series_id", "filter"))
# /v1/illust/comments answers 404 nowadays (pixivpy#378): v3 lists, v2 replies.
COMMENTS: Final = _by_kind("/v3/{kind}/comments", "{kind}_id")
COMMENT_REPLIES: Final = _by_kind("/v2/{kind}/comment/replies", "comment_id")

# Parameter values the API accepts.
RANKING_MODES: Final = (
    "day",
    "week",
    "month",
    "day_male",
    "day_female",
    "week_original",
    "week_rookie",
    "day_manga",
    "week_manga",
    "month_manga",
    "week_rookie_manga",
    "day_r18",
    "day_male_r18",
    "day_female_r18",
    "week_r18",
    "week_r18g",
    "day_r18_manga",
    "week_r18_manga",
    "day_ai",
    "day_r18_ai",
)

# /v1/novel/ranking has modes of its own (the web's novel ranking; no month, no manga).
NOVEL_RANKING_MODES: Final = (
    "day",
    "week",
    "day_male",
    "day_female",
    "week_rookie",
    "week_ai",
    "day_r18",
    "week_r18",
    "week_r18g",
    "day_male_r18",
    "day_female_r18",
    "day_r18_ai",
)

SERIES_TYPES: Final = ("illust", "novel")


#: How far into a body the ``"error"`` key of an error body can start (whitespace allowed).
ERROR_KEY_WINDOW = 64


def error_of(body: bytes) -> dict[str, str] | None:
    """The ``error`` object of an App API error body, or None if the body is not one.

    App API errors look like ``{"error": {"user_message", "message", "reason", ...}}``;
    Pixiv sends them under 400, 403 and 404 alike, so callers look at the body.
    """
    # The error object is the body's first key; checking for it first spares
    # decoding every 40 KB listing page twice (the callback decodes it too).
    if not body.lstrip().startswith(b"{") or b'"error"' not in body[:ERROR_KEY_WINDOW]:
        return None
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return None
    if not isinstance(error, dict):
        return None
    return {k: str(v) for k, v in error.items() if isinstance(v, (str, int))}


def is_oauth_error(error: dict[str, str] | None) -> bool:
    """Pixiv's answer to a missing, expired or revoked access token."""
    return error is not None and "OAuth" in (error.get("message") or "")
