"""Store throughput (works/s) through the real StorePipeline beside a raw executemany baseline.

Usage: python bench/bench_store.py [--works 30000] [--backends sqlite,postgresql]

Each work has 5 tags and 2 pages. "pipeline (new)" stores every work for the
first time; "pipeline (again)" stores the same works once more (all upserts hit
existing rows); "raw executemany" inserts the same rows with the driver's
executemany (SQLAlchemy Core, no conflict handling) into the same tables of a fresh database.
PostgreSQL runs in a throwaway schema of PIXIV_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from pixivcrawl.db.engine import create_engine, upgrade
from pixivcrawl.db.rows import Rows, merge_rows, rows_for
from pixivcrawl.db.rules import dedupe, rules_of
from pixivcrawl.db.schema import TABLES
from pixivcrawl.models import Illust, Page, Tag, User
from pixivcrawl.pipelines.store import StorePipeline

PG_URL = os.environ.get("PIXIV_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BATCH = 500
RAW_TABLES = ("users", "illusts", "illust_pages", "tags", "illust_tags", "work_stats")


def make_works(count: int) -> list[Illust]:
    created = dt.datetime(2025, 2, 3, tzinfo=dt.UTC)
    works = []
    for i in range(1, count + 1):
        base = f"https://i.pximg.net/img-original/img/2025/02/03/00/00/00/{i}"
        works.append(
            Illust(
                id=i,
                title=f"work {i}",
                caption=f"caption {i}",
                create_date=created + dt.timedelta(minutes=i),
                page_count=2,
                width=1200,
                height=1700,
                total_view=i * 10,
                total_bookmarks=i,
                tools=["CLIP STUDIO PAINT"],
                user=User(id=1 + i % 3000, name=f"user{i % 3000}", account=f"acc{i % 3000}"),
                tags=[Tag(name=f"tag{(i * 7 + k * 131) % 2000}", translated_name=f"t{k}") for k in range(5)],
                pages=[Page(index=p, original_url=f"{base}_p{p}.jpg", large_url=f"{base}_l{p}.jpg") for p in range(2)],
            )
        )
    return works


async def run_pipeline(url: str, works: list[Illust]) -> float:
    crawler = get_crawler(
        settings_dict={"PIXIV_DATABASE_URL": url, "PIXIV_DB_BATCH_SIZE": BATCH, "PIXIV_DB_FLUSH_INTERVAL": 5.0}
    )
    crawler.stats.open_spider()
    pipeline = build_from_crawler(StorePipeline, crawler)
    await pipeline.open_spider()
    start = time.perf_counter()
    for work in works:
        await pipeline.process_item(work)
    await pipeline.close_spider()
    elapsed = time.perf_counter() - start
    assert crawler.stats.get_value("pixivcrawl/db/items_stored") == len(works), crawler.stats.get_stats()
    return elapsed


def raw_batches(works: list[Illust]) -> list[Rows]:
    """The same rows the pipeline writes, deduplicated per batch, ready for executemany."""
    now = dt.datetime.now(dt.UTC)
    batches = []
    for start in range(0, len(works), BATCH):
        rows: Rows = {}
        for work in works[start : start + BATCH]:
            merge_rows(rows, rows_for(work, now))
        batches.append({t: dedupe(rules_of(TABLES[t]), rows[t]) for t in RAW_TABLES if t in rows})
    return batches


def run_raw(url: str, works: list[Illust]) -> float:
    engine = create_engine(url)
    upgrade(engine)
    batches = raw_batches(works)
    seen_users: set[int] = set()
    seen_tags: set[str] = set()
    start = time.perf_counter()
    with engine.connect() as connection:
        for rows in batches:
            # Parents already inserted by an earlier batch are skipped, as a raw loader would.
            rows["users"] = [r for r in rows["users"] if r["id"] not in seen_users]
            rows["tags"] = [r for r in rows["tags"] if r["name"] not in seen_tags]
            seen_users.update(r["id"] for r in rows["users"])
            seen_tags.update(r["name"] for r in rows["tags"])
            with connection.begin():
                for table in RAW_TABLES:
                    if rows.get(table):
                        connection.execute(TABLES[table].insert(), rows[table])
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def fresh_url(backend: str, tmp: Path) -> tuple[str, Any]:
    if backend == "sqlite":
        path = tmp / f"{uuid.uuid4().hex}.db"
        return f"sqlite:///{path}", None
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = sa.make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema},public"})

    def drop() -> None:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=int, default=30_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    works = make_works(args.works)
    print(f"{args.works} works, 5 tags and 2 pages each, batches of {BATCH}")
    print(f"{'backend':<11} {'pipeline (new)':>16} {'pipeline (again)':>17} {'raw executemany':>16} {'new/raw':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            try:
                url, cleanup = fresh_url(backend, Path(tmp))
            except sa.exc.OperationalError as exc:
                print(f"{backend:<11} skipped: {str(exc.orig).splitlines()[0]}")
                continue
            try:
                new = asyncio.run(run_pipeline(url, works))
                again = asyncio.run(run_pipeline(url, works))
            finally:
                if cleanup:
                    cleanup()
            raw_url, raw_cleanup = fresh_url(backend, Path(tmp))
            try:
                raw = run_raw(raw_url, works)
            finally:
                if raw_cleanup:
                    raw_cleanup()
            rate = lambda seconds: f"{args.works / seconds:,.0f} works/s"  # noqa: E731
            print(f"{backend:<11} {rate(new):>16} {rate(again):>17} {rate(raw):>16} {raw / new:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
