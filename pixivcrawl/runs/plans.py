"""Archive plans: a TOML file of named jobs, refused whole before anything runs when one part is wrong."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pixivcrawl.checks import known_setting_names
from pixivcrawl.exceptions import ArgumentError
from pixivcrawl.runs.schedules import DEFAULT_TIMEZONE, Schedule

if TYPE_CHECKING:
    from collections.abc import Callable

    from scrapy.settings import BaseSettings

#: [archive] key -> what it means (also the message for an unknown key).
ARCHIVE_KEYS = {
    "database": "PIXIV_DATABASE_URL of every job",
    "files": "FILES_STORE of every job",
    "log_dir": "directory of the per-job log files (relative to the plan file)",
    "log_retention_days": "days a job's log files are kept",
    "state_dir": "directory of the jobs' JOBDIRs and lock files (relative to the plan file)",
    "notify_command": "command run with the JSON report on standard input",
    "notify_url": "URL the JSON report is POSTed to",
    "notify_on": "failure (default) or always",
    "settings": "Scrapy settings of every job",
}
JOB_KEYS = ("name", "spider", "args", "settings", "schedule", "timezone")
NOTIFY_ON = ("failure", "always")
JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
SETTING_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


class PlanError(ValueError):
    """A plan that cannot run; the message is one line naming the job and the key."""


@dataclass(frozen=True)
class Job:
    name: str
    spider: str
    args: dict[str, str]
    settings: dict[str, Any]
    schedule: Schedule | None


@dataclass(frozen=True)
class Plan:
    path: Path
    jobs: list[Job]
    log_dir: Path
    state_dir: Path
    log_retention_days: float = 30
    notify_command: list[str] | None = None
    notify_url: str | None = None
    notify_on: str = "failure"
    settings: dict[str, Any] = field(default_factory=dict)

    def job(self, name: str) -> Job:
        for job in self.jobs:
            if job.name == name:
                return job
        raise PlanError(f"{self.path}: no job named {name!r}; jobs: {', '.join(j.name for j in self.jobs)}")

    def jobdir(self, job: Job) -> Path:
        return self.state_dir / "jobs" / job.name

    def lock_path(self, job: Job) -> Path:
        return self.state_dir / "locks" / f"{job.name}.lock"

    def job_settings(self, job: Job) -> dict[str, Any]:
        """The settings a job's crawl gets from the plan: incremental and its own JOBDIR unless it says otherwise."""
        return {"PIXIV_INCREMENTAL": True, "JOBDIR": str(self.jobdir(job)), **self.settings, **job.settings}


def setting_value(value: Any) -> str:
    """A TOML value as a ``-s NAME=VALUE`` string Scrapy's getters read back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def _table(where: str, value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PlanError(f"{where}: {key} must be a table, e.g. {key} = {{ ... }}")
    return value


def _settings(where: str, value: Any, known: set[str]) -> dict[str, Any]:
    settings = _table(where, value, "settings")
    for name, setting in settings.items():
        if not SETTING_NAME.fullmatch(name):
            raise PlanError(f"{where}: settings.{name}: setting names are upper case, e.g. PIXIV_DOWNLOAD_FILES")
        if name.startswith("PIXIV_") and name not in known:
            raise PlanError(f"{where}: settings.{name}: unknown pixivcrawl setting (see the README's settings table)")
        if not isinstance(setting, str | int | float | bool | list | dict):
            raise PlanError(f"{where}: settings.{name}: expected a string, number, boolean, list or table")
    return settings


def _text(where: str, table: dict[str, Any], key: str) -> str | None:
    value = table.get(key)
    if value is not None and not (isinstance(value, str) and value):
        raise PlanError(f"{where}: {key} must be a non-empty string")
    return value


def load_plan(
    path: Path,
    load_spider: Callable[[str], type],
    base_settings: BaseSettings,
    check: Callable[[BaseSettings], None] | None = None,
) -> Plan:
    """Read and check a plan: keys, job names, spiders, their arguments, schedules, settings.

    ``load_spider`` is the spider loader's ``load``; each job's arguments go through
    its spider's own ``parse_arguments``; ``PIXIV_*`` setting names must be ones
    pixivcrawl reads. With ``check``, each job's settings over ``base_settings``
    are checked as a crawl would check them.
    """
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanError(f"{where}: cannot read the plan: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"{where}: not valid TOML: {exc}") from None
    for key in data:
        if key not in ("archive", "job"):
            raise PlanError(f"{where}: unknown key {key!r}; a plan has [archive] and [[job]] tables")
    archive = _table(where, data.get("archive", {}), "[archive]")
    known = known_setting_names()
    for key in archive:
        if key not in ARCHIVE_KEYS:
            raise PlanError(f"{where}: [archive]: unknown key {key!r}; accepted: {', '.join(ARCHIVE_KEYS)}")
    shared = dict(_settings(f"{where}: [archive]", archive.get("settings", {}), known))
    for key, setting in (("database", "PIXIV_DATABASE_URL"), ("files", "FILES_STORE")):
        if (value := _text(f"{where}: [archive]", archive, key)) is not None:
            shared[setting] = value
    notify_on = archive.get("notify_on", "failure")
    if notify_on not in NOTIFY_ON:
        raise PlanError(f"{where}: [archive]: notify_on={notify_on!r}; expected one of: {', '.join(NOTIFY_ON)}")
    retention = archive.get("log_retention_days", 30)
    if isinstance(retention, bool) or not isinstance(retention, int | float) or retention <= 0:
        raise PlanError(f"{where}: [archive]: log_retention_days={retention!r}; expected a positive number of days")
    command = _text(f"{where}: [archive]", archive, "notify_command")
    root = path.resolve().parent
    jobs_data = data.get("job", [])
    if not isinstance(jobs_data, list) or not jobs_data:
        raise PlanError(f"{where}: no jobs; add [[job]] tables with name, spider and args")
    jobs: list[Job] = []
    for number, raw in enumerate(jobs_data, start=1):
        job = _job(where, number, raw, load_spider, known)
        if any(j.name == job.name for j in jobs):
            raise PlanError(f"{where}: job {job.name!r}: name: used twice; job names are unique")
        jobs.append(job)
    plan = Plan(
        path=path,
        jobs=jobs,
        log_dir=root / archive.get("log_dir", "logs"),
        state_dir=root / archive.get("state_dir", "state"),
        log_retention_days=retention,
        notify_command=shlex.split(command) if command else None,
        notify_url=_text(f"{where}: [archive]", archive, "notify_url"),
        notify_on=notify_on,
        settings=shared,
    )
    if check is not None:
        for job in jobs:
            settings = base_settings.copy()
            settings.setdict(plan.job_settings(job), priority="spider")
            try:
                check(settings)
            except ArgumentError as exc:
                raise PlanError(f"{where}: job {job.name!r}: settings: {exc}") from None
    return plan


def _job(where: str, number: int, raw: Any, load_spider: Callable[[str], type], known: set[str]) -> Job:
    if not isinstance(raw, dict):
        raise PlanError(f"{where}: job {number}: expected a [[job]] table")
    name = raw.get("name")
    if not isinstance(name, str) or not JOB_NAME.fullmatch(name):
        raise PlanError(f"{where}: job {number}: name: expected letters, digits, '_', '-' or '.' (it names files), got {name!r}")
    where = f"{where}: job {name!r}"
    for key in raw:
        if key not in JOB_KEYS:
            raise PlanError(f"{where}: unknown key {key!r}; accepted: {', '.join(JOB_KEYS)}")
    spider = raw.get("spider")
    if not isinstance(spider, str):
        raise PlanError(f"{where}: spider: missing; expected a spider name such as ranking")
    try:
        spidercls = load_spider(spider)
    except KeyError:
        raise PlanError(f"{where}: spider: unknown spider {spider!r} (scrapy list shows them)") from None
    args = {key: setting_value(value) for key, value in _table(where, raw.get("args", {}), "args").items()}
    parse_arguments = getattr(spidercls, "parse_arguments", None)
    if parse_arguments is not None:
        try:
            parse_arguments(args)
        except ArgumentError as exc:
            raise PlanError(f"{where}: args: {exc}") from None
    settings = _settings(where, raw.get("settings", {}), known)
    schedule = None
    if "schedule" in raw or "timezone" in raw:
        if not isinstance(raw.get("schedule"), str):
            raise PlanError(f"{where}: schedule: expected a cron expression such as '0 3 * * *'")
        try:
            schedule = Schedule.parse(raw["schedule"], str(raw.get("timezone", DEFAULT_TIMEZONE)))
        except ValueError as exc:
            key = "timezone" if str(exc).startswith("unknown time zone") else "schedule"
            raise PlanError(f"{where}: {key}: {exc}") from None
    return Job(name, spider, args, settings, schedule)
