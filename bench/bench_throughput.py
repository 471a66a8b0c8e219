"""Throughput: works/s, CPU per 1,000 works and peak RSS of a crawl, against baselines run just before.

Metadata only (default): the sandbox in its own process (no latency) serves one
ranking of N works; ``scrapy crawl ranking`` archives it into SQLite without
files, and ``bench/raw_baseline.py`` (http.client + json.loads + sqlite3
executemany of the same rows) does the same job. Targets (reported, not
asserted): >= 2,000 works/s; CPU per work within 3x of the raw baseline.

``--files``: realistic originals (1200x1200, padded to ~300 KB) and latency
(50 ms API, 20 ms images); the crawl downloads every page's original, against
pixivpy3 used the README way (``bench/pixivpy_baseline.py``). Target >= 5x.

    python bench/bench_throughput.py [--works 30000] [--quick] [--files [--file-works 1000]]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _harness as h

DATE = "2026-10-30"
TABLES = ("illusts", "users", "tags", "illust_tags", "illust_pages", "rankings")


def child_json(m: h.Measured) -> dict:
    for line in reversed(m.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {}


def metadata(works: int) -> int:
    print(f"Metadata-only throughput: one ranking of {works:,} works, sandbox in its own process, no latency.")
    size, dates = h.ranking_plan(works)
    print(f"(ranking_size {size:,}, date={dates}; a work is a ranking entry: its illust, user, tags and pages)")
    with h.SandboxProcess(ranking_size=size) as sandbox:
        with h.workdir() as wd:
            raw = h.run_measured([h.PYTHON, str(h.BENCH / "raw_baseline.py"), "--api", sandbox.api_url,
                                  "--db", str(wd / "raw.db"), "--date", dates])
            raw_rows = {t: h.db_count(wd / "raw.db", t) for t in TABLES}
        raw_works = raw_rows["rankings"] or 0
        sandbox.reset()
        sandbox_cpu = sandbox.cpu_seconds()
        with h.workdir() as wd:
            # At least 50 works/s, or it is reported as hung.
            crawl = h.run_crawl("ranking", sandbox, wd, spider_args={"date": dates}, timeout=max(180, works / 50))
            rows = {t: h.db_count(wd / "pixiv.db", t) for t in TABLES}
        crawl_works = rows["rankings"] or 0
        api_requests = sandbox.stats()["by_route"].get("/v1/illust/ranking", 0)
        sandbox_cpu = sandbox.cpu_seconds() - sandbox_cpu
    if not raw.ok:
        print("raw baseline failed:", h.fail_note(raw))
    if not crawl.ok or crawl_works < works:
        print(f"crawl: {crawl.status}, {crawl_works} works archived:", h.fail_note(crawl))

    def line(name: str, m: h.Measured, n: int) -> list:
        wps = n / m.wall if m.wall and n else None
        cpu_k = m.cpu / n * 1000 if n else None
        per_cpu = n / m.cpu if m.cpu and n else None
        return [name, n, f"{m.wall:.1f}", wps and round(wps), cpu_k and round(cpu_k, 2), per_cpu and round(per_cpu),
                round(m.maxrss_mb)]

    a, b = line("pixivcrawl `ranking`", crawl, crawl_works), line("raw baseline", raw, raw_works)
    h.print_table(
        f"Metadata only, {works:,} works ({h.machine()})",
        ["program", "works", "wall s", "works/s", "CPU s / 1k works", "works per CPU s", "peak RSS MB"],
        [a, b, ["**pixivcrawl / raw**", "", h.ratio(crawl.wall, raw.wall), h.ratio(a[3], b[3]),
                h.ratio(a[4], b[4]), h.ratio(a[5], b[5]), h.ratio(a[6], b[6])]],
    )
    h.print_table("Rows written", ["table", "pixivcrawl", "raw baseline"], [[t, rows[t], raw_rows[t]] for t in TABLES])
    wps = a[3] or 0
    print(f"\nTargets: >= 2,000 works/s: {'met' if wps >= 2000 else 'MISSED'} ({wps:,} works/s); "
          f"CPU per work within 3x of raw: {'met' if a[4] and b[4] and a[4] <= 3 * b[4] else 'MISSED'} "
          f"({h.ratio(a[4], b[4])}). API requests: {api_requests} (floor {-(-works // 30)}). "
          f"Sandbox CPU during the crawl: {sandbox_cpu:.1f} s. Crawl: {crawl.status}.")
    return 0


def with_files(works: int, ugoira_format: str) -> int:
    knobs = {"ranking_size": works, "latency_api": 50, "latency_image": 20, "image_width": 1200,
             "image_height": 1200, "image_bytes_min": 300_000}
    print(f"Throughput with files: {works:,} works, originals 1200x1200 >= 300 KB, latency 50 ms API / 20 ms images.")
    with h.SandboxProcess(**knobs) as sandbox:
        # The sandbox makes each image once (tens of ms for a padded 1200x1200 PNG) and
        # then serves it from memory: warm it, or whichever program runs first pays for it.
        with h.workdir() as wd:
            h.run_measured([h.PYTHON, str(h.BENCH / "pixivpy_baseline.py"), "--api", sandbox.api_url,
                            "--out", str(wd / "files"), "--date", DATE])
        sandbox.reset()
        with h.workdir() as wd:
            crawl = h.run_crawl("ranking", sandbox, wd, spider_args={"date": DATE}, files=True,
                                settings={"PIXIV_UGOIRA_FORMAT": ugoira_format}, timeout=max(300, works))
            crawl_works = h.db_count(wd / "pixiv.db", "illusts") or 0
            crawl_files, crawl_bytes = h.files_in(wd / "files")
        crawl_stats = sandbox.stats()
        sandbox.reset()
        with h.workdir() as wd:
            px = h.run_measured([h.PYTHON, str(h.BENCH / "pixivpy_baseline.py"), "--api", sandbox.api_url,
                                 "--out", str(wd / "files"), "--date", DATE])
            px_files, px_bytes = h.files_in(wd / "files")
        px_works = child_json(px).get("works", 0)
    for name, m in (("crawl", crawl), ("pixivpy", px)):
        if not m.ok:
            print(f"{name} failed ({m.status}):", h.fail_note(m))

    def line(name: str, m: h.Measured, n: int, f: int, size: int) -> list:
        return [name, n, f, round(size / 2**20), f"{m.wall:.1f}", round(n / m.wall, 1), round(f / m.wall, 1),
                round(m.cpu, 1), round(m.maxrss_mb)]

    a = line(f"pixivcrawl `ranking` (ugoira {ugoira_format})", crawl, crawl_works, crawl_files, crawl_bytes)
    b = line("pixivpy3 (README way)", px, px_works, px_files, px_bytes)
    h.print_table(
        f"With files, {works:,} works ({h.machine()})",
        ["program", "works", "files", "MiB", "wall s", "works/s", "files/s", "CPU s", "peak RSS MB"],
        [a, b, ["**pixivcrawl / pixivpy3**", "", "", "", h.ratio(crawl.wall, px.wall), h.ratio(a[5], b[5]),
                h.ratio(a[6], b[6]), h.ratio(a[7], b[7]), h.ratio(a[8], b[8])]],
    )
    speedup = a[5] / b[5] if b[5] else 0
    print(f"\nTarget >= 5x pixivpy3: {'met' if speedup >= 5 else 'MISSED'} ({speedup:.1f}x). "
          f"Crawl image requests {crawl_stats['image_requests']}, API {crawl_stats['requests_total']}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--works", type=int, default=30_000, help="works in the metadata run (default 30000)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3,000 works (150 with --files)")
    parser.add_argument("--files", action="store_true", help="also run the with-files comparison against pixivpy3")
    parser.add_argument("--file-works", type=int, default=1000, help="works in the files run (default 1000)")
    parser.add_argument("--only-files", action="store_true", help="skip the metadata run")
    parser.add_argument("--ugoira-format", default="zip",
                        help="PIXIV_UGOIRA_FORMAT of the files run (default zip: pixivpy3 converts nothing either)")
    args = parser.parse_args(argv)
    reason = h.sandbox_available()
    if reason:
        print(f"sandbox not available: {reason}")
        return 0
    if "ranking" not in h.available_spiders():
        print("spider ranking: not available")
        return 0
    works = 3000 if args.quick else args.works
    file_works = 150 if args.quick else args.file_works
    if not args.only_files:
        metadata(works)
    if args.files or args.only_files:
        with_files(file_works, args.ugoira_format)
    return 0


if __name__ == "__main__":
    sys.exit(main())
