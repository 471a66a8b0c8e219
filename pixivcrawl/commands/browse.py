"""``scrapy browse``: look at the archive in Datasette, pictures included."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from pixivcrawl.cli import ProjectCommand

if TYPE_CHECKING:
    import argparse

INSTALL = "pip install -e '.[browse]'"


class Command(ProjectCommand, ScrapyCommand):
    """Serve the SQLite archive at PIXIV_DATABASE_URL read-only in Datasette, files from FILES_STORE."""

    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--host HOST] [--port PORT]"

    def short_desc(self) -> str:
        return "Browse the archive in Datasette, with thumbnails (needs the browse extra)"

    def long_desc(self) -> str:
        return (
            "Serves the SQLite archive at PIXIV_DATABASE_URL read-only in Datasette, with thumbnails "
            "of the files under FILES_STORE, a page per work, artist and novel, the SQL cookbook as "
            f"canned queries and facets. Install it with: {INSTALL}"
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8001, help="port to listen on (default: 8001)")

    def fail(self, message: str) -> None:
        print(f"pixivcrawl: {message}", file=sys.stderr)
        self.exitcode = 2

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError("scrapy browse takes no arguments")
        assert self.settings is not None
        import sqlalchemy as sa

        from pixivcrawl.db.engine import mask_url

        url = sa.make_url(self.settings["PIXIV_DATABASE_URL"])
        if url.get_backend_name() != "sqlite":
            return self.fail(
                f"browsing needs a SQLite archive, and PIXIV_DATABASE_URL is {mask_url(url)}: "
                "query PostgreSQL with psql and the SQL cookbook, or crawl into SQLite to browse"
            )
        if importlib.util.find_spec("datasette") is None:
            return self.fail(f"scrapy browse needs Datasette, which is not installed: {INSTALL}")
        if not url.database or not Path(url.database).is_file():
            return self.fail(f"no archive at {url.database or 'an in-memory database'}: run a crawl first "
                             "(scrapy crawl ranking -s PIXIV_SANDBOX=true), or set PIXIV_DATABASE_URL")
        files_store = self.settings["FILES_STORE"]
        if "://" in str(files_store):
            print(f"pixivcrawl: FILES_STORE {files_store} is not local: tables only, no pictures", file=sys.stderr)
            files_store = None

        import uvicorn  # comes with Datasette

        from pixivcrawl.browse.app import make_datasette

        datasette = make_datasette(url.database, files_store=files_store,
                                   show_explicit=self.settings.getbool("PIXIV_BROWSE_SHOW_EXPLICIT"))
        print(f"Browsing {url.database} (read-only) at http://{opts.host}:{opts.port}/ - Ctrl-C stops", flush=True)
        uvicorn.run(datasette.app(), host=opts.host, port=opts.port, log_level="warning")
        return None
