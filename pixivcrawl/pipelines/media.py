"""Download every page's original through Scrapy's FilesPipeline, named from IDs.

Settings: FILES_STORE, PIXIV_DOWNLOAD_FILES. The Referer and the image slot
come from the auth middleware, which also refuses hosts outside PIXIV_IMAGE_HOSTS.
"""

from __future__ import annotations

import hashlib
import io
import logging
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

from PIL import Image
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.pipelines.files import FilesPipeline
from scrapy.pipelines.media import FileException
from scrapy.http.request import NO_CALLBACK

from pixivcrawl.models import Illust, StoredFile, WorkStatus
from pixivcrawl.parsing import placeholder_name

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.pipelines.media import FileInfoOrError, MediaPipeline

logger = logging.getLogger(__name__)


def image_facts(body: bytes) -> tuple[int, int]:
    """Width and height of an image; raises FileException if Pillow cannot decode it."""
    try:
        with Image.open(io.BytesIO(body)) as image:
            image.load()
            return image.size
    except Exception as exc:
        raise FileException(f"not a decodable image ({exc})") from None


Facts = tuple[int, int, int, str]


def file_facts(body: bytes) -> Facts:
    """Size, width, height and sha256 of a file that must be a decodable image."""
    width, height = image_facts(body)
    return len(body), width, height, hashlib.sha256(body).hexdigest()


def page_path(illust: Illust, index: int, url: str) -> str:
    """``<user_id>/<illust_id>_p<N>.<ext>``: from IDs, never from titles."""
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower() or ".bin"
    return f"{illust.user.id}/{illust.id}_p{index}{suffix}"


class PixivFilesPipeline(FilesPipeline):
    """Originals of every page of available works, verified before they count.

    Each download is checked with Pillow; its sha256, size, width and height go
    into the page's :class:`StoredFile`, which the store writes to ``illust_pages``.
    Placeholders (``/common/images/limit_*``) are never downloaded as the work.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._verified: dict[str, Facts] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("PIXIV_DOWNLOAD_FILES"):
            raise NotConfigured("PIXIV_DOWNLOAD_FILES is off")
        return super().from_crawler(crawler)

    def get_media_requests(self, item: Any, info: MediaPipeline.SpiderInfo) -> list[Request]:
        if not isinstance(item, Illust) or item.status is not WorkStatus.AVAILABLE:
            return []
        requests = []
        for page in item.pages:
            if not page.original_url or placeholder_name(page.original_url):
                continue
            requests.append(
                Request(page.original_url, callback=NO_CALLBACK, meta={"pixiv_page_index": page.index})
            )
        return requests

    def file_path(
        self,
        request: Request,
        response: Response | None = None,
        info: MediaPipeline.SpiderInfo | None = None,
        *,
        item: Any = None,
    ) -> str:
        return page_path(item, request.meta["pixiv_page_index"], request.url)

    async def file_downloaded(
        self,
        response: Response,
        request: Request,
        info: MediaPipeline.SpiderInfo,
        *,
        item: Any = None,
    ) -> str:
        facts = file_facts(response.body)
        await super().file_downloaded(response, request, info, item=item)
        self._verified[request.url] = facts
        return facts[3]

    def item_completed(
        self, results: list[FileInfoOrError], item: Any, info: MediaPipeline.SpiderInfo
    ) -> Any:
        if not isinstance(item, Illust):
            return item
        by_url = {r["url"]: r for ok, r in results if ok}
        for page in item.pages:
            result = by_url.get(page.original_url or "")
            if result is None:
                continue
            facts = self._verified.pop(result["url"], None) or self._stored_facts(result["path"])
            if facts is None:
                continue
            size, width, height, sha256 = facts
            page.file = StoredFile(
                url=result["url"], local_path=result["path"], size=size, sha256=sha256,
                width=width, height=height,
            )
        return item

    def _stored_facts(self, path: str) -> Facts | None:
        """Facts of a file stored by an earlier run (local stores only)."""
        base = getattr(self.store, "basedir", None)
        if base is None:
            return None
        try:
            data = (Path(base) / path).read_bytes()
            return file_facts(data)
        except (OSError, FileException):
            return None
