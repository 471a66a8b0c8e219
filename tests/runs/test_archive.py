"""`scrapy archive` end to end on the sandbox, its clock moved a day between runs."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.crawl import REPO, RunningSandbox, scrapy_command

DAY = 86400
#: A small world whose artists publish a few works a day as the clock moves.
WORLD = {"unpublished": 4 * DAY, "page_size": 10, "ranking_size": 10, "num_illusts": 200_000, "num_novels": 20_000}
ARTISTS = (2, 3)


def plan_text(sandbox: RunningSandbox, root: Path, jobs: str, **archive: str) -> str:
    extra = "".join(f"{key} = {json.dumps(value)}\n" for key, value in archive.items())
    return f"""
[archive]
database = "sqlite:///{root / 'pixiv.db'}"
files = "{root / 'files'}"
{extra}
[archive.settings]
PIXIV_API_URL = "{sandbox.server.api_url}"
PIXIV_AUTH_URL = "{sandbox.server.auth_url}"
PIXIV_IMAGE_HOSTS = ["{sandbox.server.image_host}"]
PIXIV_TOKEN_FILE = "{root / 'no-token.json'}"
PIXIV_DB_FLUSH_INTERVAL = 0.2
PIXIV_DOWNLOAD_FILES = false
DOWNLOAD_SLOTS = {{ pixiv-api = {{ concurrency = 2, delay = 0 }}, pixiv-images = {{ concurrency = 4, delay = 0 }} }}
{jobs}
"""


def write_plan(sandbox: RunningSandbox, root: Path, jobs: str, **archive: str) -> Path:
    path = root / "plan.toml"
    path.write_text(plan_text(sandbox, root, jobs, **archive))
    return path


def archive(sandbox: RunningSandbox, plan: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return scrapy_command("archive", str(plan), *options, cwd=REPO, env={"PIXIV_REFRESH_TOKEN": sandbox.config.refresh_token}, timeout=300)


def archive_process(sandbox: RunningSandbox, plan: Path, *options: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "PIXIV_REFRESH_TOKEN"}
    env.update(SCRAPY_SETTINGS_MODULE="pixivcrawl.settings", PIXIV_REFRESH_TOKEN=sandbox.config.refresh_token)
    return subprocess.Popen([sys.executable, "-m", "scrapy", "archive", str(plan), *options], cwd=REPO, env=env,  # noqa: S603
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def query(root: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(root / "pixiv.db") as db:
        return db.execute(sql, params).fetchall()


def events(root: Path, job: str, night: int) -> dict[str, set[int]]:
    """The work_events of the job's ``night``-th run, by event."""
    run_ids = [r[0] for r in query(root, "SELECT id FROM crawl_runs WHERE job = ? ORDER BY id", job)]
    found: dict[str, set[int]] = {}
    for event, work_id in query(root, "SELECT event, work_id FROM work_events WHERE run_id = ?", run_ids[night - 1]):
        found.setdefault(event, set()).add(work_id)
    return found


def new_count(root: Path, job: str, night: int) -> int:
    counts = query(root, "SELECT counts FROM crawl_runs WHERE job = ? ORDER BY id", job)[night - 1][0]
    return json.loads(counts)["new"]["works"]


NIGHTLY_JOBS = f"""
[[job]]
name = "rankings"
spider = "ranking"
args = {{ mode = "day", date = "2026-10-30", pages = 1 }}
schedule = "0 12 * * *"

[[job]]
name = "bookmarks"
spider = "bookmarks"
args = {{ restrict = "public", pages = 1 }}
schedule = "0 */6 * * *"

[[job]]
name = "artists"
spider = "user"
args = {{ user_id = "{','.join(map(str, ARTISTS))}", type = "illust", pages = 1 }}
settings = {{ PIXIV_DOWNLOAD_FILES = true }}
"""


@pytest.mark.slow
def test_three_nights_record_what_was_new_and_what_changed(make_sandbox, tmp_path: Path) -> None:
    sandbox = make_sandbox(**WORLD)
    world = sandbox.server.world
    plan = write_plan(sandbox, tmp_path, NIGHTLY_JOBS)

    def available(illust_id: int) -> bool:
        work = world.illust_by_id(illust_id)
        return not (work.deleted or work.hidden)

    def artist_page() -> set[int]:
        return {i for u in ARTISTS for i in world.user_illust_ids(u, "illust")[:10]}

    archived: set[int] = set()
    bookmarked = [i for i in world.user_bookmarks(1, "public", "illust")[:10]]
    for night in (1, 2, 3):
        listed = artist_page()
        done = archive(sandbox, plan)
        assert done.returncode == 0, done.stdout + done.stderr[-3000:]
        assert [line.split(":")[0] for line in done.stdout.splitlines() if " new works" in line] == ["rankings", "bookmarks", "artists"]
        artists = events(tmp_path, "artists", night)
        assert artists.get("new", set()) == listed - archived, night
        assert new_count(tmp_path, "artists", night) == len(listed - archived)
        if night == 1:
            assert len(listed) == 20 and events(tmp_path, "rankings", 1)["new"] and events(tmp_path, "bookmarks", 1)["new"]
            assert f"artists: finished in" in done.stdout and "20 new works" in done.stdout
            assert json.loads(query(tmp_path, "SELECT counts FROM crawl_runs WHERE job = 'artists'")[0][0])["new"]["files"] > 0
        if night == 2:
            assert artists.keys() == {"new", "hidden", "reuploaded"}
            assert artists["hidden"] == {hidden} and artists["reuploaded"] == {reuploaded}
            assert events(tmp_path, "bookmarks", 2) == {"deleted": {deleted}}
            assert events(tmp_path, "rankings", 2) == {}  # the same ranking: nothing new, nothing changed
            assert "changed: 1 hidden, 1 reuploaded" in done.stdout
        archived |= listed
        if night == 1:
            # Things change before the second night: a bookmarked work is deleted, an artist
            # hides one work and re-uploads another; and the clock moves on, so new works come out.
            deleted = next(i for i in bookmarked if available(i))
            world.change_work(False, deleted, status="deleted")
            hidden = next(i for i in world.user_illust_ids(ARTISTS[0], "illust") if available(i))
            world.change_work(False, hidden, status="hidden")
            reuploaded = next(i for i in world.user_illust_ids(ARTISTS[1], "illust") if available(i))
            world.change_work(False, reuploaded, reupload=True)
        sandbox.server.advance_clock(DAY)
    assert len(archived) > 20  # the artists published on the later nights
    assert query(tmp_path, "SELECT DISTINCT job, status FROM crawl_runs ORDER BY job") == [
        ("artists", "finished"), ("bookmarks", "finished"), ("rankings", "finished")]
    logs = sorted(p.name for p in (tmp_path / "logs" / "artists").iterdir())
    assert len(logs) == 3 and all(name.startswith("artists-") and name.endswith(".log") for name in logs)

    history = scrapy_command("runs", "--job", "artists", "--json", "-s", f"PIXIV_DATABASE_URL=sqlite:///{tmp_path / 'pixiv.db'}", cwd=REPO)
    assert history.returncode == 0, history.stderr
    reports = json.loads(history.stdout)
    assert [r["job"] for r in reports] == ["artists"] * 3 and reports[0]["events"].get("new") == reports[0]["new_works"]
    assert reports[2]["new_works"] == 20 and reports[1]["events"]["hidden"] == 1
    table = scrapy_command("runs", "--last", "2", "-s", f"PIXIV_DATABASE_URL=sqlite:///{tmp_path / 'pixiv.db'}", cwd=REPO)
    assert len(table.stdout.splitlines()) == 2 and "artists: finished" in table.stdout.splitlines()[0]
