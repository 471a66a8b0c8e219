"""Datasette over a SQLite archive, read-only, with pixivcrawl's plugin, metadata and canned queries."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pixivcrawl.browse.metadata import metadata

if TYPE_CHECKING:
    from datasette.app import Datasette

#: Datasette settings: a grid-sized page, and room for the cookbook's heavier queries.
SETTINGS = {"default_page_size": 100, "sql_time_limit_ms": 5000, "facet_time_limit_ms": 500}


def make_datasette(db_path: str | Path, *, files_store: str | Path | None, show_explicit: bool) -> Datasette:
    """The Datasette app; the database is opened ``?mode=ro`` (a crawl may write beside it)."""
    from datasette.app import Datasette  # an optional extra
    from datasette.plugins import pm

    from pixivcrawl.browse import plugin

    if not pm.is_registered(plugin):
        pm.register(plugin, name="pixivcrawl")
    path = Path(db_path)
    return Datasette(
        files=[str(path)],
        metadata=metadata(path.stem, files_store=str(files_store) if files_store else None,
                          show_explicit=show_explicit),
        settings=SETTINGS,
    )
