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
from scrapy.utils.defer import deferred_f_from_coro_f

from tests.crawl import (
    REPO,
    Archive,
    RunningSandbox,
    cli_settings,
    crawl,
    scrapy_command,
)

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
    bookmarked = world.user_bookmarks(1, "public", "illust")[:10]
    deleted = hidden = reuploaded = 0  # chosen after the first night
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
            assert "artists: finished in" in done.stdout and "20 new works" in done.stdout
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


def crawl_process(sandbox: RunningSandbox, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "PIXIV_REFRESH_TOKEN"}
    env.update(SCRAPY_SETTINGS_MODULE="pixivcrawl.settings", PIXIV_REFRESH_TOKEN=sandbox.config.refresh_token)
    return subprocess.Popen([sys.executable, "-m", "scrapy", "crawl", *args], cwd=REPO, env=env,  # noqa: S603
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_two_crawls_on_one_new_sqlite_archive_both_finish(make_sandbox, tmp_path: Path) -> None:
    sandbox = make_sandbox(**WORLD)
    common = cli_settings(sandbox, Archive(tmp_path), PIXIV_DOWNLOAD_FILES="false", PIXIV_DB_FLUSH_INTERVAL="0.1",
                          PIXIV_DB_BATCH_SIZE="5")
    both = [
        crawl_process(sandbox, "ranking", "-a", "date=2026-10-30", "-a", "pages=2", *common),
        crawl_process(sandbox, "user", "-a", f"user_id={ARTISTS[0]}", "-a", "pages=2", *common),
    ]
    outcomes = [(p.wait(timeout=180), p.communicate()[1]) for p in both]
    for code, err in outcomes:
        assert code == 0, err[-3000:]
        assert "database is locked" not in err and "already exists" not in err
    ranked = {r[0] for r in query(tmp_path, "SELECT work_id FROM rankings WHERE date = '2026-10-30'")}
    assert ranked == set(sandbox.server.world.ranking("day", "2026-10-30")[:20])
    theirs = set(sandbox.server.world.user_illust_ids(ARTISTS[0], "illust")[:20])
    assert theirs <= {r[0] for r in query(tmp_path, "SELECT id FROM illusts")}
    assert query(tmp_path, "SELECT spider, status FROM crawl_runs ORDER BY spider") == [("ranking", "finished"), ("user", "finished")]


def daily_artist(world: Any) -> int:
    """A user of the world who publishes works on each of the next two days."""
    for user_id in range(1, 200):
        pages = []
        for day in range(3):
            world.clock_advance += day * DAY
            pages.append(set(world.user_illust_ids(user_id, "illust")[:10]))
            world.clock_advance -= day * DAY
        if pages[1] - pages[0] and pages[2] - pages[1]:
            return user_id
    raise AssertionError("no artist publishes every day in this world")


@pytest.mark.slow
@deferred_f_from_coro_f
async def test_a_fixed_jobdir_archives_each_nights_new_works(make_sandbox, tmp_path: Path) -> None:
    """The JOBDIR trap: a finished crawl's seen requests must not drop the next night's start requests."""
    sandbox = make_sandbox(**WORLD)
    world = sandbox.server.world
    artist = daily_artist(world)
    store = Archive(tmp_path)
    settings = {"JOBDIR": str(tmp_path / "job"), "PIXIV_INCREMENTAL": True, "PIXIV_DOWNLOAD_FILES": False}
    archived: set[int] = set()
    for night in (1, 2, 3):
        listed = set(world.user_illust_ids(artist, "illust")[:10])
        crawler = await crawl("user", sandbox, store, settings=settings, user_id=str(artist), pages="1")
        assert crawler.stats.get_value("finish_reason") == "finished"
        stored = {r[0] for r in store.query("SELECT id FROM illusts WHERE user_id = ?", artist)}
        assert listed <= stored, f"night {night}: new works missing"
        if night > 1:
            assert listed - archived, "the sandbox published nothing new"
        archived |= listed
        sandbox.server.advance_clock(DAY)
    assert store.query("SELECT count(*) FROM crawl_runs WHERE status = 'finished'") == [(3,)]


@pytest.mark.slow
def test_due_runs_only_what_is_due(make_sandbox, tmp_path: Path) -> None:
    sandbox = make_sandbox(**WORLD)
    jobs = "".join(
        f'\n[[job]]\nname = "{name}"\nspider = "illust"\nargs = {{ illust_id = "{illust_id}" }}\n{schedule}\n'
        for name, illust_id, schedule in (
            ("yearly", 120_100_001, 'schedule = "0 0 1 1 *"'),  # ran an hour ago: not due till January
            ("minutely", 120_100_002, 'schedule = "* * * * *"\ntimezone = "UTC"'),  # ran an hour ago: due
            ("new", 120_100_003, 'schedule = "0 3 * * *"'),  # never ran: due
            ("by-hand", 120_100_004, ""),  # no schedule: never by --due
        )
    )
    plan = write_plan(sandbox, tmp_path, jobs)
    first = archive(sandbox, plan, "--job", "yearly")
    assert first.returncode == 0, first.stderr[-2000:]
    assert archive(sandbox, plan, "--job", "minutely").returncode == 0
    with sqlite3.connect(tmp_path / "pixiv.db") as db:
        db.execute("UPDATE crawl_runs SET started_at = datetime(started_at, '-1 hour')")
    if time.strftime("%m-%d %H", time.gmtime(time.time() + 9 * 3600)) == "01-01 00":
        pytest.skip("the yearly schedule fires in this very hour")

    dry = archive(sandbox, plan, "--due", "--dry-run", "-s", "LOG_LEVEL=DEBUG")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[2].endswith(" -s LOG_LEVEL=DEBUG")  # scrapy archive's own -s options win, last
    assert lines[0].startswith("yearly: would not run (not due until 20") and lines[0].endswith("-01-01 00:00 JST)")
    assert lines[1].startswith("minutely: would run (due since ")
    assert lines[2].startswith("  python -m scrapy crawl illust -a illust_id=120100002 ")
    assert "PIXIV_RUN_JOB=minutely" in lines[2] and "PIXIV_INCREMENTAL=true" in lines[2]
    assert lines[3] == "new: would run (never finished a run)"
    assert lines[5] == "by-hand: would not run (no schedule (runs without --due only))"
    assert query(tmp_path, "SELECT count(*) FROM crawl_runs") == [(2,)]

    done = archive(sandbox, plan, "--due")
    assert done.returncode == 0, done.stderr[-2000:]
    assert query(tmp_path, "SELECT job FROM crawl_runs ORDER BY id") == [("yearly",), ("minutely",), ("minutely",), ("new",)]
    assert "yearly: not run: not due until" in done.stdout and "by-hand: not run: no schedule" in done.stdout


class Inbox:
    """A local HTTP server that keeps the JSON bodies POSTed to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                inbox.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?token=secret"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def inbox():  # type: ignore[no-untyped-def]
    server = Inbox()
    yield server
    server.close()


def notify_script(root: Path, exit_code: int = 0) -> str:
    """A notify command that appends the report it reads to ``root/notified.jsonl``."""
    script = root / f"notify-{exit_code}.py"
    script.write_text(
        "import sys\n"
        f"with open({str(root / 'notified.jsonl')!r}, 'a') as out:\n"
        "    out.write(sys.stdin.read().replace('\\n', ' ') + '\\n')\n"
        f"sys.exit({exit_code})\n"
    )
    return f"{sys.executable} {script}"


def notified(root: Path) -> list[dict[str, Any]]:
    path = root / "notified.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def running_pid(root: Path, job: str, timeout: float = 120) -> int:
    """The process id of the job's crawl, once it recorded its run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            rows = query(root, "SELECT pid FROM crawl_runs WHERE job = ? AND status = 'running'", job)
        except sqlite3.OperationalError:
            rows = []
        if rows:
            return rows[0][0]
        time.sleep(0.1)
    raise AssertionError(f"job {job} never started")


@pytest.mark.slow
def test_a_killed_job_resumes_at_the_next_run_and_is_never_run_twice(make_sandbox, tmp_path: Path, inbox: Inbox) -> None:
    sandbox = make_sandbox(**WORLD, latency_api=10_000)  # slow enough to still run when cron fires again
    jobs = f'[[job]]\nname = "artists"\nspider = "user"\nargs = {{ user_id = "{ARTISTS[0]},{ARTISTS[1]}", pages = 5 }}\n'
    plan = write_plan(sandbox, tmp_path, jobs, notify_command=notify_script(tmp_path), notify_url=inbox.url)
    first = archive_process(sandbox, plan)
    crawl_pid = running_pid(tmp_path, "artists")

    # cron fires again while the job runs: the second archive run skips it.
    second = archive(sandbox, plan)
    assert second.returncode == 0, second.stderr[-2000:]
    assert f"artists: skipped: already running (process {first.pid} holds " in second.stdout
    assert query(tmp_path, "SELECT count(*) FROM crawl_runs") == [(1,)]

    os.kill(crawl_pid, signal.SIGKILL)
    out, err = first.communicate(timeout=60)
    assert first.returncode == 1, err[-2000:]
    assert "artists: failed" in out and "exit status -9" in out
    assert out.splitlines()[-1] == "archive: 1 of 1 jobs failed: artists"
    # The notifier ran once, for the failed run (not for the skipped one).
    [report] = notified(tmp_path)
    assert report["ok"] is False and report["failed_jobs"] == ["artists"] and report["jobs"][0]["exit_code"] == -9
    assert inbox.bodies == [report]

    sandbox.config.latency_api = 0
    third = archive(sandbox, plan)
    assert third.returncode == 0, third.stderr[-2000:]
    assert query(tmp_path, "SELECT status FROM crawl_runs ORDER BY id") == [("lost",), ("finished",)]
    logs = sorted((tmp_path / "logs" / "artists").iterdir())
    assert len(logs) == 2 and "killed before it could save its queue" in logs[1].read_text()
    listed = {i for u in ARTISTS[:2] for i in sandbox.server.world.user_illust_ids(u, "illust")[:30]}
    assert listed <= {r[0] for r in query(tmp_path, "SELECT id FROM illusts")}
    assert len(notified(tmp_path)) == 1 and len(inbox.bodies) == 1


@pytest.mark.slow
def test_a_failing_job_fails_the_run_names_the_job_and_notifies_once(make_sandbox, tmp_path: Path, inbox: Inbox) -> None:
    sandbox = make_sandbox(**WORLD)
    jobs = (
        '[[job]]\nname = "broken"\nspider = "illust"\nargs = { illust_id = "120100001" }\n'
        'settings = { PIXIV_REFRESH_TOKEN = "a-token-pixiv-refuses" }\n'
        '[[job]]\nname = "good"\nspider = "illust"\nargs = { illust_id = "120100002" }\n'
    )
    plan = write_plan(sandbox, tmp_path, jobs, notify_command=notify_script(tmp_path), notify_url=inbox.url)
    dry = archive(sandbox, plan, "--dry-run")
    assert "-s PIXIV_REFRESH_TOKEN=*** " in dry.stdout and "a-token-pixiv-refuses" not in dry.stdout
    # Logs are kept log_retention_days (30 by default): an old one goes, a recent one stays.
    (tmp_path / "logs" / "good").mkdir(parents=True)
    old_log, recent_log = tmp_path / "logs" / "good" / "good-20260101T000000.log", tmp_path / "logs" / "good" / "good-20261120T000000.log"
    for log, age_days in ((old_log, 31), (recent_log, 29)):
        log.write_text("an earlier run\n")
        os.utime(log, (time.time() - age_days * DAY, time.time() - age_days * DAY))
    done = archive(sandbox, plan)
    assert done.returncode == 1
    assert not old_log.exists() and recent_log.exists() and len(list(old_log.parent.iterdir())) == 2
    assert "good: finished" in done.stdout and "broken: failed" in done.stdout
    assert done.stdout.splitlines()[-1] == "archive: 1 of 2 jobs failed: broken"
    [report] = notified(tmp_path)
    assert inbox.bodies == [report]
    assert report["failed_jobs"] == ["broken"] and [j["status"] for j in report["jobs"]] == ["failed", "finished"]
    assert "a-token-pixiv-refuses" not in json.dumps(report) + done.stdout + done.stderr
    assert query(tmp_path, "SELECT job, status FROM crawl_runs ORDER BY id") == [("broken", "failed"), ("good", "finished")]

    # A notifier that fails is logged and never fails the run.
    plan = write_plan(sandbox, tmp_path, jobs, notify_command=notify_script(tmp_path, exit_code=3),
                      notify_url="http://127.0.0.1:9/closed?token=secret", notify_on="always")
    done = archive(sandbox, plan, "--job", "good")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "exited with status 3" in done.stderr and "Notify URL http://127.0.0.1:9/closed failed" in done.stderr
    assert "secret" not in done.stderr
    assert [r["ok"] for r in notified(tmp_path)] == [False, True]


@pytest.mark.slow
def test_a_crawl_outliving_its_archive_process_still_holds_the_job(make_sandbox, tmp_path: Path) -> None:
    sandbox = make_sandbox(**WORLD, latency_api=10_000)
    jobs = f'[[job]]\nname = "artists"\nspider = "user"\nargs = {{ user_id = "{ARTISTS[0]}", pages = 5 }}\n'
    plan = write_plan(sandbox, tmp_path, jobs)
    first = archive_process(sandbox, plan)
    crawl_pid = running_pid(tmp_path, "artists")
    first.kill()  # the archive process dies; its crawl goes on
    first.communicate(timeout=30)
    try:
        second = archive(sandbox, plan)
        assert second.returncode == 0, second.stderr[-2000:]
        assert "artists: skipped: already running" in second.stdout
        assert query(tmp_path, "SELECT count(*) FROM crawl_runs") == [(1,)]
    finally:
        os.kill(crawl_pid, signal.SIGKILL)
