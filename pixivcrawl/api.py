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

FILTER: Final = "for_ios"

# Endpoint paths.
ILLUST_DETAIL: Final = "/v1/illust/detail"
ILLUST_RANKING: Final = "/v1/illust/ranking"
UGOIRA_METADATA: Final = "/v1/ugoira/metadata"
USER_DETAIL: Final = "/v1/user/detail"

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


def error_of(body: bytes) -> dict[str, str] | None:
    """The ``error`` object of an App API error body, or None if the body is not one.

    App API errors look like ``{"error": {"user_message", "message", "reason", ...}}``;
    Pixiv sends them under 400, 403 and 404 alike, so callers look at the body.
    """
    if not body.lstrip().startswith(b"{"):
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
