"""One lock file per job: a job that is already running is never started twice."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def job_lock(path: Path) -> Iterator[IO[str] | None]:
    """Try to hold ``path`` (``fcntl.flock``, released when the holders end, even by SIGKILL).

    Yields the open lock file while this process holds it, None when another
    process does. A child process given the file's descriptor (``pass_fds``)
    holds the lock with it: were ``scrapy archive`` killed, its running crawl
    would still keep the job from starting twice. The file names the holder's
    process id, for people.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        try:
            handle.truncate(0)
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def holder(path: Path) -> str:
    """The process id written in a lock file, or '?'."""
    try:
        return path.read_text().strip() or "?"
    except OSError:
        return "?"
