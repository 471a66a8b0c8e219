"""What a person reads and gets at the front door: summary, progress, help, config, feeds, the demo archive."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from pathlib import Path

import pytest
from scrapy.settings import Settings

from pixivcrawl.commands.crawl import Command as CrawlCommand
from pixivcrawl.commands.crawl import spider_named_in
from pixivcrawl.config import apply_config
from pixivcrawl.summary import summary_lines
from tests.crawl import RunningSandbox, scrapy_command
from tests.test_docs import spiders

LINE = re.compile(r"^\S+ \S+ \[[\w.]+\] (\w+): (.*)$")


def logged(stderr: str, logger: str) -> list[tuple[str, str]]:
    """(level, message) of each log line of ``logger``."""
    out = []
    for line in stderr.splitlines():
        if f"[{logger}]" in line and (match := LINE.match(line)):
            out.append((match.group(1), match.group(2)))
    return out


def sandbox_crawl(tmp_path: Path, *args: str, env: dict[str, str] | None = None):
    return scrapy_command("crawl", "ranking", "-a", "date=2026-10-30", "-a", "pages=1",
                          "-s", "PIXIV_SANDBOX=true", "-s", "PIXIV_SANDBOX_RANKING_SIZE=10",
                          *args, cwd=tmp_path, env=env)


# --- the demo archive, the summary -------------------------------------------------------------

@pytest.mark.slow
def test_demo_writes_its_own_archive_and_ends_with_a_summary_at_info_and_warning(tmp_path: Path) -> None:
    first = sandbox_crawl(tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    data = tmp_path / "data"
    assert (data / "sandbox.db").is_file() and any((data / "sandbox-files").rglob("*.*"))
    assert not (data / "pixiv.db").exists() and not (data / "files").exists()

    summary = logged(first.stderr, "pixivcrawl.summary")
    assert [level for level, _ in summary] == ["INFO"] * len(summary)
    text = [message for _, message in summary]
    assert re.fullmatch(r"Crawl finished in \d+ s; exit status 0", text[0])
    assert "Works: 10 illusts (10 new, 0 changed)" in text  # new/changed: the store's counts (issue 14)
    assert any(re.fullmatch(r"Files: \d+ downloaded \(\d+\.\d KB\)", m) for m in text), text
    assert "Problems: 0 errors" in text
    # Scrapy's start-up boilerplate and stats dump are not at INFO.
    for noise in ("Versions:", "Enabled extensions", "Overridden settings", "Dumping Scrapy stats", "Crawled "):
        assert noise not in first.stderr

    quiet = sandbox_crawl(tmp_path, "-L", "WARNING")
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    summary = logged(quiet.stderr, "pixivcrawl.summary")
    assert summary[0][0] == "WARNING"
    assert [m for _, m in summary][1:4] == ["Works: 10 illusts (0 new, 0 changed)", "Users: 10 stored (0 new)",
                                           summary[3][1]]
    assert re.fullmatch(r"Files: 0 downloaded \(0 B\), \d+ already archived", summary[3][1])

    # A real crawl refuses the demo's archive, in one line, before any request.
    real = scrapy_command("crawl", "ranking", "-s", f"PIXIV_DATABASE_URL=sqlite:///{data / 'sandbox.db'}",
                          "-s", "PIXIV_REFRESH_TOKEN=x", cwd=tmp_path)
    assert real.returncode == 2
    assert real.stderr.strip().splitlines() == [
        f"pixivcrawl: PIXIV_DATABASE_URL sqlite:///{data / 'sandbox.db'} holds the sandbox demo's fake works; "
        "give a real crawl its own archive with -s PIXIV_DATABASE_URL=... (or delete the demo archive)"
    ]


def test_summary_shows_new_counts_events_and_rejects_only_when_counted() -> None:
    stats = {"finish_reason": "finished", "elapsed_time_seconds": 75.2,
             "pixivcrawl/validation/valid/illust": 28, "pixivcrawl/validation/valid/illust_deleted": 2,
             "pixivcrawl/validation/valid/novel": 3, "file_status_count/downloaded": 4,
             "pixivcrawl/files/bytes": 2_500_000, "pixivcrawl/api/responses": 10}
    lines = summary_lines(stats)
    assert lines[:2] == ["Crawl finished in 1 min 15 s; exit status 0", "Works: 30 illusts, 3 novels"]
    assert "Files: 4 downloaded (2.5 MB)" in lines
    assert not any("new" in line or "rejected" in line or "Found" in line for line in lines)
    stats |= {"pixivcrawl/works/new": 5, "pixivcrawl/works/changed": 1, "pixivcrawl/events/hidden": 2,
              "pixivcrawl/rejected_items": 3, "log_count/ERROR": 1, "finish_reason": "shutdown"}
    lines = summary_lines(stats)
    assert lines[0].startswith("Crawl interrupted (Ctrl-C or SIGTERM)") and lines[0].endswith("exit status 1")
    assert "Works: 30 illusts, 3 novels (5 new, 1 changed)" in lines
    assert "Found: 2 hidden" in lines
    assert "Problems: 3 items rejected (see the rejects table), 1 errors (logged above)" in lines


# --- progress ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_progress_lines_count_pages_of_the_known_total_with_an_eta(tmp_path: Path) -> None:
    result = scrapy_command(
        "crawl", "ranking", "-a", "date=2026-10-30..2026-10-31", "-a", "pages=3",
        "-s", "PIXIV_SANDBOX=true", "-s", "PIXIV_SANDBOX_PAGE_SIZE=5", "-s", "PIXIV_SANDBOX_LATENCY_API=300",
        "-s", "PIXIV_PROGRESS_INTERVAL=0.5", "-s", "PIXIV_DOWNLOAD_FILES=false", cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    progress = [m for level, m in logged(result.stderr, "pixivcrawl.progress") if level == "INFO"]
    with_eta = [m for m in progress if re.fullmatch(
        r"Progress: pages [1-5]/6, works \d+, files 0 \(0 B\), API \d+/min, ETA \d+ s", m)]
    assert with_eta, progress


# --- help --------------------------------------------------------------------------------------

def test_crawl_help_lists_every_argument_with_its_values_and_default(tmp_path: Path) -> None:
    result = scrapy_command("crawl", "ranking", "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("Spider ranking: Archive a ranking (")
    assert re.search(r"^  mode +ranking to archive; one of: day, week, month, .*; default: day$", result.stdout, re.M)
    assert re.search(r"^  type +.*; one of: illust, novel; default: illust$", result.stdout, re.M)
    assert re.search(r"^  date +YYYY-MM-DD or START\.\.END", result.stdout, re.M)
    assert re.search(r"^  pages +maximum pages per listing .*a whole number >= 1$", result.stdout, re.M)
    assert "-a NAME=VALUE" in result.stdout  # Scrapy's own options follow


@pytest.mark.parametrize("name", sorted(spiders()))
def test_every_spider_help_names_each_argument(name: str) -> None:
    cls = spiders()[name]
    text = cls.arguments_help()
    for arg_name, arg in cls.all_arguments().items():
        line = next(line for line in text.splitlines() if line.startswith(f"  {arg_name} "))
        for choice in arg.choices or ():
            assert choice in line
        if arg.required:
            assert line.endswith("required")


def test_list_shows_each_spider_with_its_description(tmp_path: Path) -> None:
    result = scrapy_command("list", cwd=tmp_path)
    assert result.returncode == 0
    rows = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert set(rows) == set(spiders())
    assert rows["ranking"].startswith("Archive a ranking")


def test_unknown_spider_is_one_line_with_the_closest_names(tmp_path: Path) -> None:
    result = scrapy_command("crawl", "rankng", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "pixivcrawl: unknown spider 'rankng'; did you mean ranking? (`scrapy list` shows every spider)"
    ]


def test_spider_name_is_found_among_options() -> None:
    assert spider_named_in(["scrapy", "crawl", "-s", "A=1", "-a", "x=y", "-L", "INFO", "user", "--help"]) == "user"
    assert spider_named_in(["scrapy", "crawl", "--help"]) is None
    assert spider_named_in(["scrapy/__main__.py", "-L", "INFO", "user"]) == "user"  # after Scrapy popped "crawl"


# --- settings: misspelt names, the config file ------------------------------------------------

def test_misspelt_setting_is_refused_with_the_closest_name(tmp_path: Path) -> None:
    result = scrapy_command("crawl", "ranking", "-s", "PIXIV_SANDBOX=true", "-s", "PIXIV_DOWNLOAD_FILE=false", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "pixivcrawl: unknown setting PIXIV_DOWNLOAD_FILE; did you mean PIXIV_DOWNLOAD_FILES?"
    ]
    assert not (tmp_path / "data").exists()


def test_misspelt_setting_in_the_config_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('PIXIV_UGOIRA_FORMATS = "gif"\n')
    result = scrapy_command("list", cwd=tmp_path, env={"PIXIVCRAWL_CONFIG": str(config)})
    assert result.returncode == 2
    assert result.stderr.strip() == (f"pixivcrawl: unknown setting PIXIV_UGOIRA_FORMATS (config file {config}); "
                                     "did you mean PIXIV_UGOIRA_FORMAT?")


def configured_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str) -> tuple[Path, Settings]:
    """settings.py's settings, and a config file holding ``toml`` that PIXIVCRAWL_CONFIG names."""
    config = tmp_path / "config.toml"
    config.write_text(toml)
    monkeypatch.setenv("PIXIVCRAWL_CONFIG", str(config))
    settings = Settings()
    settings.setmodule("pixivcrawl.settings", priority="project")
    return config, settings


def test_config_file_sits_between_settings_py_and_the_command_line(tmp_path: Path, monkeypatch) -> None:
    config, settings = configured_settings(
        tmp_path, monkeypatch, 'PIXIV_UGOIRA_FORMAT = "gif"\nPIXIV_LANGUAGE = "ja"\nDOWNLOAD_SLOTS = {pixiv-api = {delay = 5.0}}\n')
    settings.set("PIXIV_LANGUAGE", "ko", priority="cmdline")
    assert apply_config(settings) == config
    assert settings["PIXIV_UGOIRA_FORMAT"] == "gif"
    assert settings["PIXIV_LANGUAGE"] == "ko"
    assert settings.getdict("DOWNLOAD_SLOTS") == {"pixiv-api": {"delay": 5.0}}


@pytest.mark.slow
def test_config_file_setting_is_used_and_s_overrides_it(sandbox: RunningSandbox, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'PIXIV_DATABASE_URL = "sqlite:///{tmp_path / "configured.db"}"\n'
        f'FILES_STORE = "{tmp_path / "files"}"\n'
        'PIXIV_DOWNLOAD_FILES = false\n'
        f'PIXIV_API_URL = "{sandbox.server.api_url}"\nPIXIV_AUTH_URL = "{sandbox.server.auth_url}"\n'
        f'PIXIV_IMAGE_HOSTS = ["{sandbox.server.image_host}"]\nPIXIV_REFRESH_TOKEN = "{sandbox.config.refresh_token}"\n'
        f'PIXIV_TOKEN_FILE = "{tmp_path / "token.json"}"\n'
    )
    result = scrapy_command("crawl", "ranking", "-a", "pages=1", "-s", "PIXIV_DOWNLOAD_FILES=true",
                            cwd=tmp_path, env={"PIXIVCRAWL_CONFIG": str(config)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "configured.db").is_file()  # from the config file
    assert any((tmp_path / "files").rglob("*.*"))  # -s won over the file's PIXIV_DOWNLOAD_FILES = false


# --- feeds -------------------------------------------------------------------------------------

@pytest.mark.slow
def test_csv_and_jsonl_feeds_carry_the_kind_of_every_item(tmp_path: Path) -> None:
    result = sandbox_crawl(tmp_path, "-O", "out.csv", "-O", "out.jsonl", "-s", "PIXIV_DOWNLOAD_FILES=false")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert {row["item_kind"] for row in rows} == {"illust", "ranking_entry"}
    assert not (tmp_path / "out.csv").exists()
    for kind in ("illust", "ranking_entry"):
        with (tmp_path / f"out.{kind}.csv").open(newline="", encoding="utf-8") as f:
            table = list(csv.DictReader(f))
        assert len(table) == 10
        assert {row["item_kind"] for row in table} == {kind}
        assert all(None not in row and "" not in row for row in table)  # no ragged rows
    with (tmp_path / "out.illust.csv").open(newline="", encoding="utf-8") as f:
        illust = next(csv.DictReader(f))
    assert isinstance(json.loads(illust["tags"]), list) and isinstance(json.loads(illust["user"]), dict)
    assert illust["is_muted"] in ("true", "false")


# --- what a crawl says when it did not finish --------------------------------------------------

def test_ending_messages_say_what_happened() -> None:
    assert "add -s JOBDIR=DIR" in CrawlCommand.ending("shutdown", started=True, jobdir=None)
    assert "JOBDIR jobs/r" in CrawlCommand.ending("shutdown", started=True, jobdir="jobs/r")
    assert "did not start" not in CrawlCommand.ending(None, started=True, jobdir=None)
    assert "did not start" in CrawlCommand.ending(None, started=False, jobdir=None)


def test_a_clean_crawl_leaves_no_staging_folder(tmp_path: Path) -> None:
    from pixivcrawl.pipelines.media.storage import AtomicFSFilesStore

    store = AtomicFSFilesStore(str(tmp_path))
    store.staging.mkdir(parents=True)
    store.close()
    assert not (tmp_path / AtomicFSFilesStore.STAGING).exists()


# --- a resumed demo crawl ----------------------------------------------------------------------

@pytest.mark.slow
def test_a_resumed_demo_crawl_finds_its_sandbox_on_the_same_ports(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    from pixivcrawl.addons import PORTS_FILE

    args = [sys.executable, "-m", "scrapy", "crawl", "ranking", "-a", "date=2026-10-30",
            "-s", "PIXIV_SANDBOX=true", "-s", "PIXIV_SANDBOX_RANKING_SIZE=60", "-s", "PIXIV_SANDBOX_PAGE_SIZE=5",
            "-s", "PIXIV_SANDBOX_LATENCY_API=150", "-s", "JOBDIR=job", "-s", "PIXIV_DOWNLOAD_FILES=false"]
    env = {**{k: v for k, v in os.environ.items() if k != "PIXIV_REFRESH_TOKEN"},
           "SCRAPY_SETTINGS_MODULE": "pixivcrawl.settings"}
    first = subprocess.Popen(args, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    ports_file = tmp_path / "job" / PORTS_FILE
    deadline = time.monotonic() + 60
    while not ports_file.exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    ports = json.loads(ports_file.read_text())
    while True:
        with urllib.request.urlopen(f"http://127.0.0.1:{ports['port']}/__stats") as response:
            if json.load(response)["by_route"].get("/v1/illust/ranking", 0) >= 3:
                break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    first.send_signal(signal.SIGTERM)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 1, err[-2000:]

    second = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert second.returncode == 0, second.stderr[-2000:]
    assert json.loads(ports_file.read_text()) == ports
    assert "refused" not in second.stderr.lower()
    # It resumed, not restarted: the second run stored only what the first left, and the demo
    # archive ends whole.
    resumed = int(re.search(r"Works: (\d+) illusts", second.stderr).group(1))  # type: ignore[union-attr]
    assert 0 < resumed < 60
    with sqlite3.connect(tmp_path / "data" / "sandbox.db") as db:
        assert db.execute("SELECT count(*) FROM rankings").fetchone() == (60,)


@pytest.mark.slow
def test_a_second_ctrl_c_is_not_reported_as_a_crawl_that_did_not_start(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {**{k: v for k, v in os.environ.items() if k != "PIXIV_REFRESH_TOKEN"},
           "SCRAPY_SETTINGS_MODULE": "pixivcrawl.settings"}
    process = subprocess.Popen(
        [sys.executable, "-m", "scrapy", "crawl", "ranking", "-s", "PIXIV_SANDBOX=true",
         "-s", "PIXIV_SANDBOX_LATENCY_API=1000", "-s", "PIXIV_SANDBOX_PAGE_SIZE=5", "-s", "PIXIV_DOWNLOAD_FILES=false"],
        cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / "data" / "sandbox.db").exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    last = err.strip().splitlines()[-1]
    assert "did not start" not in last
    assert last.endswith("Crawl stopped without closing (a second Ctrl-C?); archived rows and files are kept")


def test_the_demo_takes_its_own_archive_over_the_config_file_but_not_over_s(tmp_path: Path, monkeypatch) -> None:
    from pixivcrawl.addons import DEMO_ARCHIVE, use_demo_archive

    _, settings = configured_settings(
        tmp_path, monkeypatch, 'PIXIV_DATABASE_URL = "sqlite:////srv/pixiv.db"\nFILES_STORE = "/srv/files"\n')
    settings.set("PIXIV_SANDBOX", True, priority="cmdline")
    apply_config(settings)
    use_demo_archive(settings)
    use_demo_archive(settings)  # the add-on does it again: no change
    assert {name: settings[name] for name in DEMO_ARCHIVE} == DEMO_ARCHIVE
    settings.set("FILES_STORE", "mine", priority="cmdline")
    use_demo_archive(settings)
    assert settings["FILES_STORE"] == "mine"
