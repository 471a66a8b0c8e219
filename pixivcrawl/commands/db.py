"""``scrapy db upgrade|current``: migrate the archive database or show its revision."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from pixivcrawl.cli import ProjectCommand

if TYPE_CHECKING:
    import argparse


class Command(ProjectCommand, ScrapyCommand):
    """Migrate the database at PIXIV_DATABASE_URL (``-s`` overrides it) or show its revision."""

    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "upgrade|current"

    def short_desc(self) -> str:
        return "Migrate the archive database to the current schema, or show its revision"

    def long_desc(self) -> str:
        return (
            "upgrade: apply every pending Alembic migration to PIXIV_DATABASE_URL "
            "(a crawl does this itself). current: print the database's revision and the head.\n\n"
            "Example: scrapy db upgrade -s PIXIV_DATABASE_URL=postgresql+psycopg://archive@db/pixiv"
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1 or args[0] not in ("upgrade", "current"):
            raise UsageError("expected one action: upgrade or current")
        assert self.settings is not None
        import sqlalchemy as sa

        from pixivcrawl.db.engine import create_engine, current_revision, head_revision, mask_url, upgrade

        url = self.settings["PIXIV_DATABASE_URL"]
        engine = create_engine(url)
        try:
            if args[0] == "upgrade":
                before, after = upgrade(engine)
                if before == after:
                    print(f"{mask_url(url)}: already at {after}")
                else:
                    print(f"{mask_url(url)}: migrated from {before or 'empty'} to {after}")
            else:
                current, head = current_revision(engine), head_revision()
                state = "up to date" if current == head else "needs `scrapy db upgrade`"
                print(f"{mask_url(url)}: revision {current or 'none (empty database)'}, head {head} ({state})")
        except sa.exc.SQLAlchemyError as exc:
            print(f"pixivcrawl: database {mask_url(url)}: {type(exc).__name__}: {getattr(exc, 'orig', exc)}", file=sys.stderr)
            self.exitcode = 1
        finally:
            engine.dispose()
