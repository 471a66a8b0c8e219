"""What a command imports before it does its work: every crawl and every command pays for it at start."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

#: ``scrapy ARGS...``, then the modules the process imported, as its last line.
SCRAPY_THEN_MODULES = """
import atexit, runpy, sys
atexit.register(lambda: print("imported:", *sorted(sys.modules)))
sys.argv = ["scrapy", *sys.argv[1:]]
runpy.run_module("scrapy", run_name="__main__")
"""


def imported_by(cwd: Path, *args: str) -> tuple[set[str], str]:
    """The packages ``scrapy ARGS`` imported (run as a user would, from ``cwd``), and its stdout.

    A package counts with each of its parents: ``sqlalchemy.orm`` is also ``sqlalchemy``.
    """
    env = {k: v for k, v in os.environ.items() if k != "PIXIV_REFRESH_TOKEN"}
    env["SCRAPY_SETTINGS_MODULE"] = "pixivcrawl.settings"
    result = subprocess.run([sys.executable, "-c", SCRAPY_THEN_MODULES, *args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    *out, last = result.stdout.splitlines()
    assert last.startswith("imported: ")
    return {name.rsplit(".", n)[0] for name in last.split()[1:] for n in range(name.count(".") + 1)}, "\n".join(out)


def test_scrapy_list_needs_no_database(tmp_path: Path) -> None:
    # Scrapy imports every command module to list the commands, for any command: they import
    # their work in run(). Listing the spiders needs neither SQLAlchemy nor Alembic.
    modules, out = imported_by(tmp_path, "list")
    assert "ranking" in out
    assert not modules & {"sqlalchemy", "alembic"}


@pytest.mark.slow
def test_a_crawl_on_a_sqlite_database_at_the_head_revision_does_not_import_alembic(tmp_path: Path) -> None:
    crawl = ("crawl", "ranking", "-a", "date=2026-10-30", "-a", "pages=1", "-s", "PIXIV_SANDBOX=true",
             "-s", "PIXIV_SANDBOX_RANKING_SIZE=10", "-s", "PIXIV_DOWNLOAD_FILES=false", "-s", "LOG_LEVEL=WARNING")
    first, _ = imported_by(tmp_path, *crawl)
    assert "alembic" in first  # an empty database is migrated
    again, _ = imported_by(tmp_path, *crawl)
    assert "sqlalchemy" in again
    # Nor SQLAlchemy's PostgreSQL dialect, on SQLite.
    assert not again & {"alembic", "mako", "pygments", "sqlalchemy.dialects.postgresql"}
    with sqlite3.connect(tmp_path / "data" / "sandbox.db") as db:
        assert db.execute("SELECT count(*), min(status), max(status) FROM crawl_runs").fetchone() == (2, "finished", "finished")
        assert db.execute("SELECT count(*) FROM illusts").fetchone() == (10,)
