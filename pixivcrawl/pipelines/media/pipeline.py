"""Originals, novel covers and profile images through Scrapy's FilesPipeline: verified, atomic, named from IDs."""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

from scrapy import Request
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import NotConfigured
from scrapy.http.request import NO_CALLBACK
from scrapy.pipelines.files import FilesPipeline
from scrapy.pipelines.media import FileException

try:  # Scrapy's "expected failure": logged at DEBUG, without a traceback
    from scrapy.pipelines.media import _MediaRequestFiltered as QuietFailure
except ImportError:  # pragma: no cover - older or newer Scrapy: a traceback more, nothing lost
    QuietFailure = FileException  # type: ignore[misc,assignment]
from scrapy.utils.asyncio import run_in_thread
from scrapy.utils.defer import ensure_awaitable
from twisted.python.failure import Failure

from pixivcrawl.escape import printable
from pixivcrawl.hosts import Destination, HostPolicy, same_url
from pixivcrawl.models import Illust, Novel, NovelText, StoredFile, User, WorkStatus
from pixivcrawl.parsing import placeholder_name
from pixivcrawl.pipelines.media.archived import ArchivedFiles, Recorded, Target
from pixivcrawl.pipelines.media.files import (
    COMMON_IMAGES,
    Facts,
    InvalidFile,
    _facts_dict,
    file_info,
    image_facts,
    same_image,
    stored,
    stored_from_result,
    suffix_for,
)
from pixivcrawl.pipelines.media.paths import (
    cover_path,
    full_size_avatar,
    novel_image_path,
    page_path,
    profile_image_path,
)
from pixivcrawl.pipelines.media.storage import AtomicFSFilesStore

if TYPE_CHECKING:
    from collections.abc import Callable

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.pipelines.media import FileInfo, FileInfoOrError, MediaPipeline
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

#: The finish reason of a crawl stopped because FILES_STORE kept refusing writes.
FILES_STORE_FAILED = "files_store_failed"


class FilesStoreFailed(QuietFailure):
    """FILES_STORE refused a write for a reason of the machine (full, read-only, gone), past the retries."""


class PixivFilesPipeline(FilesPipeline):
    """Originals of every page, novel covers and profile images, each verified before it counts.

    Settings: FILES_STORE, PIXIV_DOWNLOAD_FILES (master switch), PIXIV_DOWNLOAD_COVERS,
    PIXIV_DOWNLOAD_PROFILE_IMAGES, PIXIV_IMAGE_HOSTS, PIXIV_DATABASE_URL, RETRY_TIMES.

    - Requests go through the downloader middlewares: the auth middleware adds the
      Referer, drops Authorization and puts them on the image slot.
    - Only the image origins of the host policy (PIXIV_IMAGE_HOSTS, https or
      loopback) are requested (``pixivcrawl/files/refused_host``, ``.../refused_scheme``);
      Pixiv's ``/common/images/`` placeholders and defaults never are.
    - A body shorter than its Content-Length or that Pillow cannot decode is
      fetched again (``pixivcrawl/files/retry/*``), up to RETRY_TIMES; what never
      verifies is counted under ``pixivcrawl/files/failed`` and recorded as nothing.
    - Local stores are written atomically (:class:`AtomicFSFilesStore`).
    - A file whose URL, path and size match what the database recorded is
      ``uptodate``: not fetched, not re-read; its recorded facts carry over.
    """

    STORE_SCHEMES: ClassVar[dict[str, Any]] = {
        **FilesPipeline.STORE_SCHEMES,
        "": AtomicFSFilesStore,
        "file": AtomicFSFilesStore,
    }
    LOG_FAILED_RESULTS = False

    def __init__(
        self,
        store_uri: str,
        *,
        crawler: Crawler,
        hosts: HostPolicy,
        covers: bool,
        profile_images: bool,
        store_retry_times: int,
        store_retry_backoff: float,
    ) -> None:
        super().__init__(store_uri, crawler=crawler)
        self.store_retry_times = max(0, store_retry_times)
        self.store_retry_backoff = store_retry_backoff
        self.hosts = hosts
        self.covers = covers
        self.profile_images = profile_images
        self.archived = ArchivedFiles.from_crawler(crawler)
        # Per item being processed (by id): the files it wants, the database's facts, then the requests made.
        self._targets: dict[int, list[Target]] = {}
        self._recorded: dict[int, dict[str, Recorded]] = {}
        self._requests: dict[int, list[Request]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        if not s.getbool("PIXIV_DOWNLOAD_FILES"):
            raise NotConfigured("PIXIV_DOWNLOAD_FILES is off")
        cls._update_stores(s)
        return cls(s["FILES_STORE"], crawler=crawler, **cls.options(s))

    @classmethod
    def options(cls, s: BaseSettings) -> dict[str, Any]:
        """``__init__`` keywords from the settings (subclasses add theirs)."""
        return {
            "hosts": HostPolicy.from_settings(s),
            "covers": s.getbool("PIXIV_DOWNLOAD_COVERS"),
            "profile_images": s.getbool("PIXIV_DOWNLOAD_PROFILE_IMAGES"),
            "store_retry_times": s.getint("PIXIV_FILES_STORE_RETRY_TIMES"),
            "store_retry_backoff": s.getfloat("PIXIV_FILES_STORE_RETRY_BACKOFF"),
        }

    def close_spider(self) -> None:
        if isinstance(self.store, AtomicFSFilesStore):
            self.store.close()

    @property
    def store_broken(self) -> bool:
        """Whether FILES_STORE failed for good (in this or the ugoira pipeline): nothing more is fetched."""
        return bool(self.crawler.stats.get_value("pixivcrawl/files/store_failed"))

    def inc(self, key: str) -> None:
        self.crawler.stats.inc_value(f"pixivcrawl/{key}")

    # --- what to fetch ---------------------------------------------------------------

    def targets(self, item: Any) -> list[Target]:
        """The files ``item`` wants (without placeholders)."""
        targets: list[Target] = []
        if isinstance(item, Illust) and item.status is WorkStatus.AVAILABLE:
            for page in item.pages:
                if page.original_url and not placeholder_name(page.original_url):
                    targets.append(
                        Target(
                            "page",
                            page.original_url,
                            page_path(item, page.index, page.original_url),
                            _setter(page, "file"),
                            f"illust {item.id} page {page.index}",
                        )
                    )
        if self.covers and isinstance(item, Novel) and item.status is WorkStatus.AVAILABLE and item.cover_url:
            targets.append(
                Target(
                    "cover",
                    item.cover_url,
                    cover_path(item, item.cover_url),
                    _setter(item, "cover_file"),
                    f"novel {item.id} cover",
                )
            )
        if isinstance(item, NovelText):
            targets.extend(
                Target(
                    "novel_image",
                    image.url,
                    novel_image_path(item.novel_id, image.key, image.url),
                    _setter(image, "file"),
                    f"novel {item.novel_id} image {image.key}",
                )
                for image in item.images
                if image.url
            )
        if self.profile_images:
            for user in _users_of(item):
                url = full_size_avatar(user.profile_image_url or "")
                targets.append(
                    Target(
                        "profile_image",
                        url,
                        profile_image_path(user, url),
                        _setter(user, "profile_image_file"),
                        f"user {user.id} profile image",
                    )
                )
        return [t for t in targets if COMMON_IMAGES not in t.url]

    def recorded(self, item: Any) -> dict[str, Recorded]:
        """What the database recorded for ``item``'s files, by local path (runs in a thread)."""
        recorded: dict[str, Recorded] = {}
        if isinstance(item, Illust) and item.pages:
            recorded.update(self.archived.pages(item))
        if self.covers and isinstance(item, Novel) and item.cover_url:
            recorded.update(self.archived.cover(item))
        if isinstance(item, NovelText) and item.images:
            recorded.update(self.archived.novel_images(item))
        if self.profile_images:
            recorded.update(self.archived.profile_images(_users_of(item)))
        return recorded

    # Scrapy's signature still lists the deprecated ``spider`` argument, which Scrapy warns about when it is there.
    async def process_item(self, item: Any) -> Any:  # type: ignore[override]
        targets = self.targets(item)
        if not targets:
            # Nothing to fetch: Scrapy would make no request and hand the item on unchanged.
            return item
        # Worked out once per item (get_media_requests and item_completed ask again).
        self._targets[id(item)] = targets
        try:
            self._recorded[id(item)] = await run_in_thread(self.recorded, item)
            return await super().process_item(item)
        finally:
            self._targets.pop(id(item), None)
            self._recorded.pop(id(item), None)
            self._requests.pop(id(item), None)

    def targets_of(self, item: Any) -> list[Target]:
        """:meth:`targets` of an item being processed, as worked out when it came in."""
        targets = self._targets.get(id(item))
        return self.targets(item) if targets is None else targets

    def allowed(self, target: Target) -> bool:
        verdict = self.hosts.classify(target.url)
        if verdict.destination is Destination.IMAGE:
            return True
        reason = verdict.reason if verdict.refused else "host"
        self.inc(f"files/refused_{reason}")
        logger.warning("%s: refused %s (%s)", target.label, printable(target.url),
                       verdict.detail or "not an image origin (PIXIV_IMAGE_HOSTS)")
        return False

    def get_media_requests(self, item: Any, info: MediaPipeline.SpiderInfo) -> list[Request]:
        if self.store_broken:
            self._requests[id(item)] = []
            return []
        # By path without its suffix: the suffix stored comes from the bytes, not the URL.
        recorded = {_stem(path): r for path, r in self._recorded.get(id(item), {}).items()}
        requests = [
            Request(
                t.url,
                callback=NO_CALLBACK,
                meta={
                    "pixiv_file": t.kind,
                    "pixiv_file_path": t.path,
                    "pixiv_label": t.label,
                    "pixiv_recorded": recorded.get(_stem(t.path)),
                },
            )
            for t in self.targets_of(item)
            if self.allowed(t)
        ]
        self._requests[id(item)] = requests
        return requests

    def file_path(
        self,
        request: Request,
        response: Response | None = None,
        info: MediaPipeline.SpiderInfo | None = None,
        *,
        item: Any = None,
    ) -> str:
        return str(request.meta.get("pixiv_stored_path") or request.meta["pixiv_file_path"])

    # --- skipping what is archived -----------------------------------------------------

    async def stat(self, path: str, info: MediaPipeline.SpiderInfo) -> dict[str, Any]:
        try:
            return dict(await ensure_awaitable(self.store.stat_file(path, info)) or {})
        except Exception:
            logger.debug("Could not stat %s", path, exc_info=True)
            return {}

    async def archived_file(
        self, request: Request, info: MediaPipeline.SpiderInfo, recorded: Recorded | None, path: str
    ) -> StoredFile | None:
        """The archived file at ``path`` if it is this URL's and intact, else None (fetch it)."""
        if recorded is None or not same_image(recorded.url, request.url):
            return None
        stat = await self.stat(path, info)
        if not stat:
            return None
        if recorded.file is not None:
            # Remote stores do not report a size: their recorded facts are trusted.
            if "size" in stat and stat["size"] != recorded.file.size:
                return None
            return recorded.file
        # The database knows the URL but not the file's facts: read it once (local stores only).
        base = getattr(self.store, "basedir", None)
        if base is None or "size" not in stat:
            return None
        try:
            facts = await run_in_thread(self.verify_file, Path(base, *path.split("/")), request)
        except (OSError, InvalidFile):
            return None
        return stored(request.url, path, facts)

    def verify_file(self, path: Path, request: Request) -> Facts:
        return self.verify(path.read_bytes(), request)

    async def media_to_download(  # type: ignore[override]
        self, request: Request, info: MediaPipeline.SpiderInfo, *, item: Any = None
    ) -> FileInfo | None:
        recorded: Recorded | None = request.meta.get("pixiv_recorded")
        path = recorded.file.local_path if recorded and recorded.file else self.file_path(request, info=info, item=item)
        file = await self.archived_file(request, info, recorded, path)
        if file is None:
            return None
        logger.debug("File (uptodate): %s at %s", request.url, path)
        self.inc_stats("uptodate")
        return file_info(request.url, path, "uptodate", file)

    # --- fetching and verifying ------------------------------------------------------

    def verify(self, body: bytes, request: Request) -> Facts:
        """Facts of a downloaded body, or InvalidFile; runs in a thread."""
        return image_facts(body)

    def verify_and_write(self, body: bytes, request: Request) -> tuple[Facts, bool | OSError]:
        """:meth:`verify` ``body``, then write it where it goes in a local FILES_STORE; runs in a thread.

        One trip to a thread per file instead of two (each trip cost the reactor thread about
        0.1 ms, and the file's transfer its wake-ups). Returns the facts and whether the file was
        written (True), left to :meth:`persist` (False: a remote store, or a broken one), or the
        OSError of the write, which :meth:`persist` treats as its first failed attempt.
        """
        facts = self.verify(body, request)
        if not isinstance(self.store, AtomicFSFilesStore) or self.store_broken:
            return facts, False
        try:
            self.store.write(self.stored_path(request, facts), body)
        except OSError as exc:
            return facts, exc
        return facts, True

    def transfer_problem(self, response: Response) -> InvalidFile | None:
        length = response.headers.get(b"Content-Length")
        if "dataloss" in response.flags:
            return InvalidFile("truncated", "the connection closed early", retry=True)
        if length is not None and int(length) != len(response.body):
            return InvalidFile("truncated", f"{len(response.body)} of {int(length)} bytes", retry=True)
        return None

    @staticmethod
    def stored_path(request: Request, facts: Facts) -> str:
        """The planned path, under the suffix of the format in the file's bytes (never ``.php``)."""
        planned = str(request.meta["pixiv_file_path"])
        stem = _stem(planned)
        return stem + suffix_for(planned[len(stem):], facts.format)

    def name_from_bytes(self, request: Request) -> None:
        """Store the file under the suffix of the format in its bytes (never ``.php``); note trailing data."""
        facts: Facts = request.meta["pixiv_facts"]
        if facts.trailing:
            self.inc("files/trailing_data")
            logger.warning("File (trailing data): %s bytes after the image's end in %s; kept",
                           facts.trailing, request.url)
        path = self.stored_path(request, facts)
        if path != request.meta["pixiv_file_path"]:
            self.inc("files/suffix_from_bytes")
            request.meta["pixiv_stored_path"] = path

    async def media_downloaded(
        self,
        response: Response,
        request: Request,
        info: MediaPipeline.SpiderInfo,
        *,
        item: Any = None,
    ) -> FileInfo:
        while response.status == 200:
            problem = self.transfer_problem(response)
            if problem is None:
                try:
                    verified, written = await run_in_thread(self.verify_and_write, response.body, request)
                    request.meta["pixiv_facts"], request.meta["pixiv_written"] = verified, written
                    self.name_from_bytes(request)
                    break
                except InvalidFile as exc:
                    problem = exc
            self.inc(f"files/invalid/{problem.reason}")
            assert self.crawler.spider is not None  # downloads run only while the spider does
            retry = (
                get_retry_request(
                    request,
                    spider=self.crawler.spider,
                    reason=f"invalid file: {problem.reason}",
                    stats_base_key="pixivcrawl/files/retry",
                )
                if problem.retry
                else None
            )
            if retry is None:
                logger.warning("File (invalid): %s from %s; giving up", problem, request.url)
                raise problem
            logger.info("File (invalid): %s from %s; fetching it again", problem, request.url)
            request, response = retry, await self.crawler.engine.download_async(retry)
        if response.status != 200 or not response.body:
            # Scrapy's own warning and FileException.
            return await super().media_downloaded(response, request, info, item=item)
        path = self.file_path(request, response=response, info=info, item=item)
        checksum = await self.file_downloaded(response, request, info, item=item)
        # Counted only now that the file is on disk (Scrapy counts before it writes).
        status = "cached" if "cached" in response.flags else "downloaded"
        super().inc_stats(status)
        self.inc(f"files/stored/{request.meta['pixiv_file']}")
        facts = _facts_dict(request.meta.pop("pixiv_facts"))
        result = {"url": request.url, "path": path, "checksum": checksum, "status": status}
        return {**result, **facts, **request.meta.pop("pixiv_extra", {})}  # type: ignore[typeddict-item]

    def inc_stats(self, status: str) -> None:
        # A download is counted once its file is stored (media_downloaded), not when it arrives.
        if status == "uptodate":
            super().inc_stats(status)

    async def file_downloaded(
        self,
        response: Response,
        request: Request,
        info: MediaPipeline.SpiderInfo,
        *,
        item: Any = None,
    ) -> str:
        path = self.file_path(request, response=response, info=info, item=item)
        await self.persist(path, response.body, info, written=request.meta.pop("pixiv_written", False))
        return str(request.meta["pixiv_facts"].sha256)

    async def persist(
        self, path: str, data: bytes, info: MediaPipeline.SpiderInfo, *, written: bool | OSError = False
    ) -> None:
        """Write ``data`` at ``path`` in FILES_STORE, trying again after a pause on a machine fault.

        ``written``: the outcome of a first write already made (:meth:`verify_and_write`).
        Once PIXIV_FILES_STORE_RETRY_TIMES + 1 writes failed in a row (whichever
        files they were: downloads run in parallel), one ERROR line names the path
        and the cause and the crawl stops with ``files_store_failed``; the file is
        not counted or recorded, so the next run fetches it.
        """
        stats = self.crawler.stats
        attempt = 0
        while True:
            if self.store_broken:
                raise FilesStoreFailed("FILES_STORE failed")
            try:
                if isinstance(written, OSError):
                    raise written
                if not written:
                    await ensure_awaitable(self.store.persist_file(path, io.BytesIO(data), info))
            except OSError as exc:
                written = False
                stats.inc_value("pixivcrawl/files/store_errors_in_a_row")
                if stats.get_value("pixivcrawl/files/store_errors_in_a_row") > self.store_retry_times:
                    self.store_failed(path, exc)
                    raise FilesStoreFailed(f"{exc.strerror or exc}") from None
                self.inc("files/store_retries")
                await asyncio.sleep(self.store_retry_backoff * 2**attempt)
                attempt += 1
                continue
            stats.set_value("pixivcrawl/files/store_errors_in_a_row", 0)
            self.count_written(len(data))
            return

    def store_failed(self, path: str, exc: OSError) -> None:
        if self.store_broken:
            return
        self.inc("files/store_failed")
        base = getattr(self.store, "basedir", "?")
        logger.error(
            "Cannot write to FILES_STORE %s (%s): %s; the crawl stops (run it again once the store is "
            "writable to complete the archive)",
            base, Path(base, *path.split("/")), exc.strerror or exc,
        )
        engine = self.crawler.engine
        if engine is not None:
            # Held, so the loop's weak reference is not the only one while it runs.
            self._stopping = asyncio.ensure_future(engine.close_spider_async(reason=FILES_STORE_FAILED))

    def media_failed(self, failure: Failure, request: Request, info: MediaPipeline.SpiderInfo) -> Any:
        if isinstance(failure.value, (InvalidFile, FilesStoreFailed)):
            # Logged already, in one line: no second warning, no traceback.
            raise QuietFailure(str(failure.value)) from failure.value
        return super().media_failed(failure, request, info)

    def count_written(self, size: int) -> None:
        """Add a file written this crawl to ``pixivcrawl/files/bytes`` (the summary and progress show it)."""
        self.crawler.stats.inc_value("pixivcrawl/files/bytes", size)

    # --- results -----------------------------------------------------------------------

    def item_completed(self, results: list[FileInfoOrError], item: Any, info: MediaPipeline.SpiderInfo) -> Any:
        targets = {t.path: t for t in self.targets_of(item)}
        for request, (_ok, result) in zip(self._requests.pop(id(item), []), results, strict=False):
            if isinstance(result, Failure):  # not ok
                self.failed(request, result)
                continue
            target = targets.get(request.meta["pixiv_file_path"])
            # Scrapy lower-cases the host of a request URL (I.PXIMG.NET): compare as URLs.
            if target is not None and (result["url"] == target.url or same_url(result["url"], target.url)):
                target.assign(stored_from_result(result))
        return item

    def failed(self, request: Request, failure: Failure) -> None:
        """Log and count a file that ended without a verified copy; the item goes on without it."""
        self.inc("files/failed")
        if self.store_broken:
            return  # said once, in store_failed
        logger.error(
            "File (failed): %s from %s: %s", request.meta["pixiv_label"], request.url, failure.getErrorMessage()
        )


def _setter(obj: Any, field: str) -> Callable[[StoredFile], None]:
    def assign(file: StoredFile) -> None:
        setattr(obj, field, file)

    return assign


def _users_of(item: Any) -> list[User]:
    if isinstance(item, User):
        users = [item]
    elif isinstance(item, (Illust, Novel)):
        users = [item.user]
    else:
        return []
    return [u for u in users if u.id and u.profile_image_url]


def _stem(path: str) -> str:
    """``path`` without the suffix of its last segment."""
    head, _, name = path.rpartition("/")
    base = name.rsplit(".", 1)[0] if "." in name else name
    return f"{head}/{base}" if head else base
