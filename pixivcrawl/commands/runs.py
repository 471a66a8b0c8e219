"""``scrapy runs [--job NAME] [--last N] [--json]``: the run history kept in crawl_runs."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import TYPE_CHECKING

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from pixivcrawl.cli import ProjectCommand

if TYPE_CHECKING:
    import argparse


class Command(ProjectCommand, ScrapyCommand):
    """Show the latest runs recorded in PIXIV_DATABASE_URL (``-s`` overrides it), newest first."""

    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--job NAME] [--last N] [--json]"

    def short_desc(self) -> str:
        return "Show the crawl run history: status, duration, new works and files, events, errors"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--job", metavar="NAME", help="only the runs of this archive plan job")
        parser.add_argument("--last", metavar="N", type=int, default=20, help="how many runs (default 20)")
        parser.add_argument("--json", action="store_true", help="print the reports as JSON")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError("scrapy runs takes no arguments, only options")
        if opts.last < 1:
            raise UsageError("--last must be 1 or more")
        assert self.settings is not None
        import sqlalchemy as sa

        from pixivcrawl.db.engine import create_engine, mask_url, upgrade
        from pixivcrawl.runs.reports import history, summary_line

        url = self.settings["PIXIV_DATABASE_URL"]
        engine = create_engine(url)
        try:
            upgrade(engine)
            with engine.connect() as connection:
                reports = history(connection, opts.job, opts.last)
        except sa.exc.SQLAlchemyError as exc:
            print(f"pixivcrawl: database {mask_url(url)}: {type(exc).__name__}: {getattr(exc, 'orig', exc)}", file=sys.stderr)
            self.exitcode = 1
            return
        finally:
            engine.dispose()
        if opts.json:
            print(json.dumps(reports, ensure_ascii=False, indent=2))
            return
        if not reports:
            print("no runs recorded yet")
        for report in reports:
            started = dt.datetime.fromisoformat(report["started_at"]).astimezone()  # this machine's time
            print(f"{report['run_id']:>5}  {started:%Y-%m-%d %H:%M}  {summary_line(report)}")
