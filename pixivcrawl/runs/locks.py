"""One lock file per job: a job that is already running is never started twice."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def job_lock(path: Path) -> Iterator[bool]:
    """Try to hold ``path`` (``fcntl.flock``, released when the process ends, even by SIGKILL).

    Yields True while this process holds it, False when another process does.
    The file names the holder's process id, for people.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            handle.truncate(0)
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def holder(path: Path) -> str:
    """The process id written in a lock file, or '?'."""
    try:
        return path.read_text().strip() or "?"
    except OSError:
        return "?"
