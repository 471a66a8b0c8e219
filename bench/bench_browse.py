"""`scrapy browse`: how fast a grid page of 100 works answers once its thumbnails exist.

Builds a sandbox archive (a day ranking of 120 works, real crawl), starts ``scrapy browse`` as a
child process, views the grid once (thumbnails are made), then times the grid page and all its
thumbnails, fetched one after another as a cold-cache browser on one connection would.
Target: under 2 s.

    .venv/bin/python bench/bench_browse.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.browse.archive import build

from bench._harness import free_port

TARGET_S = 2.0


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def grid(base: str, path: str) -> tuple[float, int, int]:
    """Seconds to get the grid page and every thumbnail on it; how many works and thumbnails."""
    start = time.perf_counter()
    page = fetch(base + path).decode()
    thumbs = re.findall(r'<img src="(/-/pixiv/thumbs/[^"]+)"', page)
    for thumb in thumbs:
        fetch(base + thumb)
    return time.perf_counter() - start, page.count('class="pixiv-cell '), len(thumbs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-browse-") as tmp:
        archive = build(Path(tmp), [["ranking", "-a", "mode=day", "-a", "pages=4"]])
        date = archive.query("SELECT max(date) FROM ranking_history")[0][0]
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "scrapy", "browse", "--port", str(port),
             "-s", f"PIXIV_DATABASE_URL=sqlite:///{archive.db_path}", "-s", f"FILES_STORE={archive.files}"],
            cwd=tmp, env={**os.environ, "SCRAPY_SETTINGS_MODULE": "pixivcrawl.settings"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    fetch(base + "/-/versions.json")
                    break
                except OSError:
                    time.sleep(0.1)
            path = f"/-/pixiv/ranking?mode=day&date={date}"
            first, works, count = grid(base, path)
            times = [grid(base, path)[0] for _ in range(opts.runs)]
        finally:
            server.terminate()
            server.wait(timeout=10)
    median = statistics.median(times)
    verdict = "met" if max(times) < TARGET_S else "MISSED"
    print(f"grid of {works} works ({count} thumbnails; hidden works have no file): first view (making thumbnails) {first:.2f} s; with thumbnails cached: "
          f"median {median:.3f} s, max {max(times):.3f} s over {opts.runs} runs (page + thumbnails) "
          f"- target < {TARGET_S:.0f} s: {verdict}")
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    sys.exit(main())
