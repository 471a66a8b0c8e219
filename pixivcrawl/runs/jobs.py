"""Running one job of a plan: a child ``scrapy crawl`` with its own lock, JOBDIR and log file."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from pixivcrawl.db.engine import create_engine, mask_url
from pixivcrawl.extensions import SECRET_NAME
from pixivcrawl.runs.locks import holder, job_lock
from pixivcrawl.runs.plans import setting_value
from pixivcrawl.runs.reports import OK_STATUSES, find_run

if TYPE_CHECKING:
    from pathlib import Path

    from pixivcrawl.runs.plans import Job, Plan

logger = logging.getLogger(__name__)


@dataclass
class JobRun:
    """One job of one archive run: what to run and where its output goes."""

    plan: Plan
    job: Job
    #: ``-s NAME=VALUE`` given to ``scrapy archive`` itself: they win over the plan.
    overrides: list[str]
    database_url: str

    def log_path(self, started: dt.datetime) -> Path:
        return self.plan.log_dir / self.job.name / f"{self.job.name}-{started:%Y%m%dT%H%M%S}.log"

    def command(self, log_file: Path | None = None) -> list[str]:
        """The ``scrapy crawl`` command line of the job."""
        argv = [sys.executable, "-m", "scrapy", "crawl", self.job.spider]
        for key, value in self.job.args.items():
            argv += ["-a", f"{key}={value}"]
        settings = {**self.plan.job_settings(self.job), "PIXIV_RUN_JOB": self.job.name}
        if log_file is not None:
            settings["LOG_FILE"] = str(log_file)
        for name, value in settings.items():
            argv += ["-s", f"{name}={setting_value(value)}"]
        for override in self.overrides:
            argv += ["-s", override]
        return argv

    def shown_command(self) -> str:
        """The command line as it may be printed: secret settings masked."""
        shown = []
        for part in self.command()[1:]:
            name, eq, _ = part.partition("=")
            shown.append(f"{name}=***" if eq and SECRET_NAME.search(name) else part)
        return "python " + " ".join(shown)

    def run(self) -> dict[str, Any]:
        """Run the job unless it runs already; its report (``status`` skipped, finished, failed ...)."""
        lock = self.plan.lock_path(self.job)
        with job_lock(lock) as held:
            if held is None:
                return {"job": self.job.name, "spider": self.job.spider, "status": "skipped",
                        "reason": f"already running (process {holder(lock)} holds {lock})"}
            return self._run_locked(held.fileno())

    def _run_locked(self, lock_fd: int) -> dict[str, Any]:
        started = dt.datetime.now(dt.UTC)
        log_file = self.log_path(started.astimezone())
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(log_file, "ab") as log:
            clock = time.monotonic()
            # The crawl holds the job's lock too (the same open file), should this process die first.
            process = subprocess.Popen(self.command(log_file), stdin=subprocess.DEVNULL, stdout=log, stderr=log,  # noqa: S603
                                       pass_fds=(lock_fd,))
            exit_code = process.wait()
        report = self._recorded(process.pid) or {
            "job": self.job.name, "spider": self.job.spider, "status": "failed",
            "started_at": started.isoformat(), "duration_s": round(time.monotonic() - clock, 1),
        }
        if exit_code != 0 and report["status"] not in ("interrupted", "failed"):
            report["status"] = "failed"  # e.g. killed: its row says running until the next crawl marks it lost
        report.update(exit_code=exit_code, log_file=str(log_file), ok=exit_code == 0 and report["status"] in OK_STATUSES)
        remove_old_logs(log_file.parent, self.plan.log_retention_days)
        return report

    def _recorded(self, pid: int) -> dict[str, Any] | None:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return find_run(connection, job=self.job.name, host=socket.gethostname(), pid=pid)
        except sa.exc.SQLAlchemyError as exc:
            logger.warning("job %s: run not read from %s: %s", self.job.name, mask_url(self.database_url), type(exc).__name__)
            return None
        finally:
            engine.dispose()


def remove_old_logs(directory: Path, days: float) -> list[Path]:
    """Delete the ``*.log`` files of ``directory`` last written more than ``days`` ago."""
    cutoff = time.time() - days * 86400
    removed = []
    for path in directory.glob("*.log"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path)
        except FileNotFoundError:
            continue
    return removed
