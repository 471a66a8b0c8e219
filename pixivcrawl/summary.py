"""The human summary every crawl ends with: a pure function of the crawl's stats.

:func:`summary_lines` is what ``scrapy crawl`` prints at the end (and what a
scheduled run can print per job); :class:`CrawlSummary` logs it at INFO, or at
WARNING when ``LOG_LEVEL`` would hide INFO, and moves Scrapy's stats dump to DEBUG.
"""

from __future__ import annotations

import datetime as dt
import logging
import pprint
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals

if TYPE_CHECKING:
    from collections.abc import Mapping

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Ends of a crawl that are not a failure (exit status 0).
SUCCESS_REASONS = frozenset({"finished"})
VALID = "pixivcrawl/validation/valid/"
WORK_KINDS = {"illusts": ("illust", "illust_deleted"), "novels": ("novel", "novel_deleted")}
EVENTS = "pixivcrawl/events/"


def exit_status(reason: str | None) -> int:
    """``scrapy crawl``'s exit status for Scrapy's finish reason (None: the crawl never ran)."""
    return 0 if reason in SUCCESS_REASONS else 1


def exit_meaning(reason: str | None) -> str:
    if reason in SUCCESS_REASONS:
        return "finished"
    if reason == "shutdown":
        return "interrupted (Ctrl-C or SIGTERM); not everything was archived"
    if reason is None:
        return "stopped before it could finish"
    return f"did not finish ({reason})"


def human_bytes(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError  # pragma: no cover


def human_duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _count(stats: Mapping[str, Any], key: str) -> int:
    return int(stats.get(key) or 0)


def works_seen(stats: Mapping[str, Any]) -> dict[str, int]:
    """Works that passed validation this crawl, per kind (``illusts``, ``novels``), zero kinds left out."""
    seen = {kind: sum(_count(stats, VALID + k) for k in keys) for kind, keys in WORK_KINDS.items()}
    return {kind: n for kind, n in seen.items() if n}


def _new_and_changed(stats: Mapping[str, Any], subject: str) -> str:
    parts = [f"{_count(stats, f'pixivcrawl/{subject}/{what}')} {what}"
             for what in ("new", "changed") if f"pixivcrawl/{subject}/{what}" in stats]
    return f" ({', '.join(parts)})" if parts else ""


def duration(stats: Mapping[str, Any]) -> float | None:
    if "elapsed_time_seconds" in stats:
        return float(stats["elapsed_time_seconds"])
    start = stats.get("start_time")
    if isinstance(start, dt.datetime):
        end = stats.get("finish_time") or dt.datetime.now(start.tzinfo)
        return (end - start).total_seconds()
    return None


def summary_lines(stats: Mapping[str, Any]) -> list[str]:
    """A few lines saying what the crawl archived and how it ended, from Scrapy's crawl stats.

    New/changed counts, events (``pixivcrawl/events/<kind>``) and rejected items appear
    only when the crawl counted them.
    """
    reason = stats.get("finish_reason")
    took = duration(stats)
    head = f"Crawl {exit_meaning(reason)}"
    if took is not None:
        head += f" in {human_duration(took)}"
    lines = [f"{head}; exit status {exit_status(reason)}"]

    seen = works_seen(stats)
    works = ", ".join(f"{n} {kind}" for kind, n in seen.items()) or "none"
    lines.append(f"Works: {works}{_new_and_changed(stats, 'works')}")
    users = _count(stats, VALID + "user_detail") + _count(stats, "pixivcrawl/db/rows_upserted/users")
    if users or "pixivcrawl/users/new" in stats:
        lines.append(f"Users: {_count(stats, 'pixivcrawl/db/rows_upserted/users')} stored{_new_and_changed(stats, 'users')}")
    events = {k.removeprefix(EVENTS): _count(stats, k) for k in sorted(stats) if k.startswith(EVENTS)}
    if events:
        lines.append("Found: " + ", ".join(f"{n} {kind}" for kind, n in events.items()))

    downloaded = _count(stats, "file_status_count/downloaded")
    files = f"Files: {downloaded} downloaded ({human_bytes(_count(stats, 'pixivcrawl/files/bytes'))})"
    if uptodate := _count(stats, "file_status_count/uptodate"):
        files += f", {uptodate} already archived"
    if failed := _count(stats, "pixivcrawl/files/failed"):
        files += f", {failed} failed"
    lines.append(files)

    problems = []
    if rejected := _count(stats, "pixivcrawl/rejected_items"):
        problems.append(f"{rejected} items rejected (see the rejects table)")
    if dropped := _count(stats, "item_dropped_count"):
        problems.append(f"{dropped} items dropped (reasons logged above)")
    errors = _count(stats, "log_count/ERROR")
    problems.append(f"{errors} errors" + (" (logged above)" if errors else ""))
    lines.append("Problems: " + ", ".join(problems))
    if api := _count(stats, "pixivcrawl/api/responses"):
        lines.append(f"API: {api} requests" + (f", {pace(api, took)}" if took else ""))
    return lines


def pace(requests: int, seconds: float) -> str:
    """API requests per minute, as the politeness settings count them."""
    return f"{60 * requests / seconds:.0f}/min" if seconds > 0 else "-"


class CrawlSummary:
    """Logs :func:`summary_lines` when the spider closes, and the whole stats dict at DEBUG.

    Settings: LOG_LEVEL (the summary is logged at WARNING when INFO is hidden).
    Scrapy's own dump (STATS_DUMP) is off in settings.py; its dict is in ``crawl_runs`` too.
    """

    def __init__(self, crawler: Crawler, level: int) -> None:
        self.crawler = crawler
        self.level = level

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        configured = logging.getLevelName(str(crawler.settings.get("LOG_LEVEL")).upper())
        level = logging.INFO if not isinstance(configured, int) or configured <= logging.INFO else logging.WARNING
        summary = cls(crawler, level)
        crawler.signals.connect(summary.spider_closed, signal=signals.spider_closed)
        return summary

    def spider_closed(self, reason: str) -> None:
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        logger.debug("Scrapy stats:\n%s", pprint.pformat(stats))
        for line in summary_lines({**stats, "finish_reason": reason}):
            logger.log(self.level, line)
