"""The App API catalogue: hosts, app headers, endpoint paths and parameter values.

Everything a spider needs to name an endpoint or validate an argument lives
here, so the values users may pass are written once (and the README lists them).
"""

from __future__ import annotations

import json
from typing import Final

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

# Listings of every source (pixivpy's AppPixivAPI names in comments where they differ).
ILLUST_BOOKMARK_DETAIL: Final = "/v2/illust/bookmark/detail"
ILLUST_FOLLOW: Final = "/v2/illust/follow"
ILLUST_NEW: Final = "/v1/illust/new"
ILLUST_RECOMMENDED: Final = "/v1/illust/recommended"
ILLUST_RELATED: Final = "/v2/illust/related"
NOVEL_BOOKMARK_DETAIL: Final = "/v2/novel/bookmark/detail"
NOVEL_FOLLOW: Final = "/v1/novel/follow"
NOVEL_NEW: Final = "/v1/novel/new"
NOVEL_RECOMMENDED: Final = "/v1/novel/recommended"
SEARCH: Final = {"illust": "/v1/search/illust", "novel": "/v1/search/novel", "user": "/v1/search/user"}
TRENDING_TAGS: Final = {"illust": "/v1/trending-tags/illust", "novel": "/v1/trending-tags/novel"}
USER_BOOKMARKS: Final = {"illust": "/v1/user/bookmarks/illust", "novel": "/v1/user/bookmarks/novel"}
USER_FOLLOWING: Final = "/v1/user/following"
USER_FOLLOWER: Final = "/v1/user/follower"
USER_RELATED: Final = "/v1/user/related"
USER_MYPIXIV: Final = "/v1/user/mypixiv"
USER_LIST: Final = "/v2/user/list"
USER_RECOMMENDED: Final = "/v1/user/recommended"
USER_BOOKMARK_TAGS: Final = {"illust": "/v1/user/bookmark-tags/illust", "novel": "/v1/user/bookmark-tags/novel"}
NOVEL_RANKING: Final = "/v1/novel/ranking"
ILLUST_SERIES_CONTEXT: Final = "/v1/illust-series/illust"
USER_ILLUSTS: Final = "/v1/user/illusts"
USER_NOVELS: Final = "/v1/user/novels"

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

# Endpoint paths.
ILLUST_DETAIL: Final = "/v1/illust/detail"
ILLUST_RANKING: Final = "/v1/illust/ranking"
UGOIRA_METADATA: Final = "/v1/ugoira/metadata"
USER_DETAIL: Final = "/v1/user/detail"
NOVEL_DETAIL: Final = "/v2/novel/detail"
NOVEL_WEBVIEW: Final = "/webview/v2/novel"
NOVEL_SERIES: Final = "/v2/novel/series"
ILLUST_SERIES: Final = "/v1/illust/series"
# /v1/illust/comments answers 404 nowadays (pixivpy#378): v3 lists, v2 replies.
COMMENTS: Final = {"illust": "/v3/illust/comments", "novel": "/v3/novel/comments"}
COMMENT_REPLIES: Final = {"illust": "/v2/illust/comment/replies", "novel": "/v2/novel/comment/replies"}

# The webview page layout the novel parser knows (pixivpy's value).
WEBVIEW_VIEWER_VERSION: Final = "20221031_ai"

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
    return bool(error) and "OAuth" in (error.get("message") or "")
