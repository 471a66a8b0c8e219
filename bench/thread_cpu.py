"""A Scrapy extension for benchmarks: the crawl's CPU seconds per thread, written as JSON when it ends.

Loaded by ``bench_throughput.py`` with ``-s EXTENSIONS=...`` and
``-s BENCH_THREAD_CPU_FILE=path`` (the crawl runs from the repository, so
``bench`` is importable). Linux only: it reads ``/proc/self/task/<tid>/stat``.

A thread's figure is read every ``INTERVAL`` seconds and kept as last seen, since
the store's database thread has ended (its executor shut down in
``close_spider``) by the time the engine stops. Threads are reported by name:
``MainThread`` (the reactor: Scrapy, parsing, validation), ``pixivcrawl-db_0``
(the store), and ``other`` (the rest together).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

INTERVAL = 0.2
REPORTED = ("MainThread", "pixivcrawl-db_0")


def thread_cpu() -> dict[int, float]:
    """CPU seconds (user + system) of each live thread of this process, by native id."""
    tick = os.sysconf("SC_CLK_TCK")
    seconds: dict[int, float] = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            stat = Path(f"/proc/self/task/{tid}/stat").read_text()
        except OSError:  # ended meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after the name, which may hold spaces
        seconds[int(tid)] = (int(fields[11]) + int(fields[12])) / tick
    return seconds


class ThreadCpu:
    def __init__(self, path: str) -> None:
        self.path = path
        self.seen: dict[int, tuple[str, float]] = {}
        self.loop = task.LoopingCall(self.sample)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        path = crawler.settings.get("BENCH_THREAD_CPU_FILE")
        if not path:
            raise NotConfigured("BENCH_THREAD_CPU_FILE is not set")
        extension = cls(path)
        crawler.signals.connect(extension.started, signal=signals.engine_started)
        crawler.signals.connect(extension.stopped, signal=signals.engine_stopped)
        return extension

    def sample(self) -> None:
        names = {t.native_id: t.name for t in threading.enumerate()}
        for tid, seconds in thread_cpu().items():
            name = names.get(tid) or self.seen.get(tid, ("other", 0.0))[0]
            self.seen[tid] = (name, seconds)

    def started(self) -> None:
        self.loop.start(INTERVAL)

    def stopped(self) -> None:
        if self.loop.running:
            self.loop.stop()
        self.sample()
        totals = dict.fromkeys((*REPORTED, "other"), 0.0)
        for name, seconds in self.seen.values():
            totals[name if name in REPORTED else "other"] += seconds
        Path(self.path).write_text(json.dumps(totals))
