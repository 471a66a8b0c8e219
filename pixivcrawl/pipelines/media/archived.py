"""What the archive already holds, so a file is not downloaded twice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

from pixivcrawl.db.archive import Archive
from pixivcrawl.models import Illust, Novel, NovelText, StoredFile, User
from pixivcrawl.pipelines.media.files import COMMON_IMAGES
from pixivcrawl.pipelines.media.paths import cover_path, full_size_avatar, profile_image_path

if TYPE_CHECKING:
    from collections.abc import Callable

    from scrapy.crawler import Crawler


@dataclass(slots=True)
class Target:
    """One file an item wants: where it comes from, where it goes, and where its facts land."""

    kind: str
    url: str
    path: str
    assign: Callable[[StoredFile], None]
    label: str


@dataclass(frozen=True, slots=True)
class Recorded:
    """What the archive database says about a path: its source URL and, if recorded, its facts."""

    url: str
    file: StoredFile | None


class ArchivedFiles:
    """The facts earlier runs recorded (asked of the crawl's :class:`~pixivcrawl.db.archive.Archive`),
    by local path, so unchanged files are neither fetched nor re-read. Its methods block (run them in a thread)."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(Archive.from_crawler(crawler))

    def pages(self, illust: Illust) -> dict[str, Recorded]:
        return {
            r["local_path"]: Recorded(
                r["file_url"],
                StoredFile(
                    url=r["file_url"],
                    local_path=r["local_path"],
                    size=r["size"],
                    sha256=r["sha256"],
                    width=r["width"],
                    height=r["height"],
                )
                if r["size"] is not None and r["sha256"]
                else None,
            )
            for r in self.archive.recorded_pages(illust.id)
            if r["file_url"]
        }

    def novel_images(self, text: NovelText) -> dict[str, Recorded]:
        return {
            r["local_path"]: Recorded(
                r["url"],
                StoredFile(url=r["url"], local_path=r["local_path"], size=r["size"], sha256=r["sha256"])
                if r["size"] is not None and r["sha256"]
                else None,
            )
            for r in self.archive.recorded_novel_images(text.novel_id)
            if r["url"]
        }

    def profile_images(self, users: list[User]) -> dict[str, Recorded]:
        recorded = {}
        for user_id, url in self.archive.recorded_profile_image_urls([u.id for u in users]).items():
            if url and COMMON_IMAGES not in url:
                full = full_size_avatar(url)
                recorded[profile_image_path(User(id=user_id), full)] = Recorded(full, None)
        return recorded

    def cover(self, novel: Novel) -> dict[str, Recorded]:
        url = self.archive.recorded_cover_url(novel.id)
        if not url:
            return {}
        return {cover_path(novel, url): Recorded(url, None)}
