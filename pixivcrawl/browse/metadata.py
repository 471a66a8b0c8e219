"""What Datasette shows of the archive: titles, label columns and the facets that matter."""

from __future__ import annotations

from typing import Any

WORK_FACETS = ["status", "ai_type", "x_restrict"]

#: table or view -> Datasette table metadata.
TABLES: dict[str, dict[str, Any]] = {
    "illusts": {"label_column": "title", "facets": [*WORK_FACETS, "type", "user_id"], "sort_desc": "create_date"},
    "illust_overview": {"facets": [{"array": "tags"}, "user_name", *WORK_FACETS, "type"], "sort_desc": "create_date"},
    "illust_tags": {"facets": ["tag"]},
    "illust_pages": {"description": "local_path: the file under FILES_STORE, shown as a thumbnail"},
    "novels": {"label_column": "title", "facets": [*WORK_FACETS, "user_id"], "sort_desc": "create_date"},
    "novel_overview": {"facets": [{"array": "tags"}, "user_name", *WORK_FACETS], "sort_desc": "create_date"},
    "novel_tags": {"facets": ["tag"]},
    "users": {"label_column": "name"},
    "tags": {"label_column": "name"},
    "rankings": {"facets": ["kind", "mode", "date"], "sort": "rank"},
    "ranking_history": {"facets": ["mode", "date", "user_name", "status"], "sort": "rank"},
    "trending_tags": {"facets": ["kind", "date", "tag"]},
    "bookmarks": {"facets": ["work_kind", "restrict", "user_id"]},
    "work_stats": {"facets": ["kind"]},
    "crawl_runs": {"facets": ["spider", "status"], "sort_desc": "started_at"},
    "comments": {"facets": ["work_kind"]},
}


def metadata(database: str, *, files_store: str | None, show_explicit: bool) -> dict[str, Any]:
    """Datasette metadata for the archive named ``database``, with the plugin's configuration."""
    return {
        "title": "pixivcrawl archive",
        "description_html": (
            'Pictures: <a href="/-/pixiv/ranking">rankings</a>; every work, artist and novel has a page '
            "(follow the links from a grid). The SQL cookbook is under the database's queries."
        ),
        "plugins": {"pixivcrawl": {"files_store": files_store, "show_explicit": show_explicit}},
        "databases": {database: {"tables": TABLES}},
    }
