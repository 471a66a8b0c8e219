"""The machine's own faults: a full FILES_STORE or database stops the crawl loudly; a short outage loses nothing."""

from __future__ import annotations

import contextlib
import errno
import glob
import json
import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.db.engine import create_engine, upgrade
from pixivcrawl.pipelines.media import storage
from pixivcrawl.spiders.ranking import RankingSpider
from tests.conftest import in_ci
from tests.crawl import Archive, crawl
from tests.hostile.data_server import MB, child_settings, crawl_command, run_crawl

pytestmark = pytest.mark.slow

DATE = "2026-10-30"
RANKING = ["ranking", "-a", f"date={DATE}"]


def errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "] ERROR: " in line]


def assert_complete(archive: Archive, works: int) -> None:
    """Every work, rank and page of the ranking is archived, with its file on disk."""
    assert archive.count("illusts") == archive.count("rankings") == works
    pages = archive.query("SELECT local_path FROM illust_pages")
    assert pages and all(path and (archive.files / path).is_file() for (path,) in pages)


def test_a_full_files_store_stops_the_crawl_with_one_error_and_a_rerun_completes(make_data_sandbox: Any,
                                                                                 archive: Archive) -> None:
    # Every original is 2 MB; the crawl may write files of at most 1.5 MB: a full disk, for files only.
    sandbox = make_data_sandbox(ranking_size=10, image_bytes_min=2 * MB)
    archive.root.mkdir(parents=True)
    settings = child_settings(sandbox, archive, PIXIV_FILES_STORE_RETRY_BACKOFF=0.05)
    process, _ = run_crawl(RANKING, settings, archive.root, file_size_limit=int(1.5 * MB))
    assert process.returncode == 1
    [cause, summary] = errors(process.stderr)
    assert f"Cannot write to FILES_STORE {archive.files} ({archive.files}/" in cause
    assert cause.endswith("File too large; the crawl stops (run it again once the store is writable "
                          "to complete the archive)")
    assert "Crawl failed: files_store_failed" in summary
    assert "Traceback" not in process.stderr
    # Nothing is counted or recorded as stored unless it is on disk.
    assert not archive.stored_files()
    assert archive.query("SELECT count(*) FROM illust_pages WHERE local_path IS NOT NULL") == [(0,)]
    [(status, reason, counts)] = archive.query("SELECT status, finish_reason, counts FROM crawl_runs")
    assert (status, reason, json.loads(counts)["files_downloaded"]) == ("failed", "files_store_failed", 0)

    process, _ = run_crawl(RANKING, settings, archive.root)
    assert process.returncode == 0, process.stderr[-3000:]
    assert_complete(archive, 10)


def test_a_full_database_stops_the_crawl_with_one_error_and_a_rerun_completes(make_data_sandbox: Any,
                                                                             archive: Archive) -> None:
    sandbox = make_data_sandbox(ranking_size=60)
    archive.root.mkdir(parents=True)
    settings = child_settings(sandbox, archive, PIXIV_DB_RETRY_TIMES=2, PIXIV_DB_RETRY_BACKOFF=0.05,
                              PIXIV_DB_BATCH_SIZE=20, PIXIV_DOWNLOAD_FILES=False)
    engine = create_engine(f"sqlite:///{archive.db_path}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    # No file may pass 64 KB: the database's write-ahead log fills the disk after a few batches.
    process, _ = run_crawl(RANKING, settings, archive.root, file_size_limit=64 * 1024)
    assert process.returncode == 1
    [cause, summary] = errors(process.stderr)
    assert f"Cannot write to the archive database sqlite:///{archive.db_path} after 3 tries: " in cause
    # SQLite's words for a write the disk refused (EFBIG here; ENOSPC says "database or disk is full").
    assert "disk I/O error" in cause or "database or disk is full" in cause
    assert "Crawl failed: database_failed" in summary
    assert "Traceback" not in process.stderr and "Lost a batch" not in process.stderr
    assert archive.count("illusts") < 60

    process, _ = run_crawl(RANKING, settings, archive.root)
    assert process.returncode == 0, process.stderr[-3000:]
    assert archive.count("illusts") == archive.count("rankings") == 60


# --- a PostgreSQL of our own, stopped for 8 s mid-crawl ------------------------------------------------

class PrivatePostgres:
    """A throwaway PostgreSQL server on a free port, run as the postgres user (never the shared one)."""

    def __init__(self) -> None:
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not binaries:
            raise RuntimeError("no pg_ctl under /usr/lib/postgresql/*/bin")
        self.bin = Path(binaries[-1]).parent
        self.root = Path(tempfile.mkdtemp(prefix="pixivcrawl-pg-"))
        self.data = self.root / "data"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self.run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    try:
        server = PrivatePostgres()
    except (RuntimeError, OSError, KeyError, subprocess.SubprocessError) as exc:
        reason = f"cannot start a private PostgreSQL server: {exc}"
        if in_ci():
            pytest.fail(f"{reason} (CI=true: the outage test must run)")
        pytest.skip(reason)
    yield server
    server.remove()


def count(url: str, table: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
    except sa.exc.SQLAlchemyError:
        return 0
    finally:
        engine.dispose()


def test_a_database_stopped_for_8_seconds_mid_crawl_loses_nothing(private_postgres: PrivatePostgres,
                                                                  make_data_sandbox: Any, archive: Archive) -> None:
    sandbox = make_data_sandbox(ranking_size=60)
    archive.root.mkdir(parents=True)
    # Files one at a time, a little apart: the crawl stores works for ~15 s.
    settings = child_settings(
        sandbox, archive, PIXIV_DATABASE_URL=private_postgres.url,
        DOWNLOAD_SLOTS={"pixiv-api": {"concurrency": 2, "delay": 0},
                        "pixiv-images": {"concurrency": 1, "delay": 0.08}},
    )
    command, env = crawl_command(RANKING, settings, archive.root)
    crawl = subprocess.Popen(command, cwd=archive.root, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while count(private_postgres.url, "illusts") == 0:
        assert time.monotonic() < deadline and crawl.poll() is None, "the crawl stored nothing"
        time.sleep(0.2)
    private_postgres.stop()
    time.sleep(8)
    private_postgres.start()
    _, stderr = crawl.communicate(timeout=180)
    assert crawl.returncode == 0, stderr[-3000:]
    assert "unavailable" in stderr and "trying again" in stderr
    assert not errors(stderr) and "Lost a batch" not in stderr
    assert count(private_postgres.url, "illusts") == count(private_postgres.url, "rankings") == 60
    assert count(private_postgres.url, "illust_pages WHERE local_path IS NULL") == 0
    assert count(private_postgres.url, "crawl_runs WHERE status = 'finished'") == 1



@deferred_f_from_coro_f
async def test_a_read_only_files_store_stops_the_crawl_in_one_line(make_data_sandbox: Any, archive: Archive,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    # chmod does not stop root (CI runs as root): the store's write itself says EROFS, as a read-only mount does.
    def read_only(path: Path, data: bytes, staging: Path | None = None) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr(storage, "write_atomically", read_only)
    crawler = await crawl(RankingSpider, make_data_sandbox(ranking_size=10), archive, date=DATE,
                          settings={"PIXIV_FILES_STORE_RETRY_BACKOFF": 0.01})
    stats = crawler.stats.get_stats()
    assert stats["finish_reason"] == "files_store_failed"
    [error] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert error.startswith(f"Cannot write to FILES_STORE {archive.files} (") and ": Read-only file system;" in error
    assert stats["pixivcrawl/files/store_retries"] == 2  # PIXIV_FILES_STORE_RETRY_TIMES failures in a row, then it stops
    assert "file_status_count/downloaded" not in stats
    assert archive.query("SELECT count(*) FROM illust_pages WHERE local_path IS NOT NULL") == [(0,)]
    assert archive.query("SELECT status FROM crawl_runs") == [("failed",)]
