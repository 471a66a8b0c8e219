"""Peak RSS of a metadata-only ``ranking`` crawl as the number of works grows (it must stay flat).

Targets (reported, not asserted): < 150 MB at 300,000 works, and flat: the
largest run within 10% of the 30,000-work one. The 300k run takes
300,000 / (works/s) seconds, so it is behind ``--full``.

    python bench/bench_memory.py [--full] [--sizes 10000,30000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _harness as h


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="add the 300,000-work run")
    parser.add_argument("--sizes", default="3000,30000", help="comma list of work counts (default 3000,30000)")
    args = parser.parse_args(argv)
    reason = h.cannot_run("ranking")
    if reason:
        print(reason)
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.full and 300_000 not in sizes:
        sizes.append(300_000)
    rows = []
    first_rss = None
    for works in sizes:
        size, dates = h.ranking_plan(works)
        with h.SandboxProcess(ranking_size=size) as sandbox, h.workdir() as wd:
            m = h.run_crawl("ranking", sandbox, wd, spider_args={"date": dates}, timeout=max(180, works / 50))
            done = h.db_count(wd / "pixiv.db", "rankings") or 0
        first_rss = first_rss or m.maxrss_mb
        rows.append([works, done, round(m.maxrss_mb), h.ratio(m.maxrss_mb, first_rss), f"{m.wall:.0f}",
                     round(done / m.wall) if m.wall else "n/a", m.status])
        print(f"  {works:,} works: peak RSS {m.maxrss_mb:.0f} MB, {m.status}", flush=True)
    h.print_table(f"Peak RSS of `ranking`, metadata only ({h.machine()})",
                  ["works asked", "works archived", "peak RSS MB", f"vs {sizes[0]:,}", "wall s", "works/s", "status"],
                  rows)
    last = rows[-1]
    print(f"\nTarget < 150 MB at the largest run: {'met' if last[2] < 150 else 'MISSED'} ({last[2]} MB at {last[0]:,}).")
    by_size = {row[0]: row[2] for row in rows}
    if 30_000 in by_size and last[0] > 30_000:
        growth = last[2] / by_size[30_000] - 1
        print(f"Flat (within 10% of the 30,000-work run): {'met' if abs(growth) <= 0.10 else 'MISSED'} "
              f"({by_size[30_000]} -> {last[2]} MB, {growth:+.0%}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
