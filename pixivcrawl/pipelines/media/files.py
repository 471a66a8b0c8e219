"""What a downloaded file is worth keeping: verification, facts, and the records made of them."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from PIL import Image
from scrapy.pipelines.media import FileException

from pixivcrawl.models import StoredFile

if TYPE_CHECKING:
    from scrapy.pipelines.media import FileInfo


#: Pixiv's shared defaults (no avatar, default novel covers, ``limit_*`` placeholders) live here.
COMMON_IMAGES = "/common/images/"


def same_image(recorded_url: str, url: str) -> bool:
    """Whether two image URLs name the same upload.

    The path carries the upload's timestamp, so a re-upload changes it; the host
    does not matter (mirrors, and the sandbox, serve the same paths elsewhere).
    """
    return urlsplit(recorded_url).path == urlsplit(url).path


class InvalidFile(FileException):
    """A downloaded body that is not the file: ``retry`` when another download may fix it."""

    def __init__(self, reason: str, detail: str, *, retry: bool) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.retry = retry


@dataclass(frozen=True, slots=True)
class Facts:
    """What verification learnt about a file."""

    size: int
    sha256: str
    width: int | None = None
    height: int | None = None


def image_facts(body: bytes) -> Facts:
    """Facts of a file Pillow must open and verify; InvalidFile otherwise.

    ``verify()`` checks the structure (for PNG every chunk's CRC) without decoding
    the pixels, which took most of a crawl's CPU with large originals; truncation
    is caught before, by the length check.
    """
    try:
        with Image.open(io.BytesIO(body)) as image:
            width, height = image.size
            image.verify()
    except Exception as exc:
        raise InvalidFile("corrupt", f"not a decodable image ({exc})", retry=True) from None
    return Facts(len(body), hashlib.sha256(body).hexdigest(), width, height)


def stored(url: str, path: str, facts: Facts) -> StoredFile:
    return StoredFile(
        url=url, local_path=path, size=facts.size, sha256=facts.sha256, width=facts.width, height=facts.height
    )


def _facts_dict(facts: Facts) -> dict[str, Any]:
    return {"size": facts.size, "sha256": facts.sha256, "width": facts.width, "height": facts.height}


def file_info(url: str, path: str, status: str, file: StoredFile) -> FileInfo:
    info: dict[str, Any] = {
        "url": url,
        "path": path,
        "checksum": file.sha256,
        "status": status,
        "size": file.size,
        "sha256": file.sha256,
        "width": file.width,
        "height": file.height,
    }
    return info  # type: ignore[return-value]


def stored_from_result(result: FileInfo | dict[str, Any]) -> StoredFile:
    r: dict[str, Any] = dict(result)
    return StoredFile(
        url=r["url"],
        local_path=r["path"],
        size=r["size"],
        sha256=r["sha256"],
        width=r.get("width"),
        height=r.get("height"),
    )
