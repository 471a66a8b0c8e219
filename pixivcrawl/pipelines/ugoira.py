"""Ugoira: the zip (1920x1080, else 600x600), read safely in memory, and its animation as WebP, GIF or APNG."""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import re
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PIL import Image
from scrapy.utils.asyncio import run_in_thread
from twisted.python.failure import Failure

from pixivcrawl.models import Illust, StoredFile, UgoiraFrame, WorkStatus
from pixivcrawl.pipelines.media import (
    Facts,
    InvalidFile,
    PixivFilesPipeline,
    Recorded,
    Target,
    file_info,
    same_image,
    stored,
    stored_from_result,
)
from pixivcrawl.pipelines.media.pipeline import _setter

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response
    from scrapy.pipelines.media import FileInfo, FileInfoOrError, MediaPipeline
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

FORMATS = {"webp": "WEBP", "gif": "GIF", "apng": "PNG", "zip": None}
EXTENSIONS = {"webp": "webp", "gif": "gif", "apng": "png"}
ZIP_SIZE = re.compile(r"_ugoira(\d+x\d+)\.zip$")


@dataclass(frozen=True, slots=True)
class UgoiraLimits:
    """Bounds on what one ugoira zip may make us hold in memory."""

    max_frames: int
    max_bytes: int
    max_pixels: int
    # Pixels of one frame: the WebP encoder holds a few frames' worth (4 bytes a pixel) at a time.
    max_frame_pixels: int


def unsafe_name(name: str) -> bool:
    """Frame names are flat file names; anything path-like could escape an extraction."""
    return (
        not name
        or name in {".", ".."}
        or "/" in name
        or "\\" in name
        or ".." in name
        or ":" in name
        or "\x00" in name
    )


#: Frames are read from the zip in blocks of this size: a frame is never held whole before it is decoded.
BLOCK = 1024 * 1024


def check_frames(body: bytes, frames: list[UgoiraFrame], limits: UgoiraLimits) -> None:
    """Check a zip and its frames without holding a frame in memory; never extracted to disk.

    Raises :class:`InvalidFile`: ``bad_zip`` (retryable: the download may be
    damaged) or ``unsafe_name``, ``too_many_frames``, ``too_large``,
    ``too_many_pixels``, ``missing_frame``, ``bad_frame`` (rejected: a second
    download of a whole zip whose checksums match would be the same).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise InvalidFile("bad_zip", str(exc), retry=True) from None
    with archive:
        entries = archive.infolist()
        for entry in entries:
            if unsafe_name(entry.filename) or entry.is_dir():
                raise InvalidFile("unsafe_name", f"zip entry {entry.filename!r}", retry=False)
        if max(len(entries), len(frames)) > limits.max_frames:
            raise InvalidFile("too_many_frames", f"{len(entries)} entries, limit {limits.max_frames}", retry=False)
        # Reading stops at the declared size, so the declared sizes bound the work.
        total = sum(e.file_size for e in entries)
        if total > limits.max_bytes:
            raise InvalidFile("too_large", f"{total} bytes uncompressed, limit {limits.max_bytes}", retry=False)
        by_name = {e.filename: e for e in entries}
        missing = [f.file for f in frames if f.file not in by_name]
        if missing or not frames:
            raise InvalidFile("missing_frame", f"frames {missing or 'none'} not in the zip", retry=False)
        pixels = 0
        for name in dict.fromkeys(f.file for f in frames):
            try:
                # Every block first, for the CRC (bounded by max_bytes above): a download damaged in
                # a frame's header is a bad zip, fetched again, not a bad frame refused for good.
                with archive.open(by_name[name]) as stream:
                    while stream.read(BLOCK):
                        pass
                size = frame_pixels(name, archive)
                if size > limits.max_frame_pixels:
                    raise InvalidFile("too_many_pixels", f"{name}: {size} pixels, limit {limits.max_frame_pixels}",
                                      retry=False)
                pixels += size
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
                raise InvalidFile("bad_zip", f"{name}: {exc}", retry=True) from None
            if pixels > limits.max_pixels:
                raise InvalidFile("too_many_pixels", f"more than {limits.max_pixels} pixels", retry=False)


def frame_pixels(name: str, archive: zipfile.ZipFile) -> int:
    """Pixels of one frame from its header alone (nothing is decoded yet)."""
    try:
        with archive.open(name) as stream, Image.open(stream) as image:
            width, height = image.size
    except Image.DecompressionBombError as exc:
        raise InvalidFile("too_many_pixels", f"{name}: {exc}", retry=False) from None
    except (zipfile.BadZipFile, EOFError, zlib.error):
        raise
    except Exception as exc:
        raise InvalidFile("bad_frame", f"{name}: {exc}", retry=False) from None
    return width * height


def gif_delays(delays: list[int]) -> list[int]:
    """Millisecond delays as GIF can store them: whole centiseconds, at least one.

    Each frame's *end time* is rounded to the nearest 10 ms, so rounding errors do
    not add up: a lone 45 ms delay becomes 50 ms, a run of 45 ms delays alternates
    50/40 ms, and the animation's length stays within 10 ms of the original.
    """
    out, end, shown = [], 0, 0
    for delay in delays:
        end += delay
        until = max((end + 5) // 10 * 10, shown + 10)
        out.append(until - shown)
        shown = until
    return out


def zip_entries(body: bytes) -> list[zipfile.ZipInfo]:
    """The entries of a zip (InvalidFile ``bad_zip`` if it is none)."""
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise InvalidFile("bad_zip", str(exc), retry=True) from None


class ZipFrames(Image.Image):
    """The frames of an ugoira zip as one multi-frame image that decodes a frame only when it is shown.

    Pillow's encoders walk a sequence with ``seek()``, so the WebP encoder holds
    one decoded frame at a time (GIF and APNG keep every distinct frame they
    have written: 1 and 4 bytes a pixel).
    """

    def __init__(self, archive: zipfile.ZipFile, names: list[str]) -> None:
        super().__init__()
        self._archive = archive
        self._names = names
        self.n_frames = len(names)
        self.is_animated = len(names) > 1
        self._frame = -1
        self.seek(0)

    def seek(self, frame: int) -> None:
        if frame == self._frame:
            return
        if not 0 <= frame < self.n_frames:
            raise EOFError("no more frames")  # how Pillow's sequence readers learn the end
        with self._archive.open(self._names[frame]) as stream, Image.open(stream) as image:
            image.load()
            decoded = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        self.im = decoded.im
        self._mode = decoded.mode
        self._size = decoded.size
        self._frame = frame

    def tell(self) -> int:
        return self._frame


def convert(body: bytes, frames: list[UgoiraFrame], fmt: str) -> tuple[bytes, int, int]:
    """An animation of every frame with its delay in ``fmt`` (webp, gif, apng): bytes, width, height.

    Frames are decoded one at a time, as the encoder asks for them. Identical
    consecutive frames become one frame showing for their summed delays (all
    three encoders do this); the animation plays the same.
    """
    delays = [f.delay for f in frames]
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        sequence = ZipFrames(archive, [f.file for f in frames])
        options: dict[str, Any] = {"save_all": True, "loop": 0}
        options["duration"] = gif_delays(delays) if fmt == "gif" else list(delays)
        if fmt == "webp":
            options.update(quality=90, method=4)
        buf = io.BytesIO()
        sequence.seek(0)
        width, height = sequence.size
        sequence.save(buf, FORMATS[fmt], **options)
    return buf.getvalue(), width, height


def zip_path(illust: Illust, url: str) -> str:
    """``<user_id>/<illust_id>_ugoira<size>.zip`` (size 1920x1080 or 600x600, as in the URL)."""
    match = ZIP_SIZE.search(url)
    return f"{illust.user.id}/{illust.id}_ugoira{match.group(1) if match else ''}.zip"


def animation_path(illust: Illust, fmt: str) -> str:
    """``<user_id>/<illust_id>_ugoira.<webp|gif|png>``."""
    return f"{illust.user.id}/{illust.id}_ugoira.{EXTENSIONS[fmt]}"


def big_zip_url(url: str) -> str:
    return url.replace("_ugoira600x600.zip", "_ugoira1920x1080.zip")


class UgoiraPipeline(PixivFilesPipeline):
    """Each ugoira's zip, kept as downloaded, and its animation in PIXIV_UGOIRA_FORMAT.

    Settings: PIXIV_UGOIRA_FORMAT (webp, gif, apng; zip for no conversion),
    PIXIV_UGOIRA_MAX_FRAMES, PIXIV_UGOIRA_MAX_BYTES, PIXIV_UGOIRA_MAX_PIXELS, and
    those of :class:`PixivFilesPipeline`.

    The 1920x1080 zip is fetched, the 600x600 one if the large is missing
    (``pixivcrawl/ugoira/zip_fallback``). Zips are read in memory: names that look
    like paths and archives over the limits are rejected, logged and counted
    (``pixivcrawl/ugoira/rejected/<reason>``); nothing of them is stored. The
    conversion runs in a thread, one at a time, a frame at a time;
    ``pixivcrawl/ugoira/converted/<format>`` counts it.
    """

    def __init__(self, store_uri: str, *, fmt: str, limits: UgoiraLimits, **kwargs: Any) -> None:
        super().__init__(store_uri, **kwargs)
        self.format = fmt
        self.limits = limits
        # One conversion at a time, always in the same thread: each holds a few decoded frames, all
        # are CPU-bound, and one thread keeps one malloc arena (several made the peak vary by 100 MB).
        self.converter = ThreadPoolExecutor(1, thread_name_prefix="pixivcrawl-ugoira")

    @classmethod
    def options(cls, s: BaseSettings) -> dict[str, Any]:
        fmt = s["PIXIV_UGOIRA_FORMAT"].lower()
        if fmt not in FORMATS:
            raise ValueError(f"PIXIV_UGOIRA_FORMAT={fmt!r}; expected one of: {', '.join(FORMATS)}")
        limits = UgoiraLimits(
            max_frames=s.getint("PIXIV_UGOIRA_MAX_FRAMES"),
            max_bytes=s.getint("PIXIV_UGOIRA_MAX_BYTES"),
            max_pixels=s.getint("PIXIV_UGOIRA_MAX_PIXELS"),
            max_frame_pixels=s.getint("PIXIV_UGOIRA_MAX_FRAME_PIXELS"),
        )
        return {**super().options(s), "fmt": fmt, "limits": limits}

    def close_spider(self) -> None:
        super().close_spider()
        self.converter.shutdown(wait=True)

    def targets(self, item: Any) -> list[Target]:
        if not (isinstance(item, Illust) and item.ugoira and item.status is WorkStatus.AVAILABLE):
            return []
        url = big_zip_url(item.ugoira.zip_url)
        return [Target("ugoira_zip", url, zip_path(item, url), _setter(item.ugoira, "zip_file"),
                       f"illust {item.id} ugoira")]

    def recorded(self, item: Any) -> dict[str, Recorded]:
        return {}

    def animation_wanted(self) -> bool:
        return self.format != "zip"

    def get_media_requests(self, item: Any, info: MediaPipeline.SpiderInfo) -> list[Request]:
        requests = super().get_media_requests(item, info)
        for request in requests:
            request.meta["pixiv_illust"] = item
        return requests

    async def media_to_download(  # type: ignore[override]
        self, request: Request, info: MediaPipeline.SpiderInfo, *, item: Any = None
    ) -> FileInfo | None:
        illust: Illust = request.meta["pixiv_illust"]
        assert illust.ugoira is not None  # only ugoiras have requests here
        row = await run_in_thread(self.recorded_ugoira, illust)
        if row is None:
            return None
        zip_file, animation = row
        zip_ok = await self.archived_file(request, info, Recorded(request.url, zip_file), zip_file.local_path)
        if zip_ok is None:
            return None
        if self.animation_wanted() and not illust.ugoira.metadata_error:
            expected = animation_path(illust, self.format)
            if animation is None or animation.local_path != expected:
                return None
            if await self.archived_file(request, info, Recorded(request.url, animation), expected) is None:
                return None
        self.inc_stats("uptodate")
        result: dict[str, Any] = dict(file_info(zip_file.url, zip_file.local_path, "uptodate", zip_file))
        result["animation"] = animation.model_dump() if animation and self.animation_wanted() else None
        return result  # type: ignore[return-value]

    def recorded_ugoira(self, illust: Illust) -> tuple[StoredFile, StoredFile | None] | None:
        """The archived zip (and animation) of this upload, if the database has them."""
        assert illust.ugoira is not None
        r = self.archived.archive.recorded_ugoira(illust.id)
        if r is None:
            return None
        if not same_image(r["zip_url"], illust.ugoira.zip_url) or not r["zip_local_path"] or r["zip_size"] is None \
                or not r["zip_sha256"]:
            return None
        url = big_zip_url(r["zip_url"]) if "1920x1080" in r["zip_local_path"] else r["zip_url"]
        zip_file = StoredFile(url=url, local_path=r["zip_local_path"], size=r["zip_size"], sha256=r["zip_sha256"])
        animation = None
        if r["animation_local_path"] and r["animation_size"] is not None and r["animation_sha256"]:
            animation = StoredFile(url=url, local_path=r["animation_local_path"], size=r["animation_size"],
                                   sha256=r["animation_sha256"])
        return zip_file, animation

    def verify(self, body: bytes, request: Request) -> Facts:
        illust: Illust = request.meta["pixiv_illust"]
        assert illust.ugoira is not None
        frames = illust.ugoira.frames
        try:
            if illust.ugoira.metadata_error:
                # No usable frame list: only the zip itself is checked (and kept).
                frames = [UgoiraFrame(file=e.filename, delay=0) for e in zip_entries(body)]
            check_frames(body, frames, self.limits)
        except InvalidFile as exc:
            if not exc.retry:
                self.inc(f"ugoira/rejected/{exc.reason}")
                logger.warning("illust %s: ugoira zip %s rejected: %s", illust.id, request.url, exc)
            raise
        return Facts(len(body), hashlib.sha256(body).hexdigest())

    async def media_downloaded(
        self,
        response: Response,
        request: Request,
        info: MediaPipeline.SpiderInfo,
        *,
        item: Any = None,
    ) -> FileInfo:
        illust: Illust = request.meta["pixiv_illust"]
        assert illust.ugoira is not None
        small = illust.ugoira.zip_url
        if response.status in (403, 404) and request.url != small:
            self.inc("ugoira/zip_fallback")
            logger.info("illust %s: no 1920x1080 zip (HTTP %s); fetching %s", illust.id, response.status, small)
            request = request.replace(url=small, meta={**request.meta, "pixiv_file_path": zip_path(illust, small)})
            response = await self.crawler.engine.download_async(request)
        return await super().media_downloaded(response, request, info, item=item)

    async def file_downloaded(
        self,
        response: Response,
        request: Request,
        info: MediaPipeline.SpiderInfo,
        *,
        item: Any = None,
    ) -> str:
        checksum = await super().file_downloaded(response, request, info, item=item)
        request.meta["pixiv_extra"] = {"animation": await self.make_animation(response.body, request, info)}
        return checksum

    async def make_animation(
        self, body: bytes, request: Request, info: MediaPipeline.SpiderInfo
    ) -> dict[str, Any] | None:
        if not self.animation_wanted():
            return None
        illust: Illust = request.meta["pixiv_illust"]
        assert illust.ugoira is not None
        if illust.ugoira.metadata_error:
            self.inc("ugoira/bad_metadata")
            logger.warning("illust %s: ugoira frame metadata unusable (%s); zip kept, no animation made",
                           illust.id, illust.ugoira.metadata_error)
            return None
        try:
            data, width, height = await asyncio.get_running_loop().run_in_executor(
                self.converter, convert, body, illust.ugoira.frames, self.format
            )
        except Exception:
            self.inc("ugoira/convert_failed")
            logger.error("illust %s: could not convert the ugoira to %s", illust.id, self.format, exc_info=True)
            return None
        path = animation_path(illust, self.format)
        await self.persist(path, data, info)
        self.inc(f"ugoira/converted/{self.format}")
        facts = Facts(len(data), hashlib.sha256(data).hexdigest(), width, height)
        return stored(request.url, path, facts).model_dump()

    def item_completed(
        self, results: list[FileInfoOrError], item: Any, info: MediaPipeline.SpiderInfo
    ) -> Any:
        if not (isinstance(item, Illust) and item.ugoira):
            return item
        for request, (_ok, result) in zip(self._requests.pop(id(item), []), results, strict=False):
            if isinstance(result, Failure):  # not ok
                self.failed(request, result)
                continue
            item.ugoira.zip_file = stored_from_result(result)
            animation = result.get("animation")
            if animation:
                item.ugoira.animation_file = StoredFile.model_validate(animation)
        return item
