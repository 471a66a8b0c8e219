"""Run reports: what one crawl_runs row says, as data (JSON) and as the lines a person reads."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from pixivcrawl.db import runs
from pixivcrawl.summary import human_bytes, human_duration

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy.engine import Connection

#: Run statuses that count as success.
OK_STATUSES = frozenset({"finished"})


def run_report(run: Mapping[str, Any]) -> dict[str, Any]:
    """The report of one ``crawl_runs`` row: status, duration, what was new, events, errors."""
    counts = run.get("counts") or {}
    new = counts.get("new") or {}
    started, finished = run.get("started_at"), run.get("finished_at")
    return {
        "run_id": run.get("id"),
        "job": run.get("job"),
        "spider": run.get("spider"),
        "arguments": run.get("arguments") or {},
        "status": run.get("status"),
        "finish_reason": run.get("finish_reason"),
        "started_at": started.isoformat() if started else None,
        "finished_at": finished.isoformat() if finished else None,
        "duration_s": round((finished - started).total_seconds(), 1) if started and finished else None,
        "new_works": new.get("works", 0),
        "new_users": new.get("users", 0),
        "new_files": new.get("files", 0),
        "new_bytes": new.get("bytes", 0),
        "changed_works": counts.get("changed_works", 0),
        "events": dict(counts.get("events") or {}),
        "items": counts.get("items_scraped", 0),
        "rejected_items": counts.get("rejected_items", 0),
        "errors": counts.get("errors", 0),
    }


def summary_line(report: Mapping[str, Any]) -> str:
    """One line a person reads about a run (the one place a report is formatted).

    It is built from the ``crawl_runs`` row, so ``scrapy runs`` can print it for
    any past run; :func:`pixivcrawl.summary.summary_lines` says the same from a
    live crawl's stats, with the same units.
    """
    name = report.get("job") or report.get("spider") or "crawl"
    status = report["status"]
    if status == "skipped":
        return f"{name}: skipped: {report.get('reason', '')}"
    parts = [f"{name}: {status}"]
    if report.get("finish_reason") and report["finish_reason"] != status:
        parts[0] += f" ({report['finish_reason']})"
    if report.get("duration_s") is not None:
        parts[0] += f" in {human_duration(report['duration_s'])}"
    if report.get("exit_code") not in (None, 0):
        parts.append(f"exit status {report['exit_code']}")
    parts.append(f"{report.get('new_works', 0)} new works")
    parts.append(f"{report.get('new_files', 0)} new files ({human_bytes(report.get('new_bytes', 0))})")
    events = report.get("events") or {}
    changed = ", ".join(f"{n} {kind}" for kind, n in sorted(events.items()) if kind != "new")
    if changed:
        parts.append(f"changed: {changed}")
    if report.get("rejected_items"):
        parts.append(f"{report['rejected_items']} rejected")
    parts.append(f"{report.get('errors', 0)} errors")
    if report.get("log_file"):
        parts.append(f"log {report['log_file']}")
    return ", ".join(parts)


def history(connection: Connection, job: str | None = None, last: int = 20) -> list[dict[str, Any]]:
    """Reports of the latest ``last`` runs (of ``job``), newest first."""
    return [run_report(row) for row in runs.latest_runs(connection, job, last)]


def find_run(connection: Connection, *, job: str, host: str, pid: int) -> dict[str, Any] | None:
    """The report of the run a job's crawl process recorded, if it recorded one."""
    row = runs.run_of_process(connection, job=job, host=host, pid=pid)
    return run_report(row) if row is not None else None


def last_success(connection: Connection, job: str) -> dt.datetime | None:
    """When the job's latest finished run started."""
    return runs.last_started(connection, job, OK_STATUSES)
