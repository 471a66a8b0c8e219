"""Many workers: wall time of 1, 2 and 3 scrapy-redis workers over one files-heavy crawl, beside one process.

The sandbox runs in its own process with image latency; the crawl is unpaced
(no politeness delays: ``DOWNLOAD_SLOTS`` without delay), archives a ranking
date range with every original into PostgreSQL (a fresh schema per run) and a
fresh files directory. The one-process crawl runs without Redis; the worker
runs start N ``scrapy crawl`` processes with PIXIV_REDIS_URL at once and time
them until the last one exits. Each run must download every file exactly once
(sandbox image requests == files stored) for its time to count.

The point: how close to linear image throughput scales with workers, while
the API pace stays shared (here unpaced, so only the Redis round trip per call).
On a 2-core machine the workers compete for CPU with each other and the sandbox.

    python bench/bench_workers.py [--works 300] [--image-latency 200] [--redis redis://127.0.0.1:6379/9]
                                  [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis
import sqlalchemy as sa

from bench import _harness as h

KNOBS = {"image_width": 256, "image_height": 256, "image_bytes_min": 20_000}


def run(n: int | None, sandbox: h.SandboxProcess, work: Path, database_url: str, redis_url: str,
        spider_args: dict[str, Any]) -> dict[str, Any]:
    """One crawl: the plain one-process crawl (``n`` None) or ``n`` workers; wall time and counts."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    server = sa.create_engine(database_url)
    with server.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(database_url).update_query_dict({"options": f"-csearch_path={schema},public"})
    root = work / (f"workers{n}" if n else "one")
    settings: dict[str, Any] = {
        **sandbox.crawl_settings(),
        "PIXIV_DATABASE_URL": url.render_as_string(hide_password=False),
        "FILES_STORE": str(root / "files"),
        "PIXIV_TOKEN_FILE": str(root / "token.json"),
        "DOWNLOAD_SLOTS": h.FAST_SLOTS,
        "LOG_LEVEL": "INFO",
    }
    if n:
        settings.update(PIXIV_REDIS_URL=redis_url, PIXIV_WORKERS_IDLE_TIMEOUT=0.5)
        redis.Redis.from_url(redis_url).flushdb()
    sandbox.reset()
    root.mkdir(parents=True)
    started = time.perf_counter()
    procs = []
    for i in range(n or 1):
        with (root / f"worker{i}.log").open("wb") as log:
            procs.append(subprocess.Popen(h.crawl_args("ranking", spider_args, settings), cwd=h.REPO,
                                          stdout=log, stderr=subprocess.STDOUT))
    codes, cpu = [], 0.0
    for p in procs:
        _, status, usage = os.wait4(p.pid, 0)
        codes.append(os.waitstatus_to_exitcode(status))
        cpu += usage.ru_utime + usage.ru_stime
    wall = time.perf_counter() - started
    stats = sandbox.stats()
    files, size = h.files_in(root / "files")
    with server.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    server.dispose()
    return {"ok": all(c == 0 for c in codes), "wall": wall, "cpu": cpu, "files": files, "mb": size / 1e6,
            "images": stats["image_requests"], "api": stats["requests_total"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--works", type=int, default=300)
    parser.add_argument("--image-latency", type=float, default=200.0, help="ms the sandbox adds to each image request")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9", help="a Redis database this bench may empty")
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    opts = parser.parse_args()
    size, _dates = h.ranking_plan(opts.works)
    size = min(size, 100)  # several dates, so the listings spread over the workers
    days = -(-opts.works // size)
    import datetime as dt

    last = dt.date.fromisoformat(h.LAST_DATE)
    spider_args = {"date": f"{last - dt.timedelta(days=days - 1)}..{last}"}
    print(f"Workers: `ranking -a date={spider_args['date']}` ({days} x {size} works) with every original; "
          f"sandbox image latency {opts.image_latency:.0f} ms, ~{KNOBS['image_bytes_min'] // 1000} KB per image; "
          f"unpaced. {h.machine()}")
    rows = []
    with h.SandboxProcess(ranking_size=size, latency_image=opts.image_latency, **KNOBS) as sandbox, h.workdir() as work:
        base = reference_images = None
        for n in (None, 1, 2, 3):
            r = run(n, sandbox, work, opts.database_url, opts.redis, spider_args)
            if n is None:
                base, reference_images = r["wall"], r["images"]
            once = "yes" if r["images"] == reference_images else f"no ({r['images']} vs {reference_images} requests)"
            label = "one process (no Redis)" if n is None else f"{n} worker{'s' if n > 1 else ''}"
            rows.append([label, "ok" if r["ok"] else "FAILED", f"{r['wall']:.1f}", f"{r['cpu']:.1f}",
                         f"{r['files'] / r['wall']:.1f}",
                         r["files"], r["api"], once, h.ratio(base, r["wall"])])
        redis.Redis.from_url(opts.redis).flushdb()
    h.print_table("Wall time by number of workers", ["crawl", "status", "wall s", "CPU s (all workers)", "files/s", "files",
                                                     "API requests", "each file once", "speed-up vs one process"], rows)


if __name__ == "__main__":
    main()
