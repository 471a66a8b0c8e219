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
from pixivcrawl.parsing import COMMON_IMAGES as COMMON_IMAGES  # re-exported: one spelling, in parsing

if TYPE_CHECKING:
    from scrapy.pipelines.media import FileInfo


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
    # The format Pillow found in the bytes (JPEG, PNG, GIF, WEBP, ...), and bytes after the image's end.
    format: str | None = None
    trailing: int = 0


#: The file name suffix of each image format, from the bytes; the other spellings a URL may use.
SUFFIXES = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp"}
SPELLINGS = {".jpeg": "JPEG", ".jpg": "JPEG", ".png": "PNG", ".gif": "GIF", ".webp": "WEBP"}
PNG_END = b"IEND\xaeB`\x82"


def suffix_for(planned: str, image_format: str | None) -> str:
    """The suffix a file gets: the planned one (from the URL) if it names the format in the bytes."""
    if image_format not in SUFFIXES or SPELLINGS.get(planned.lower()) == image_format:
        return planned
    return SUFFIXES[image_format]


def _decodes(body: bytes) -> bool:
    """Whether every frame of the image decodes (the slow path, for a body without its end marker)."""
    try:
        with Image.open(io.BytesIO(body)) as image:
            for index in range(getattr(image, "n_frames", 1)):
                image.seek(index)
                image.load()
    except Exception:
        return False
    return True


def trailing_bytes(image_format: str | None, body: bytes) -> int:
    """Bytes after the image's end marker; InvalidFile ``truncated`` when the end is missing.

    Cheap for a whole file (its last bytes are the end marker, or the WebP RIFF
    size says so); only a JPEG or GIF without its marker at the very end is
    decoded, to tell a cut file from one with data after its end.
    """
    if image_format == "WEBP":
        end = 8 + int.from_bytes(body[4:8], "little")
        end += end % 2
        if end > len(body):
            raise InvalidFile("truncated", f"RIFF says {end} bytes, got {len(body)}", retry=True)
        return len(body) - end
    if image_format == "PNG":
        if body.endswith(PNG_END):
            return 0
        end = body.rfind(PNG_END)
        if end < 0:
            raise InvalidFile("truncated", "no IEND chunk", retry=True)
        return len(body) - end - len(PNG_END)
    marker = {"JPEG": b"\xff\xd9", "GIF": b"\x3b"}.get(image_format or "")
    if marker is None or body.endswith(marker):
        return 0
    if not _decodes(body):
        raise InvalidFile("truncated", f"the {image_format} data ends early", retry=True)
    return len(body) - body.rfind(marker) - len(marker)


def image_facts(body: bytes) -> Facts:
    """Facts of a file Pillow must open and verify; InvalidFile otherwise.

    ``verify()`` checks the structure (for PNG every chunk's CRC) without decoding
    the pixels, which took most of a crawl's CPU with large originals; truncation
    is caught by the length check and the end marker (:func:`trailing_bytes`).
    A decompression bomb is refused for good (``bomb``, never fetched again).
    """
    try:
        with Image.open(io.BytesIO(body)) as image:
            width, height = image.size
            image_format = image.format
            image.verify()
    except Image.DecompressionBombError as exc:
        raise InvalidFile("bomb", str(exc), retry=False) from None
    except Exception as exc:
        raise InvalidFile("corrupt", f"not a decodable image ({exc})", retry=True) from None
    trailing = trailing_bytes(image_format, body)
    if trailing and image_format != "JPEG":
        # Cameras append data to JPEGs; a PNG, GIF or WebP with more after its end is not what it says.
        raise InvalidFile("trailing_data", f"{trailing} bytes after the {image_format} end", retry=False)
    return Facts(len(body), hashlib.sha256(body).hexdigest(), width, height, image_format, trailing)


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
