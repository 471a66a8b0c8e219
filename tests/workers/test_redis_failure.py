"""A Redis that is down at start stops the crawl with one line; one that goes away stops the workers cleanly."""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import in_ci
from tests.crawl import REPO, scrapy_command
from tests.workers.conftest import crawl_runs, start_worker, worker_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_redis_down_at_start_is_one_line_and_exit_1(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    result = scrapy_command(
        "crawl", "ranking", "-s", f"PIXIV_REDIS_URL=redis://127.0.0.1:{port}/5", "-s", "PIXIV_REFRESH_TOKEN=x",
        "-s", f"PIXIV_DATABASE_URL=sqlite:///{tmp_path / 'pixiv.db'}", cwd=REPO,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"Redis at redis://127.0.0.1:{port}/5 is unreachable" in lines[0]
    assert "PIXIV_REDIS_URL" in lines[0]
    assert not (tmp_path / "pixiv.db").exists()


@pytest.fixture
def own_redis(tmp_path: Path) -> Any:
    """A Redis server of this test's own (it is stopped mid-crawl), on a free port."""
    binary = shutil.which("redis-server")
    if binary is None:
        if in_ci():
            pytest.fail("redis-server is not installed (CI=true: Redis tests must run)")
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield process, f"redis://127.0.0.1:{port}/0"
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.mark.slow
@pytest.mark.redis
def test_redis_gone_midway_stops_the_worker_cleanly(own_redis: Any, make_sandbox: Any, tmp_path: Path) -> None:
    server, url = own_redis
    sandbox = make_sandbox(ranking_size=60, latency_image=30.0)
    root = tmp_path / "archive"
    db_url = f"sqlite:///{root / 'pixiv.db'}"
    settings = worker_settings(sandbox, root, db_url, PIXIV_REDIS_URL=url, PIXIV_WORKERS_TIMEOUT=3,
                               DOWNLOAD_SLOTS={"pixiv-api": {"concurrency": 1, "delay": 0.05},
                                               "pixiv-images": {"concurrency": 2, "delay": 0}})
    root.mkdir()
    worker = start_worker("ranking", {"date": "2026-10-28..2026-10-30"}, settings, tmp_path / "worker.log")
    deadline = time.monotonic() + 60
    while len(list((root / "files").rglob("*.*"))) < 20:
        assert worker.poll() is None and time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-3000:]
        time.sleep(0.05)
    server.kill()
    server.wait()
    assert worker.wait(60) == 1
    log = (tmp_path / "worker.log").read_text()
    assert f"Redis at {url} went away" in log
    assert "Traceback" not in log

    # Nothing half-way: every file the archive records is on disk, whole; no temporary files left.
    engine = sa.create_engine(db_url)
    with engine.connect() as connection:
        pages = connection.execute(sa.text("SELECT local_path, sha256 FROM illust_pages WHERE local_path IS NOT NULL")).all()
    engine.dispose()
    assert pages
    for local_path, sha256 in pages:
        assert hashlib.sha256((root / "files" / local_path).read_bytes()).hexdigest() == sha256
    assert not [p for p in (root / "files").rglob("*") if p.is_file() and ".tmp" in p.name]
    runs = crawl_runs(db_url)
    assert [(r["status"], r["finish_reason"]) for r in runs] == [("failed", "redis_unavailable")]


def test_a_bad_redis_url_is_a_bad_setting(tmp_path: Path) -> None:
    result = scrapy_command("crawl", "ranking", "-s", "PIXIV_REDIS_URL=http://127.0.0.1/5", "-s", "PIXIV_REFRESH_TOKEN=x",
                            "-s", f"PIXIV_DATABASE_URL=sqlite:///{tmp_path / 'pixiv.db'}", cwd=REPO)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("pixivcrawl: bad PIXIV_REDIS_URL 'http://127.0.0.1/5'"), result.stderr
