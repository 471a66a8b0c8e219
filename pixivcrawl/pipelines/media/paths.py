"""Where each kind of file goes under FILES_STORE: names from IDs, never from titles."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from pixivcrawl.models import Illust, Novel, User


def suffix_of(url: str, default: str = ".bin") -> str:
    return PurePosixPath(urlsplit(url).path).suffix.lower() or default


def page_path(illust: Illust, index: int, url: str) -> str:
    """``<user_id>/<illust_id>_p<N>.<ext>``: from IDs, never from titles."""
    return f"{illust.user.id}/{illust.id}_p{index}{suffix_of(url)}"


def profile_image_path(user: User, url: str) -> str:
    """``<user_id>/profile.<ext>``."""
    return f"{user.id}/profile{suffix_of(url)}"


def cover_path(novel: Novel, url: str) -> str:
    """``<user_id>/novel<novel_id>_cover.<ext>``."""
    return f"{novel.user.id}/novel{novel.id}_cover{suffix_of(url)}"


def novel_image_path(novel_id: int, key: str, url: str) -> str:
    """``novels/<novel_id>_image<key>.<ext>``: an image uploaded into a novel's text."""
    return f"novels/{novel_id}_image{key}{suffix_of(url)}"


def full_size_avatar(url: str) -> str:
    """The full-size avatar: ``..._170.jpg`` without the size suffix (as gallery-dl does)."""
    if "/user-profile/" not in url:
        return url
    return re.sub(r"_\d+(\.\w+)$", r"\1", url)
