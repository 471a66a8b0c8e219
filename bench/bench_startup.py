"""What a crawl costs before it does any work: CPU seconds and peak RSS of short commands.

A one-page ``ranking`` crawl (30 works, no files) on an empty archive and again on the
same archive, and ``scrapy list``, each the median of ``--repeat`` runs; against the
floor of an empty ``scrapy runspider`` in the same run (Scrapy alone, a spider with no
requests). Most of these seconds are imports: ``python -X importtime -m scrapy list``
shows them.

    python bench/bench_startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _harness as h

EMPTY_SPIDER = """
import scrapy


class Empty(scrapy.Spider):
    name = "empty"
    start_urls: list[str] = []
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command; medians are shown (default 5)")
    args = parser.parse_args(argv)
    reason = h.cannot_run("ranking")
    if reason:
        print(reason)
        return 0
    runs: dict[str, list[h.Measured]] = {"crawl, empty archive": [], "crawl again, same archive": [],
                                         "scrapy list": [], "floor: empty scrapy runspider": []}
    with h.SandboxProcess(ranking_size=30) as sandbox, h.workdir() as scratch:
        spider = scratch / "empty_spider.py"
        spider.write_text(EMPTY_SPIDER)
        for _ in range(args.repeat):  # interleaved, so that the machine's load falls on every command alike
            with h.workdir() as wd:
                for name in ("crawl, empty archive", "crawl again, same archive"):
                    m = h.run_crawl("ranking", sandbox, wd, spider_args={"date": h.LAST_DATE, "pages": 1}, timeout=120)
                    runs[name].append(m)
                stored = h.db_count(wd / "pixiv.db", "illusts")
                if stored != 30:
                    print(f"  the crawls stored {stored} illusts, not 30", flush=True)
            runs["scrapy list"].append(h.run_measured([h.PYTHON, "-m", "scrapy", "list"], timeout=120))
            runs["floor: empty scrapy runspider"].append(h.run_measured(
                [h.PYTHON, "-m", "scrapy", "runspider", str(spider), "-s", "LOG_LEVEL=WARNING",
                 "-s", "TELNETCONSOLE_ENABLED=false"], cwd=scratch, timeout=120))
    floor = statistics.median(m.cpu for m in runs["floor: empty scrapy runspider"])
    rows = []
    for name, measured in runs.items():
        cpu = statistics.median(m.cpu for m in measured)
        failed = [m for m in measured if not m.ok]
        rows.append([name, f"{cpu:.2f}", h.ratio(cpu, floor), round(statistics.median(m.maxrss_mb for m in measured)),
                     f"{statistics.median(m.wall for m in measured):.1f}",
                     f"{len(failed)} of {len(measured)} failed: {h.fail_note(failed[0])}" if failed else "ok"])
    h.print_table(f"Start-up cost, median of {args.repeat} runs ({h.machine()})",
                  ["command", "CPU s", "vs floor", "peak RSS MB", "wall s", "status"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
