"""JOBDIR safety: a crawl resumed after a kill starts over instead of trusting half-written state."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Self

from scrapy.dupefilters import RFPDupeFilter
from scrapy.utils.job import job_dir

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Present in JOBDIR while a crawl runs; still there at the next start means it was killed.
RUNNING_MARKER = "pixivcrawl.running"


def reset_if_killed(jobdir: Path) -> bool:
    """Drop a killed crawl's request state from ``jobdir``; True if it had to."""
    marker = jobdir / RUNNING_MARKER
    killed = marker.exists()
    if killed:
        clear_requests(jobdir)
    jobdir.mkdir(parents=True, exist_ok=True)
    marker.touch()
    return killed


def clear_requests(jobdir: Path) -> None:
    """Drop JOBDIR's request state (seen list and queue), after a kill or a finished crawl.

    JOBDIR resumes interrupted crawls only: left in place, a finished crawl's
    seen-requests list would make the next run with the same JOBDIR drop its
    start requests and archive nothing.
    """
    (jobdir / "requests.seen").unlink(missing_ok=True)
    shutil.rmtree(jobdir / "requests.queue", ignore_errors=True)


class JobdirDupeFilter(RFPDupeFilter):
    """Scrapy's request dupefilter, safe for crawls that were killed without closing.

    Scrapy saves the JOBDIR request queue only when a crawl closes, but appends
    to ``requests.seen`` as it goes: after a SIGKILL (the OOM killer, a reboot,
    a second Ctrl-C) that list names requests which are in no saved queue, and a
    resume would skip them for good. A marker file kept while the crawl runs
    tells the next run; that run then drops the JOBDIR's requests and starts
    over. Writes are upserts and downloaded files are skipped, so starting over
    costs API requests, not data. A crawl stopped by one SIGTERM or Ctrl-C
    closes cleanly and resumes where it stopped; a crawl that finished clears
    its request state, so the next run with the same JOBDIR starts afresh.
    Settings: JOBDIR.
    """

    jobdir: Path | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        path = job_dir(crawler.settings)
        if path and reset_if_killed(Path(path)):
            crawler.stats.set_value("pixivcrawl/jobdir/restarted", 1)
            logger.warning(
                "JOBDIR %s belongs to a crawl that was killed before it could save its queue; "
                "starting this crawl over (archived rows and files are kept)",
                path,
            )
        dupefilter = super().from_crawler(crawler)
        dupefilter.jobdir = Path(path) if path else None
        return dupefilter

    def close(self, reason: str) -> None:
        super().close(reason)
        # The scheduler closes its dupefilter last, after saving the queue.
        if self.jobdir is not None:
            if reason == "finished":
                clear_requests(self.jobdir)
            (self.jobdir / RUNNING_MARKER).unlink(missing_ok=True)
