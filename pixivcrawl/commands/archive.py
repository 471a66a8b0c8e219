"""``scrapy archive PLAN.toml [--job NAME] [--due] [--dry-run]``: run a plan of archive jobs."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from pixivcrawl.cli import ProjectCommand

if TYPE_CHECKING:
    import argparse

    from scrapy.settings import BaseSettings


class Command(ProjectCommand, ScrapyCommand):
    """Run the jobs of an archive plan, each as its own ``scrapy crawl``; see the README's "Scheduled archives"."""

    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "PLAN.toml [--job NAME] [--due] [--dry-run]"

    def short_desc(self) -> str:
        return "Run the jobs of an archive plan (all, one, or those due)"

    def long_desc(self) -> str:
        return (
            "Runs every job of the plan in order, each as its own `scrapy crawl` with the plan's "
            "settings, its own JOBDIR and log file; a job already running elsewhere is skipped. "
            "Prints one line per job and exits 1 when any job failed, 2 for a bad plan.\n\n"
            "Example (crontab, every 15 minutes): scrapy archive ~/pixiv/plan.toml --due"
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--job", metavar="NAME", help="run only this job")
        parser.add_argument("--due", action="store_true", help="run only the jobs whose schedule came due since their last successful run")
        parser.add_argument("--dry-run", action="store_true", help="list what would run and why, run nothing")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("expected one plan file: scrapy archive PLAN.toml")
        assert self.settings is not None
        from scrapy.spiderloader import get_spider_loader

        from pixivcrawl.checks import check_settings
        from pixivcrawl.runs.jobs import JobRun
        from pixivcrawl.runs.notify import notify
        from pixivcrawl.runs.plans import PlanError, load_plan
        from pixivcrawl.runs.reports import summary_line
        from pixivcrawl.runs.schedules import due

        try:
            plan = load_plan(Path(args[0]), get_spider_loader(self.settings).load, self.settings, check_settings)
            jobs = [plan.job(opts.job)] if opts.job else plan.jobs
        except PlanError as exc:
            print(f"pixivcrawl: {exc}", file=sys.stderr)
            self.exitcode = 2
            return
        overrides = list(opts.set or [])  # NAME=VALUE, as given
        started = dt.datetime.now(dt.UTC)
        reports: list[dict[str, Any]] = []
        for job in jobs:
            url = self._job_settings(plan.job_settings(job))["PIXIV_DATABASE_URL"]
            run = JobRun(plan, job, overrides, url)
            if opts.due:
                is_due, why = due(job.schedule, self._last_success(url, job.name), dt.datetime.now(dt.UTC))
            else:
                is_due, why = True, "--job" if opts.job else "every job runs without --due"
            if opts.dry_run:
                print(f"{job.name}: {'would run' if is_due else 'would not run'} ({why})")
                if is_due:
                    print(f"  {run.shown_command()}")
                continue
            if not is_due:
                print(f"{job.name}: not run: {why}")
                continue
            print(f"{job.name}: running {job.spider} ({why})", flush=True)
            report = run.run()
            reports.append(report)
            print(summary_line(report), flush=True)
        if opts.dry_run or not reports:
            return
        failed = [r["job"] for r in reports if r["status"] != "skipped" and not r.get("ok")]
        report = {
            "plan": str(plan.path),
            "started_at": started.isoformat(),
            "finished_at": dt.datetime.now(dt.UTC).isoformat(),
            "ok": not failed,
            "failed_jobs": failed,
            "jobs": reports,
        }
        if failed:
            print(f"archive: {len(failed)} of {len(reports)} jobs failed: {', '.join(failed)}")
            self.exitcode = 1
        notify(plan, report)

    def _job_settings(self, values: dict[str, Any]) -> BaseSettings:
        assert self.settings is not None
        settings = self.settings.copy()
        settings.setdict(values, priority="spider")
        return settings

    @staticmethod
    def _last_success(url: str, job: str) -> dt.datetime | None:
        import sqlalchemy as sa

        from pixivcrawl.db.engine import create_engine, mask_url, upgrade
        from pixivcrawl.runs.reports import last_success

        engine = create_engine(url)
        try:
            upgrade(engine)
            with engine.connect() as connection:
                return last_success(connection, job)
        except sa.exc.SQLAlchemyError as exc:
            print(f"pixivcrawl: {job}: cannot read its runs from {mask_url(url)}: {type(exc).__name__}", file=sys.stderr)
            return None
        finally:
            engine.dispose()


