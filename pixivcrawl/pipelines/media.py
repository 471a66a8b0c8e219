"""Originals, novel covers and profile images through Scrapy's FilesPipeline: verified, atomic, named from IDs."""

from __future__ import annotations

import glob
import hashlib
import io
import logging
import os
import re
import secrets
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar, Self
from urllib.parse import urlsplit

import sqlalchemy as sa
from PIL import Image
from scrapy import Request
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import NotConfigured
from scrapy.http.request import NO_CALLBACK
from scrapy.pipelines.files import FilesPipeline, FSFilesStore
from scrapy.pipelines.media import FileException
from scrapy.utils.asyncio import run_in_thread
from scrapy.utils.defer import deferred_from_coro, ensure_awaitable

from pixivcrawl.models import Illust, Novel, StoredFile, User, WorkStatus
from pixivcrawl.parsing import placeholder_name

if TYPE_CHECKING:
    from collections.abc import Callable

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.pipelines.files import StatInfo
    from scrapy.pipelines.media import FileInfo, FileInfoOrError, MediaPipeline
    from scrapy.settings import BaseSettings
    from sqlalchemy.engine import Engine
    from twisted.internet.defer import Deferred
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

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


def write_atomically(path: Path, data: bytes, staging: Path | None = None) -> None:
    """Write ``path`` so that readers see the old file or the whole new one, never a part.

    The temporary file is written in ``staging`` (default: beside ``path``), which
    must be on the same filesystem for the rename to be atomic.
    """
    # A unique temp name: several workers may share one FILES_STORE.
    tmp = (staging or path.parent) / f"{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class AtomicFSFilesStore(FSFilesStore):
    """FSFilesStore that writes a temporary file, then renames it, off the reactor thread.

    Temporary files live in ``<FILES_STORE>/.incoming/<host>-<pid>/``, one folder
    per crawl process, so the archive itself never holds a partial file. A crawl
    killed outright (SIGKILL) leaves its folder behind; the next crawl on the same
    host removes the folders of processes that are gone. ``stat_file`` reports the
    size and never reads the file (Scrapy's computes an MD5 of every archived file
    on every run).
    """

    STAGING = ".incoming"

    def __init__(self, basedir: str | os.PathLike[str]) -> None:
        super().__init__(basedir)
        root = Path(self.basedir) / self.STAGING
        host = socket.gethostname()
        self.staging = root / f"{host}-{os.getpid()}"
        if root.is_dir():
            for folder in root.glob(f"{glob.escape(host)}-*"):
                pid = folder.name.rsplit("-", 1)[1]
                if pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)):
                    shutil.rmtree(folder, ignore_errors=True)
                    logger.info("Removed the partial downloads of a crawl that was killed (%s)", folder)

    def persist_file(
        self,
        path: str,
        buf: io.BytesIO,
        info: MediaPipeline.SpiderInfo,
        meta: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Deferred[None]:
        absolute = self._get_filesystem_path(path)
        self._mkdir(absolute.parent, info)
        self.staging.mkdir(parents=True, exist_ok=True)
        return deferred_from_coro(run_in_thread(write_atomically, absolute, buf.getvalue(), self.staging))

    def stat_file(self, path: str, info: MediaPipeline.SpiderInfo) -> StatInfo:
        try:
            st = self._get_filesystem_path(path).stat()
        except OSError:
            return {}
        return {"last_modified": st.st_mtime, "size": st.st_size}  # type: ignore[typeddict-unknown-key]


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


def full_size_avatar(url: str) -> str:
    """The full-size avatar: ``..._170.jpg`` without the size suffix (as gallery-dl does)."""
    if "/user-profile/" not in url:
        return url
    return re.sub(r"_\d+(\.\w+)$", r"\1", url)


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
    """Reads the facts earlier runs recorded, so unchanged files are neither fetched nor re-read."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from pixivcrawl.db.engine import create_engine  # noqa: PLC0415

            self._engine = create_engine(self.database_url)
        return self._engine

    def query(self, sql: str | sa.TextClause, **params: Any) -> list[sa.Row[Any]]:
        statement = sa.text(sql) if isinstance(sql, str) else sql
        try:
            with self.engine.connect() as connection:
                return list(connection.execute(statement, params))
        except sa.exc.SQLAlchemyError as exc:
            # A fresh or foreign database: nothing is known, everything is fetched.
            logger.debug("No archived file facts (%s)", exc.__class__.__name__)
            return []

    def pages(self, illust: Illust) -> dict[str, Recorded]:
        rows = self.query(
            "SELECT file_url, local_path, size, sha256, width, height FROM illust_pages "
            "WHERE illust_id = :id AND local_path IS NOT NULL",
            id=illust.id,
        )
        return {
            r.local_path: Recorded(
                r.file_url,
                StoredFile(url=r.file_url, local_path=r.local_path, size=r.size, sha256=r.sha256,
                           width=r.width, height=r.height)
                if r.size is not None and r.sha256
                else None,
            )
            for r in rows
            if r.file_url
        }

    def profile_images(self, users: list[User]) -> dict[str, Recorded]:
        ids = sorted({u.id for u in users})
        if not ids:
            return {}
        statement = sa.text("SELECT id, profile_image_url FROM users WHERE id IN :ids").bindparams(
            sa.bindparam("ids", expanding=True)
        )
        recorded = {}
        for user_id, url in self.query(statement, ids=ids):
            if url and COMMON_IMAGES not in url:
                full = full_size_avatar(url)
                recorded[profile_image_path(User(id=user_id), full)] = Recorded(full, None)
        return recorded

    def cover(self, novel: Novel) -> dict[str, Recorded]:
        rows = self.query("SELECT cover_url FROM novels WHERE id = :id", id=novel.id)
        if not rows or not rows[0].cover_url:
            return {}
        url = rows[0].cover_url
        return {cover_path(novel, url): Recorded(url, None)}

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


class PixivFilesPipeline(FilesPipeline):
    """Originals of every page, novel covers and profile images, each verified before it counts.

    Settings: FILES_STORE, PIXIV_DOWNLOAD_FILES (master switch), PIXIV_DOWNLOAD_COVERS,
    PIXIV_DOWNLOAD_PROFILE_IMAGES, PIXIV_IMAGE_HOSTS, PIXIV_DATABASE_URL, RETRY_TIMES.

    - Requests go through the downloader middlewares: the auth middleware adds the
      Referer, drops Authorization and puts them on the image slot.
    - Only hosts in PIXIV_IMAGE_HOSTS are requested (``pixivcrawl/files/refused_host``);
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
        image_hosts: list[str],
        covers: bool,
        profile_images: bool,
        database_url: str,
    ) -> None:
        super().__init__(store_uri, crawler=crawler)
        self.image_hosts = {h.lower() for h in image_hosts}
        self.covers = covers
        self.profile_images = profile_images
        self.archived = ArchivedFiles(database_url)
        # Per item being processed (by id): the database's facts, then the requests made.
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
            "image_hosts": s.getlist("PIXIV_IMAGE_HOSTS"),
            "covers": s.getbool("PIXIV_DOWNLOAD_COVERS"),
            "profile_images": s.getbool("PIXIV_DOWNLOAD_PROFILE_IMAGES"),
            "database_url": s["PIXIV_DATABASE_URL"],
        }

    def close_spider(self) -> None:
        self.archived.close()

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
                        Target("page", page.original_url, page_path(item, page.index, page.original_url),
                               _setter(page, "file"), f"illust {item.id} page {page.index}")
                    )
        if self.covers and isinstance(item, Novel) and item.status is WorkStatus.AVAILABLE and item.cover_url:
            targets.append(
                Target("cover", item.cover_url, cover_path(item, item.cover_url), _setter(item, "cover_file"),
                       f"novel {item.id} cover")
            )
        if self.profile_images:
            for user in _users_of(item):
                url = full_size_avatar(user.profile_image_url or "")
                targets.append(
                    Target("profile_image", url, profile_image_path(user, url),
                           _setter(user, "profile_image_file"), f"user {user.id} profile image")
                )
        return [t for t in targets if COMMON_IMAGES not in t.url]

    def recorded(self, item: Any) -> dict[str, Recorded]:
        """What the database recorded for ``item``'s files, by local path (runs in a thread)."""
        recorded: dict[str, Recorded] = {}
        if isinstance(item, Illust) and item.pages:
            recorded.update(self.archived.pages(item))
        if self.covers and isinstance(item, Novel) and item.cover_url:
            recorded.update(self.archived.cover(item))
        if self.profile_images:
            recorded.update(self.archived.profile_images(_users_of(item)))
        return recorded

    async def process_item(self, item: Any) -> Any:
        if self.targets(item):
            self._recorded[id(item)] = await run_in_thread(self.recorded, item)
        try:
            return await super().process_item(item)
        finally:
            self._recorded.pop(id(item), None)
            self._requests.pop(id(item), None)

    def allowed(self, target: Target) -> bool:
        host = urlsplit(target.url).netloc.lower()
        if host in self.image_hosts:
            return True
        self.inc("files/refused_host")
        logger.warning("%s: refused %s (host %s is not in PIXIV_IMAGE_HOSTS)", target.label, target.url, host)
        return False

    def get_media_requests(self, item: Any, info: MediaPipeline.SpiderInfo) -> list[Request]:
        recorded = self._recorded.get(id(item), {})
        requests = [
            Request(
                t.url,
                callback=NO_CALLBACK,
                meta={
                    "pixiv_file": t.kind,
                    "pixiv_file_path": t.path,
                    "pixiv_label": t.label,
                    "pixiv_recorded": recorded.get(t.path),
                },
            )
            for t in self.targets(item)
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
        return str(request.meta["pixiv_file_path"])

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
        path = self.file_path(request, info=info, item=item)
        file = await self.archived_file(request, info, request.meta.get("pixiv_recorded"), path)
        if file is None:
            return None
        logger.debug("File (uptodate): %s at %s", request.url, path)
        self.inc_stats("uptodate")
        return file_info(request.url, path, "uptodate", file)

    # --- fetching and verifying ------------------------------------------------------

    def verify(self, body: bytes, request: Request) -> Facts:
        """Facts of a downloaded body, or InvalidFile; runs in a thread."""
        return image_facts(body)

    def transfer_problem(self, response: Response) -> InvalidFile | None:
        length = response.headers.get(b"Content-Length")
        if "dataloss" in response.flags:
            return InvalidFile("truncated", "the connection closed early", retry=True)
        if length is not None and int(length) != len(response.body):
            return InvalidFile("truncated", f"{len(response.body)} of {int(length)} bytes", retry=True)
        return None

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
                    request.meta["pixiv_facts"] = await run_in_thread(self.verify, response.body, request)
                    break
                except InvalidFile as exc:
                    problem = exc
            self.inc(f"files/invalid/{problem.reason}")
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
        result = await super().media_downloaded(response, request, info, item=item)
        self.inc(f"files/stored/{request.meta['pixiv_file']}")
        facts = _facts_dict(request.meta.pop("pixiv_facts"))
        return {**result, **facts, **request.meta.pop("pixiv_extra", {})}  # type: ignore[typeddict-item]

    async def file_downloaded(
        self,
        response: Response,
        request: Request,
        info: MediaPipeline.SpiderInfo,
        *,
        item: Any = None,
    ) -> str:
        path = self.file_path(request, response=response, info=info, item=item)
        await ensure_awaitable(self.store.persist_file(path, io.BytesIO(response.body), info))
        return str(request.meta["pixiv_facts"].sha256)

    # --- results -----------------------------------------------------------------------

    def item_completed(
        self, results: list[FileInfoOrError], item: Any, info: MediaPipeline.SpiderInfo
    ) -> Any:
        targets = {t.path: t for t in self.targets(item)}
        for request, (ok, result) in zip(self._requests.pop(id(item), []), results, strict=False):
            if not ok:
                self.failed(request, result)
                continue
            target = targets.get(result["path"])
            if target is not None and result["url"] == target.url:
                target.assign(stored_from_result(result))
        return item

    def failed(self, request: Request, failure: Failure) -> None:
        """Log and count a file that ended without a verified copy; the item goes on without it."""
        self.inc("files/failed")
        logger.error("File (failed): %s from %s: %s", request.meta["pixiv_label"], request.url,
                     failure.getErrorMessage())


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


def stored(url: str, path: str, facts: Facts) -> StoredFile:
    return StoredFile(url=url, local_path=path, size=facts.size, sha256=facts.sha256,
                      width=facts.width, height=facts.height)


def _facts_dict(facts: Facts) -> dict[str, Any]:
    return {"size": facts.size, "sha256": facts.sha256, "width": facts.width, "height": facts.height}


def file_info(url: str, path: str, status: str, file: StoredFile) -> FileInfo:
    info: dict[str, Any] = {"url": url, "path": path, "checksum": file.sha256, "status": status,
                            "size": file.size, "sha256": file.sha256, "width": file.width, "height": file.height}
    return info  # type: ignore[return-value]


def stored_from_result(result: FileInfo | dict[str, Any]) -> StoredFile:
    r: dict[str, Any] = dict(result)
    return StoredFile(url=r["url"], local_path=r["path"], size=r["size"], sha256=r["sha256"],
                      width=r.get("width"), height=r.get("height"))
