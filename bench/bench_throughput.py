"""Throughput: works/s, CPU per 1,000 works and peak RSS of a crawl, against baselines run just before.

Metadata only (default): the sandbox in its own process (no latency) serves one
ranking of N works; ``scrapy crawl ranking`` archives it into SQLite without
files, and ``bench/raw_baseline.py`` (http.client + json.loads + sqlite3
executemany of the same rows) does the same job. Targets (reported, not
asserted): >= 2,000 works/s; CPU per work within 3x of the raw baseline.
The same crawl then runs with the store off (Scrapy, parsing and validation
alone), and both report their CPU by thread (``bench/thread_cpu.py``): the
reactor thread against the store's database thread.

``--files``: realistic originals (1200x1200, padded to ~300 KB), politeness
delays off; the crawl stores every page's original (and each ugoira's zip)
against the raw file floor (``bench/raw_files_baseline.py``: a thread pool of
the same concurrency, http.client, sha256, atomic writes, no database), once
with latency (50 ms API, 20 ms images) and once without. Target: wall time
<= 1.5x the floor. With latency, pixivpy3 used the README way
(``bench/pixivpy_baseline.py``) runs too.

    python bench/bench_throughput.py [--works 30000] [--quick] [--files [--file-works 300] [--repeat 3]]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _harness as h

DATE = "2026-10-30"
TABLES = ("illusts", "users", "tags", "illust_tags", "illust_pages", "rankings")


def child_json(m: h.Measured) -> dict:
    for line in reversed(m.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {}


def thread_settings(path: Path) -> dict[str, Any]:
    """The project's extensions plus :class:`bench.thread_cpu.ThreadCpu` writing to ``path``.

    ``-s EXTENSIONS=...`` replaces the project's dict, so it is passed whole.
    """
    from pixivcrawl import settings as project

    return {"EXTENSIONS": {**project.EXTENSIONS, "bench.thread_cpu.ThreadCpu": 1000}, "BENCH_THREAD_CPU_FILE": str(path)}


def pipelines_without_store() -> dict[str, int]:
    """The project's item pipelines but the store (``-s ITEM_PIPELINES`` replaces the project's dict)."""
    from pixivcrawl import settings as project

    return {k: v for k, v in project.ITEM_PIPELINES.items() if not k.endswith("StorePipeline")}


def metadata(works: int) -> int:
    print(f"Metadata-only throughput: one ranking of {works:,} works, sandbox in its own process, no latency.")
    size, dates = h.ranking_plan(works)
    print(f"(ranking_size {size:,}, date={dates}; a work is a ranking entry: its illust, user, tags and pages)")
    threads: dict[str, dict[str, float]] = {}
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
            crawl = h.run_crawl("ranking", sandbox, wd, spider_args={"date": dates}, timeout=max(180, works / 50),
                                settings=thread_settings(wd / "threads.json"))
            rows = {t: h.db_count(wd / "pixiv.db", t) for t in TABLES}
            threads["crawl"] = json.loads((wd / "threads.json").read_text()) if crawl.ok else {}
        crawl_works = rows["rankings"] or 0
        api_requests = sandbox.stats()["by_route"].get("/v1/illust/ranking", 0)
        sandbox_cpu = sandbox.cpu_seconds() - sandbox_cpu
        # The same crawl with the store off: what Scrapy, parsing and validation cost on their own.
        sandbox.reset()
        with h.workdir() as wd:
            bare = h.run_crawl("ranking", sandbox, wd, spider_args={"date": dates}, timeout=max(180, works / 50),
                               settings={**thread_settings(wd / "threads.json"),
                                         "ITEM_PIPELINES": pipelines_without_store()})
            threads["bare"] = json.loads((wd / "threads.json").read_text()) if bare.ok else {}
        # It archives nothing to count: it read the same pages, so it went through the same works.
        same_pages = sandbox.stats()["by_route"].get("/v1/illust/ranking", 0) == api_requests
        bare_works = crawl_works if bare.ok and same_pages else 0
    if not raw.ok:
        print("raw baseline failed:", h.fail_note(raw))
    if not crawl.ok or crawl_works < works:
        print(f"crawl: {crawl.status}, {crawl_works} works archived:", h.fail_note(crawl))
    if not bare.ok:
        print(f"crawl with the store off: {bare.status}:", h.fail_note(bare))

    def line(name: str, m: h.Measured, n: int) -> list:
        wps = n / m.wall if m.wall and n else None
        cpu_k = m.cpu / n * 1000 if n else None
        per_cpu = n / m.cpu if m.cpu and n else None
        return [name, n, f"{m.wall:.1f}", wps and round(wps), cpu_k and round(cpu_k, 2), per_cpu and round(per_cpu),
                round(m.maxrss_mb)]

    a, b = line("pixivcrawl `ranking`", crawl, crawl_works), line("raw baseline", raw, raw_works)
    c = line("pixivcrawl, store off (not archived)", bare, bare_works)
    h.print_table(
        f"Metadata only, {works:,} works ({h.machine()})",
        ["program", "works", "wall s", "works/s", "CPU s / 1k works", "works per CPU s", "peak RSS MB"],
        [a, b, ["**pixivcrawl / raw**", "", h.ratio(crawl.wall, raw.wall), h.ratio(a[3], b[3]),
                h.ratio(a[4], b[4]), h.ratio(a[5], b[5]), h.ratio(a[6], b[6])],
         c, ["pixivcrawl, store off / raw", "", h.ratio(bare.wall, raw.wall), h.ratio(c[3], b[3]),
             h.ratio(c[4], b[4]), h.ratio(c[5], b[5]), h.ratio(c[6], b[6])]],
    )
    h.print_table(
        "CPU s by thread (the reactor thread: Scrapy, parsing, validation; the store's database thread)",
        ["crawl", "reactor thread", "store thread", "other threads", "process", "reactor / raw process",
         "store / raw process"],
        [[name, *(f"{t.get(k, 0):.1f}" for k in ("MainThread", "pixivcrawl-db_0", "other")), f"{m.cpu:.1f}",
          h.ratio(t.get("MainThread"), raw.cpu), h.ratio(t.get("pixivcrawl-db_0") or None, raw.cpu)]
         for name, m, t in (("pixivcrawl `ranking`", crawl, threads.get("crawl", {})),
                            ("store off", bare, threads.get("bare", {})))],
    )
    h.print_table("Rows written", ["table", "pixivcrawl", "raw baseline"], [[t, rows[t], raw_rows[t]] for t in TABLES])
    wps = a[3] or 0
    print(f"\nTargets: >= 2,000 works/s: {'met' if wps >= 2000 else 'MISSED'} ({wps:,} works/s); "
          f"CPU per work within 3x of raw: {'met' if a[4] and b[4] and a[4] <= 3 * b[4] else 'MISSED'} "
          f"({h.ratio(a[4], b[4])}). API requests: {api_requests} (floor {-(-works // 30)}). "
          f"Sandbox CPU during the crawl: {sandbox_cpu:.1f} s. Crawl: {crawl.status}.")
    return 0


#: Realistic originals: 1200x1200, padded to ~300 KB (an ugoira's big zip has frames of twice that size).
FILE_KNOBS = {"image_width": 1200, "image_height": 1200, "image_bytes_min": 300_000}
#: The files run, once with Pixiv-like latency and once without (where only CPU and the disk are left).
LATENCIES = (("50 ms API / 20 ms images", {"latency_api": 50, "latency_image": 20}), ("no latency", {}))


def median_run(runs: list[tuple[h.Measured, dict]]) -> tuple[h.Measured, dict]:
    """The run of median wall time (the lower middle one of an even number)."""
    return sorted(runs, key=lambda r: r[0].wall)[(len(runs) - 1) // 2]


def with_files(works: int, ugoira_format: str, concurrency: int, repeat: int, pixivpy: bool) -> int:
    """The crawl with every original against the raw file floor, with and without latency."""
    print(f"Throughput with files: a ranking of {works:,} works, originals 1200x1200 >= 300 KB, politeness delays "
          f"off, {concurrency} image transfers at once in both programs; median of {repeat} run(s) each.")
    slots = h.fast_slots(concurrency)
    settings = {
        "PIXIV_UGOIRA_FORMAT": ugoira_format,
        # The sandbox's 1920x1080 zips have frames of twice the originals' size (2400x2400), over the
        # default per-frame limit: raised, so that both programs store the same files.
        "PIXIV_UGOIRA_MAX_FRAME_PIXELS": 2 * FILE_KNOBS["image_width"] * 2 * FILE_KNOBS["image_height"],
        "DOWNLOAD_SLOTS": slots,
    }
    rows: list[list] = []
    verdicts: list[str] = []
    for label, latency in LATENCIES:
        with h.SandboxProcess(ranking_size=works, **FILE_KNOBS, **latency) as sandbox:
            # The sandbox makes each image once and then serves it from memory: warm it, or whichever
            # program runs first pays for it.
            with h.workdir() as wd:
                warm = h.run_measured(raw_files_args(sandbox, wd, concurrency))
                if not warm.ok:
                    print("raw file floor failed:", h.fail_note(warm))
                    return 1
            raws, crawls = [], []
            for _ in range(repeat):
                sandbox.reset()
                with h.workdir() as wd:
                    raw = h.run_measured(raw_files_args(sandbox, wd, concurrency))
                    raws.append((raw, {"files": h.files_in(wd / "files"), "works": child_json(raw).get("works", 0),
                                       "images": sandbox.stats()["image_requests"]}))
                sandbox.reset()
                with h.workdir() as wd:
                    crawl = h.run_crawl("ranking", sandbox, wd, spider_args={"date": DATE}, files=True,
                                        settings=settings, fast=False, timeout=max(300, works))
                    crawls.append((crawl, {"files": h.files_in(wd / "files"),
                                           "works": h.db_count(wd / "pixiv.db", "illusts") or 0,
                                           "images": sandbox.stats()["image_requests"]}))
            px = None
            if pixivpy and latency:
                sandbox.reset()
                with h.workdir() as wd:
                    m = h.run_measured([h.PYTHON, str(h.BENCH / "pixivpy_baseline.py"), "--api", sandbox.api_url,
                                        "--out", str(wd / "files"), "--date", DATE])
                    px = (m, {"files": h.files_in(wd / "files"), "works": child_json(m).get("works", 0),
                              "images": sandbox.stats()["image_requests"]})
        raw, raw_facts = median_run(raws)
        crawl, crawl_facts = median_run(crawls)
        for name, (m, _) in (("raw file floor", (raw, raw_facts)), ("crawl", (crawl, crawl_facts)),
                             *((("pixivpy3", px),) if px else ())):
            if not m.ok:
                print(f"{label}: {name} failed ({m.status}):", h.fail_note(m))

        def line(name: str, m: h.Measured, facts: dict) -> list:
            files, size = facts["files"]
            return [name, facts["works"], files, facts["images"], round(size / 2**20), f"{m.wall:.2f}",
                    round(files / m.wall, 1), f"{m.cpu:.2f}", round(m.maxrss_mb)]

        a, b = line(f"pixivcrawl `ranking` (ugoira {ugoira_format})", crawl, crawl_facts), line(
            "raw file floor", raw, raw_facts)
        ratio = crawl.wall / raw.wall if raw.wall else 0
        rows += [[f"**{label}**", "", "", "", "", "", "", "", ""], a, b,
                 ["**pixivcrawl / raw floor**", "", "", "", "", f"**{ratio:.2f}x**", h.ratio(b[6], a[6]),
                  h.ratio(crawl.cpu, raw.cpu), h.ratio(crawl.maxrss_mb, raw.maxrss_mb)]]
        if px:
            c = line("pixivpy3 (README way, sequential)", *px)
            rows += [c, ["pixivcrawl / pixivpy3", "", "", "", "", h.ratio(crawl.wall, px[0].wall), h.ratio(a[6], c[6]),
                         "", ""]]
        same = "same files" if crawl_facts["files"][0] == raw_facts["files"][0] else "DIFFERENT file counts"
        verdicts.append(f"{label}: {ratio:.2f}x the raw floor ({'met' if ratio <= 1.5 else 'MISSED'}; {same}; "
                        f"crawl walls {', '.join(f'{m.wall:.2f}' for m, _ in crawls)} s, raw "
                        f"{', '.join(f'{m.wall:.2f}' for m, _ in raws)} s)")
    h.print_table(
        f"With files, {works:,} works ({h.machine()})",
        ["program", "works", "files", "image requests", "MiB", "wall s", "files/s", "CPU s", "peak RSS MB"], rows,
    )
    print("\nTarget: wall time <= 1.5x the raw file floor (politeness delays off, same concurrency).")
    for verdict in verdicts:
        print(f"- {verdict}")
    return 0


def raw_files_args(sandbox: h.SandboxProcess, wd: Path, concurrency: int) -> list[str]:
    return [h.PYTHON, str(h.BENCH / "raw_files_baseline.py"), "--api", sandbox.api_url, "--out", str(wd / "files"),
            "--date", DATE, "--threads", str(concurrency)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--works", type=int, default=30_000, help="works in the metadata run (default 30000)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3,000 works (90 with --files)")
    parser.add_argument("--files", action="store_true", help="also run the with-files comparison (raw file floor)")
    parser.add_argument("--file-works", type=int, default=300,
                        help="works in the files run (default 300: 10 pages; keep it under ~600, the sandbox "
                             "holds 2,048 images in memory)")
    parser.add_argument("--file-concurrency", type=int, default=16,
                        help="image transfers at once, in the crawl's image slot and the raw floor's threads (16)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each program per latency; the median counts")
    parser.add_argument("--no-pixivpy", action="store_true", help="skip the (sequential, slow) pixivpy3 run")
    parser.add_argument("--only-files", action="store_true", help="skip the metadata run")
    parser.add_argument("--ugoira-format", default="zip",
                        help="PIXIV_UGOIRA_FORMAT of the files run (default zip: neither baseline converts)")
    args = parser.parse_args(argv)
    reason = h.cannot_run("ranking")
    if reason:
        print(reason)
        return 0
    works = 3000 if args.quick else args.works
    file_works = 90 if args.quick else args.file_works
    if not args.only_files:
        metadata(works)
    if args.files or args.only_files:
        with_files(file_works, args.ugoira_format, args.file_concurrency, max(1, args.repeat), not args.no_pixivpy)
    return 0


if __name__ == "__main__":
    sys.exit(main())
