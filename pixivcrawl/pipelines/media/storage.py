"""Atomic local writes for FILES_STORE, with partial downloads kept out of the archive."""

from __future__ import annotations

import contextlib
import glob
import io
import logging
import os
import secrets
import shutil
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.pipelines.files import FSFilesStore
from scrapy.utils.asyncio import run_in_thread
from scrapy.utils.defer import deferred_from_coro

if TYPE_CHECKING:
    from scrapy.pipelines.files import StatInfo
    from scrapy.pipelines.media import MediaPipeline
    from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)


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
        # Folders made (or found) by this store, so each is made once.
        self._folders: set[Path] = set()
        if root.is_dir():
            for folder in root.glob(f"{glob.escape(host)}-*"):
                pid = folder.name.rsplit("-", 1)[1]
                if pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)):
                    partial = any(folder.iterdir())
                    shutil.rmtree(folder, ignore_errors=True)
                    if partial:
                        logger.info("Removed the partial downloads of a crawl that was killed (%s)", folder)

    # Scrapy's FSFilesStore writes in the reactor thread and returns None; the pipeline awaits whatever the store
    # returns (FilesStoreProtocol allows a Deferred), so this one writes in a thread.
    def persist_file(  # type: ignore[override]
        self,
        path: str | os.PathLike[str],
        buf: io.BytesIO,
        info: MediaPipeline.SpiderInfo,
        meta: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Deferred[None]:
        return deferred_from_coro(run_in_thread(self.write, path, buf.getvalue()))

    def write(self, path: str | os.PathLike[str], data: bytes) -> None:
        """Write ``data`` at ``path`` (relative to the store) atomically; blocks, so call it in a thread."""
        # In the thread, folders too: a mkdir on the reactor thread holds every transfer up.
        absolute = self._get_filesystem_path(path)
        self._make_folders(absolute.parent)
        try:
            write_atomically(absolute, data, self.staging)
        except FileNotFoundError:  # a folder removed while the crawl runs: made again
            self._folders.clear()
            self._make_folders(absolute.parent)
            write_atomically(absolute, data, self.staging)

    def _make_folders(self, parent: Path) -> None:
        for folder in (self.staging, parent):
            if folder not in self._folders:
                folder.mkdir(parents=True, exist_ok=True)
                self._folders.add(folder)

    def close(self) -> None:
        """Remove this crawl's staging folder (and ``.incoming`` when no other crawl uses it)."""
        shutil.rmtree(self.staging, ignore_errors=True)
        self._folders.discard(self.staging)
        with contextlib.suppress(OSError):
            self.staging.parent.rmdir()

    def stat_file(self, path: str | os.PathLike[str], info: MediaPipeline.SpiderInfo) -> StatInfo:
        try:
            st = self._get_filesystem_path(path).stat()
        except OSError:
            return {}
        return {"last_modified": st.st_mtime, "size": st.st_size}  # type: ignore[typeddict-unknown-key]
