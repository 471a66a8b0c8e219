"""Requests per archived work, incremental re-runs and politeness, counted by the sandbox (/__stats).

1. Requests per work, for every spider that has landed (others: "not available"): API
   requests (auth excluded) per work archived, against the floor (one listing page per
   30 works, plus one ugoira metadata call per ugoira and one text call per novel, plus
   one detail call per id for the by-id spiders).
2. Incremental: ``user`` with PIXIV_INCREMENTAL=true (files on, small images), re-run
   with nothing new, and with 1% new works (the newest 1% of the user's illusts are
   deleted from the archive before the re-run: to the crawl they are new).
3. Politeness: the sandbox's rate limit on (60 requests / 60 s), a 3-page ranking under
   the DEFAULT settings (no speed overrides), and the same with the benchmarks' speed
   settings for contrast: time to finish and rate-limit answers received.

    python bench/bench_requests.py [--pages 3] [--skip-politeness]
"""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _harness as h

ILLUST = 120_000_000
NOVEL = 20_000_000


def plans(pages: int) -> list[tuple[str, dict[str, Any], int]]:
    """(spider, arguments, detail calls the floor allows per id)."""
    p = str(pages)
    return [
        ("ranking", {"date": h.LAST_DATE, "pages": p}, 0),
        ("search", {"word": "オリジナル", "pages": p}, 0),
        ("search", {"word": "オリジナル", "type": "novel", "pages": p}, 0),
        ("user", {"user_id": "2", "pages": p}, 1),
        ("bookmarks", {"pages": p}, 0),
        ("bookmarks", {"type": "novel", "pages": p}, 0),
        ("following", {"pages": p}, 0),
        ("feed", {"pages": p}, 0),
        ("new", {"pages": p}, 0),
        ("recommended", {"pages": p}, 0),
        ("related", {"illust_id": str(ILLUST + 5), "pages": p}, 0),
        ("illust", {"illust_id": ",".join(str(ILLUST + i) for i in range(1, 31))}, 1),
        ("novel", {"novel_id": ",".join(str(NOVEL + i) for i in range(1, 11))}, 1),
        ("series", {"series_id": "1", "type": "illust", "pages": p}, 1),
        ("trending", {}, 0),
    ]


def counts(db: Path) -> dict[str, int]:
    out = {}
    for table in ("illusts", "novels", "users", "ugoira", "novel_texts", "follows", "bookmarks", "trending_tags"):
        out[table] = h.db_count(db, table) or 0
    return out


def api_requests(stats: dict[str, Any]) -> int:
    by_route = stats.get("by_route", {})
    return sum(n for route, n in by_route.items() if not route.startswith("/auth/"))


def requests_per_work(pages: int) -> None:
    spiders = h.available_spiders()
    rows = []
    with h.SandboxProcess() as sandbox:
        for spider, args, per_id in plans(pages):
            label = f"{spider} " + " ".join(f"{k}={v if len(v) < 20 else v[:17] + '...'}" for k, v in args.items())
            if spider not in spiders:
                rows.append([label, "not available", "", "", "", "", ""])
                continue
            sandbox.reset()
            with h.workdir() as wd:
                m = h.run_crawl(spider, sandbox, wd, spider_args=args, timeout=180)
                c = counts(wd / "pixiv.db")
            stats = sandbox.stats()
            n_api = api_requests(stats)
            works = c["illusts"] + c["novels"]
            ids = len(args.get("illust_id", args.get("novel_id", args.get("series_id", args.get("user_id", "")))).split(",")) \
                if per_id else 0
            listed = works if spider not in ("follows", "following") else c["users"]
            floor = -(-listed // 30) + c["ugoira"] + c["novel_texts"] + ids * per_id
            if spider in ("illust", "novel"):
                floor = ids + c["ugoira"] + c["novel_texts"]
            routes = ", ".join(f"{r} {n}" for r, n in sorted(stats["by_route"].items(), key=lambda x: -x[1])
                               if not r.startswith("/auth/"))
            status = m.status if not m.ok else ""
            per = f"{n_api / listed:.3f}" if listed else "n/a"
            rows.append([label, f"{works} works" + (f" / {c['users']} users" if spider == "following" else ""),
                         n_api, floor, per, h.ratio(n_api, floor), (status + " " + routes).strip()])
    h.print_table("API requests per archived work (auth excluded)",
                  ["spider and arguments", "archived", "API requests", "floor", "requests / item", "vs floor",
                   "requests by route"], rows)


def incremental() -> None:
    if "user" not in h.available_spiders():
        print("\nIncremental: spider user not available")
        return
    rows = []
    args = {"user_id": "2,3,4"}
    with h.SandboxProcess() as sandbox, h.workdir() as wd:
        settings = {"PIXIV_INCREMENTAL": True}

        def run(label: str) -> None:
            sandbox.reset()
            m = h.run_crawl("user", sandbox, wd, spider_args=args, settings=settings, files=True, timeout=300)
            s = sandbox.stats()
            rows.append([label, h.db_count(wd / "pixiv.db", "illusts"), api_requests(s), s["image_requests"],
                         h.files_in(wd / "files")[0], f"{m.wall:.1f}", m.status])

        run("first run")
        run("re-run, nothing new")
        db = wd / "pixiv.db"
        with contextlib.closing(sqlite3.connect(db)) as conn, conn:
            ids = [r[0] for r in conn.execute("SELECT id FROM illusts ORDER BY create_date DESC")]
            gone = ids[: max(1, len(ids) // 100)]
            marks = ",".join("?" * len(gone))
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:
                cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
                if "illust_id" in cols:
                    conn.execute(f"DELETE FROM {table} WHERE illust_id IN ({marks})", gone)
            conn.execute(f"DELETE FROM illusts WHERE id IN ({marks})", gone)
        run(f"re-run, 1% new ({len(gone)} works)")
    h.print_table("Incremental re-runs: `user user_id=2,3,4`, PIXIV_INCREMENTAL=true, files on",
                  ["run", "illusts in archive", "API requests", "image requests", "files on disk", "wall s", "status"],
                  rows)


def politeness() -> None:
    if "ranking" not in h.available_spiders():
        print("\nPoliteness: spider ranking not available")
        return
    rows = []
    for label, fast in (("default settings", False), ("speed settings (api concurrency 4, no delay)", True)):
        with h.SandboxProcess(rate_limit=60, rate_limit_window=60) as sandbox, h.workdir() as wd:
            m = h.run_crawl("ranking", sandbox, wd, spider_args={"date": h.LAST_DATE, "pages": "3"}, fast=fast,
                            timeout=600)
            s = sandbox.stats()
            rows.append([label, h.db_count(wd / "pixiv.db", "rankings"), api_requests(s), s["rate_limited"],
                         s.get("by_status", {}).get("403", 0), s.get("by_status", {}).get("429", 0),
                         f"{m.wall:.1f}", m.status])
    h.print_table("Politeness: sandbox rate limit 60 requests / 60 s, `ranking pages=3`",
                  ["settings", "works", "API requests", "rate-limit answers", "403", "429", "wall s", "status"], rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=3, help="pages per listing (default 3)")
    parser.add_argument("--skip-politeness", action="store_true")
    parser.add_argument("--skip-incremental", action="store_true")
    args = parser.parse_args(argv)
    reason = h.sandbox_available()
    if reason:
        print(f"sandbox not available: {reason}")
        return 0
    print(f"Machine: {h.machine()}")
    requests_per_work(args.pages)
    if not args.skip_incremental:
        incremental()
    if not args.skip_politeness:
        politeness()
    return 0


if __name__ == "__main__":
    sys.exit(main())
