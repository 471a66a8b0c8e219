"""Archive plans are refused whole, with one line naming the job and the key; schedules and locks."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader

from pixivcrawl.checks import check_settings
from pixivcrawl.runs.locks import job_lock
from pixivcrawl.runs.plans import PlanError, load_plan
from pixivcrawl.runs.schedules import Schedule, due
from tests.crawl import REPO, scrapy_command

GOOD = """
[archive]
database = "sqlite:///archive/pixiv.db"
log_retention_days = 14
notify_on = "always"

[[job]]
name = "rankings"
spider = "ranking"
args = { mode = "day" }
schedule = "30 12 * * *"

[[job]]
name = "artists"
spider = "user"
args = { user_id = "11,12", type = "illust" }
settings = { PIXIV_DOWNLOAD_FILES = false }
"""


def settings() -> Settings:
    values = Settings()
    values.setmodule("pixivcrawl.settings", priority="project")
    values.set("PIXIV_REFRESH_TOKEN", "plan-test-token")
    return values


def load(tmp_path: Path, text: str, check: bool = True):  # type: ignore[no-untyped-def]
    path = tmp_path / "plan.toml"
    path.write_text(textwrap.dedent(text))
    base = settings()
    return load_plan(path, SpiderLoader.from_settings(base).load, base, check_settings if check else None)


def test_a_good_plan_gives_jobs_incremental_with_their_own_jobdir(tmp_path: Path) -> None:
    plan = load(tmp_path, GOOD)
    assert [j.name for j in plan.jobs] == ["rankings", "artists"]
    rankings, artists = plan.jobs
    assert str(rankings.schedule) == "30 12 * * * (Asia/Tokyo)" and artists.schedule is None
    assert plan.log_dir == tmp_path / "logs" and plan.log_retention_days == 14 and plan.notify_on == "always"
    values = plan.job_settings(artists)
    assert values["PIXIV_INCREMENTAL"] is True and values["PIXIV_DOWNLOAD_FILES"] is False
    assert values["JOBDIR"] == str(tmp_path / "state" / "jobs" / "artists")
    assert values["PIXIV_DATABASE_URL"] == "sqlite:///archive/pixiv.db"
    # A job's settings win over the plan's default (incremental).
    plan = load(tmp_path, GOOD.replace("PIXIV_DOWNLOAD_FILES = false", "PIXIV_INCREMENTAL = false"))
    assert plan.job_settings(plan.jobs[1])["PIXIV_INCREMENTAL"] is False


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('spider = "user"', 'spider = "users"'), "job 'artists': spider: unknown spider 'users'"),
        (('type = "illust"', 'type = "ilust"'), "job 'artists': args: spider user: bad type='ilust'; expected one of"),
        (('mode = "day" }', 'mode = "day", colour = "red" }'), "job 'rankings': args: spider ranking: unknown argument 'colour'"),
        (('"30 12 * * *"', '"30 25 * * *"'), "job 'rankings': schedule: bad cron expression '30 25 * * *'"),
        (('schedule = "30 12 * * *"', 'schedule = "30 12 * * *"\ntimezone = "Mars/Olympus"'), "job 'rankings': timezone: unknown time zone 'Mars/Olympus'"),
        (('schedule = "30 12 * * *"', 'shedule = "30 12 * * *"'), "job 'rankings': unknown key 'shedule'; accepted: name, spider"),
        (("log_retention_days = 14", "log_days = 14"), "[archive]: unknown key 'log_days'; accepted: database"),
        (('PIXIV_DOWNLOAD_FILES = false', 'PIXIV_DOWNLOAD_FILE = false'), "job 'artists': settings.PIXIV_DOWNLOAD_FILE: unknown pixivcrawl setting"),
        (('PIXIV_DOWNLOAD_FILES = false', 'PIXIV_UGOIRA_FORMAT = "avi"'), "job 'artists': settings: bad PIXIV_UGOIRA_FORMAT='avi'"),
        (('name = "artists"', 'name = "rankings"'), "job 'rankings': name: used twice"),
        (('name = "artists"', 'name = "../up"'), "job 2: name: expected letters"),
        (('notify_on = "always"', 'notify_on = "sometimes"'), "[archive]: notify_on='sometimes'; expected one of: failure, always"),
    ],
)
def test_a_bad_plan_is_refused_with_one_line_naming_job_and_key(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in GOOD
    with pytest.raises(PlanError) as caught:
        load(tmp_path, GOOD.replace(old, new, 1))
    text = str(caught.value)
    assert "\n" not in text and text.startswith(f"{tmp_path / 'plan.toml'}: ")
    assert message in text


def test_an_unknown_job_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match=r"no job named 'nightly'; jobs: rankings, artists$"):
        load(tmp_path, GOOD).job("nightly")


def test_scrapy_archive_refuses_a_bad_plan_before_running_anything(tmp_path: Path) -> None:
    (tmp_path / "plan.toml").write_text(GOOD.replace('type = "illust"', 'type = "ilust"'))
    done = scrapy_command("archive", str(tmp_path / "plan.toml"), cwd=REPO, env={"PIXIV_REFRESH_TOKEN": "x"})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        (f"pixivcrawl: {tmp_path / 'plan.toml'}: job 'artists': args: spider user: bad type='ilust'; "
         "expected one of: illust, manga, novel, all")
    ]
    assert done.stdout == "" and not (tmp_path / "logs").exists() and not (tmp_path / "state").exists()


TOKYO = ZoneInfo("Asia/Tokyo")


def test_due_follows_the_schedule_in_its_time_zone() -> None:
    nightly = Schedule.parse("0 3 * * *")  # 03:00 in Japan = 18:00 UTC the day before
    now = dt.datetime(2026, 11, 30, 19, 0, tzinfo=dt.UTC)  # 04:00 on Dec 1 in Japan
    assert nightly.previous(now) == dt.datetime(2026, 12, 1, 3, 0, tzinfo=TOKYO)
    assert due(nightly, None, now) == (True, "never finished a run")
    ran_before = dt.datetime(2026, 11, 30, 17, 59, tzinfo=dt.UTC)
    assert due(nightly, ran_before, now)[0] is True
    assert due(nightly, ran_before, now)[1].startswith("due since 2026-12-01 03:00 JST")
    ran_after = dt.datetime(2026, 11, 30, 18, 0, 5, tzinfo=dt.UTC)
    assert due(nightly, ran_after, now) == (False, "not due until 2026-12-02 03:00 JST")
    assert due(None, None, now) == (False, "no schedule (runs without --due only)")
    utc = Schedule.parse("0 3 * * *", "UTC")
    assert due(utc, ran_after, now)[0] is False  # 03:00 UTC came before the run


def test_a_job_lock_is_held_by_one_holder_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "nightly.lock"
    with job_lock(path) as first:
        assert first is not None
        with job_lock(path) as second:
            assert second is None
    with job_lock(path) as again:
        assert again is not None
