"""Three worker processes on one Redis, one sandbox (rate limit on) and one PostgreSQL: the same archive as one process."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import redis

from pixivcrawl.workers.keys import AccountKeys, account_id, token_cipher_key
from pixivcrawl.workers.tokens import unseal
from tests.crawl import RunningSandbox, file_hashes
from tests.workers.conftest import crawl_runs, pg_snapshot, redis_values, start_worker, worker_settings

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

#: 80 illust details: API calls that do not wait for each other, so three workers could send three times one's pace.
ARGS = {"illust_id": ",".join(str(120_000_000 + 7 * n) for n in range(80))}
API_DELAY = 0.1  # one worker's API pace: 10 calls a second
#: The sandbox refuses more than one worker's pace (with a little slack for timing) per 2 s window.
WORLD = {"rate_limit": int(2 / API_DELAY) + 2, "rate_limit_window": 2.0,
         "rate_limit_style": "429", "latency_image": 20.0}
SLOTS = {"pixiv-api": {"concurrency": 1, "delay": API_DELAY}, "pixiv-images": {"concurrency": 4, "delay": 0}}
WORKER = {"DOWNLOAD_SLOTS": SLOTS, "PIXIV_WORKERS_TIMEOUT": 3, "PIXIV_WORKERS_IDLE_TIMEOUT": 1,
          "PIXIV_WORKERS_PREFETCH": 2}
TIMEOUT = 180

_reference: dict[str, Any] = {}


@pytest.fixture
def world(make_sandbox: Any) -> RunningSandbox:
    return make_sandbox(**WORLD)


def reference(sandbox: RunningSandbox, tmp_path: Path, make_pg_url: Any) -> dict[str, Any]:
    """The one-process crawl of ARGS (no Redis): rows, file hashes and how many image requests it made."""
    if not _reference:
        sandbox.reset_stats()
        url = make_pg_url()
        root = tmp_path / "reference"
        process = start_worker("illust", ARGS, worker_settings(sandbox, root, url, DOWNLOAD_SLOTS=SLOTS),
                               tmp_path / "reference.log")
        assert process.wait(TIMEOUT) == 0, (tmp_path / "reference.log").read_text()[-3000:]
        stats = sandbox.stats()
        assert stats["rate_limited"] == 0
        _reference.update(rows=pg_snapshot(url), files=file_hashes(root / "files"), images=stats["image_requests"],
                          api=stats["by_route"])
        assert _reference["rows"]["illusts"] and len(_reference["files"]) > 100
        # The workers' first calls must not fall in the rate-limit window of the reference's last ones
        # (a worker starts in about a second: the window could still be open).
        time.sleep(WORLD["rate_limit_window"])
    sandbox.reset_stats()
    return _reference


def run_workers(sandbox: RunningSandbox, root: Path, url: str, redis_url: str, logs: Path, n: int = 3,
                name: str = "worker") -> list[subprocess.Popen[bytes]]:
    settings = worker_settings(sandbox, root, url, PIXIV_REDIS_URL=redis_url, **WORKER)
    return [start_worker("illust", ARGS, settings, logs / f"{name}{i}.log") for i in range(n)]


def wait_all(workers: list[subprocess.Popen[bytes]], logs: Path, *, watch: redis.Redis | None = None,
             name: str = "worker") -> dict[bytes, list[bytes]]:
    """Wait for the workers (each must exit 0); with ``watch``, every Redis value seen meanwhile."""
    seen: dict[bytes, list[bytes]] = {}
    deadline = time.monotonic() + TIMEOUT
    while any(w.poll() is None for w in workers):
        assert time.monotonic() < deadline, "workers did not finish"
        if watch is not None:
            for key, values in redis_values(watch).items():
                seen.setdefault(key, []).extend(values)
        time.sleep(0.1)
    for i, w in enumerate(workers):
        assert w.returncode == 0, (logs / f"{name}{i}.log").read_text()[-4000:]
    return seen


def test_three_workers_make_the_one_process_archive_within_one_budget(
    world: RunningSandbox, tmp_path: Path, make_pg_url: Any, redis_url: str
) -> None:
    ref = reference(world, tmp_path, make_pg_url)
    url, root = make_pg_url(), tmp_path / "workers"
    client = redis.Redis.from_url(redis_url)
    started = time.monotonic()
    workers = run_workers(world, root, url, redis_url, tmp_path)
    seen = wait_all(workers, tmp_path, watch=client)
    elapsed = time.monotonic() - started

    assert pg_snapshot(url) == ref["rows"]
    assert file_hashes(root / "files") == ref["files"]
    stats = world.stats()
    assert stats["image_requests"] == ref["images"], "a file was downloaded twice"
    assert stats["rate_limited"] == 0
    # Every API call (start requests too) made once across the workers: the same calls as one process.
    assert stats["by_route"] == ref["api"]
    assert sum(stats["by_route"].values()) / elapsed <= 1 / API_DELAY

    # Every worker worked, each has its own run row, and they share the crawl id.
    runs = crawl_runs(url)
    assert len(runs) == 3 and {r["status"] for r in runs} == {"finished"}
    assert len({r["crawl_id"] for r in runs}) == 1 and runs[0]["crawl_id"].startswith("illust-")
    assert sum(1 for r in runs if r["counts"]["files_downloaded"]) >= 2, "the files were not shared out"

    # Redis held the queue while the crawl ran, then only the account's sealed token and pace.
    assert any(b":requests" in key for key in seen)
    left = {key.decode() for key in client.scan_iter()}
    assert all(key.startswith("pixivcrawl:account:") for key in left), left
    token = world.config.refresh_token
    record = client.get(AccountKeys(account_id(token)).token)
    assert record is not None
    access = unseal(token_cipher_key(token), record)["access_token"]  # type: ignore[index]
    for secret in (token, access):
        assert not [key for key, values in seen.items() if secret.encode() in key or any(secret.encode() in v for v in values)]
    assert not any(b"Bearer" in v for values in seen.values() for v in values)


def test_a_worker_killed_midway_loses_nothing(
    world: RunningSandbox, tmp_path: Path, make_pg_url: Any, redis_url: str
) -> None:
    ref = reference(world, tmp_path, make_pg_url)
    url, root = make_pg_url(), tmp_path / "workers"
    workers = run_workers(world, root, url, redis_url, tmp_path)
    victim = workers[1]
    deadline = time.monotonic() + TIMEOUT
    while len([p for p in (root / "files").rglob("*") if p.is_file()]) < 0.4 * len(ref["files"]):
        assert time.monotonic() < deadline and victim.poll() is None, "the crawl ended before 40%"
        time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    survivors = [w for w in workers if w is not victim]
    wait_all(survivors, tmp_path)

    reruns = 0
    if pg_snapshot(url) != ref["rows"] or file_hashes(root / "files") != ref["files"]:
        reruns = 1  # allowed once: the same command again
        if os.environ.get("PIXIV_DEBUG_RERUN"):
            rows, files = pg_snapshot(url), file_hashes(root / "files")
            diff = {t: (len(v), len(ref["rows"].get(t, []))) for t, v in rows.items() if v != ref["rows"].get(t)}
            extra = set(files) ^ set(ref["files"])
            (tmp_path / "diff.txt").write_text(f"{diff}\n{sorted(extra)[:20]}\n")
        wait_all(run_workers(world, root, url, redis_url, tmp_path, n=1, name="rerun"), tmp_path, name="rerun")
    assert pg_snapshot(url) == ref["rows"]
    assert file_hashes(root / "files") == ref["files"]
    runs = {r["pid"]: r for r in crawl_runs(url)}
    assert runs[victim.pid]["status"] == "lost"
    assert len(runs) == 3 + reruns
    assert world.stats()["rate_limited"] == 0


def test_a_stopped_crawl_resumes_where_it_stopped(
    world: RunningSandbox, tmp_path: Path, make_pg_url: Any, redis_url: str
) -> None:
    ref = reference(world, tmp_path, make_pg_url)
    url, root = make_pg_url(), tmp_path / "workers"
    [worker] = run_workers(world, root, url, redis_url, tmp_path, n=1)
    deadline = time.monotonic() + TIMEOUT
    while len([p for p in (root / "files").rglob("*") if p.is_file()]) < 0.3 * len(ref["files"]):
        assert time.monotonic() < deadline and worker.poll() is None, "the crawl ended before 30%"
        time.sleep(0.05)
    worker.send_signal(signal.SIGINT)
    assert worker.wait(60) == 1  # interrupted
    client = redis.Redis.from_url(redis_url)
    queued = [key for key in client.scan_iter() if key.endswith(b":requests")]
    assert queued and client.zcard(queued[0]) > 0
    assert not [key for key in client.scan_iter() if b":held:" in key or b":alive:" in key]

    wait_all(run_workers(world, root, url, redis_url, tmp_path, n=2, name="resume"), tmp_path, name="resume")
    assert pg_snapshot(url) == ref["rows"]
    assert file_hashes(root / "files") == ref["files"]
    # Resumed, not started over: the details done before the stop were not asked for again
    # (only what the stopped worker held, at most PIXIV_WORKERS_PREFETCH requests, is asked twice).
    stats = world.stats()
    assert stats["by_route"]["/v1/illust/detail"] <= ref["api"]["/v1/illust/detail"] + WORKER["PIXIV_WORKERS_PREFETCH"]
    assert [r["status"] for r in crawl_runs(url)] == ["interrupted", "finished", "finished"]
