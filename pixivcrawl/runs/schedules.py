"""Cron schedules with a time zone, and whether a job has come due since its last successful run."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

#: Pixiv's day (rankings, "yesterday") is Japan's.
DEFAULT_TIMEZONE = "Asia/Tokyo"


@dataclass(frozen=True)
class Schedule:
    """A cron expression (``minute hour day month weekday``) read in a time zone."""

    expression: str
    timezone: ZoneInfo

    @classmethod
    def parse(cls, expression: str, timezone: str = DEFAULT_TIMEZONE) -> Schedule:
        """The schedule, or ValueError naming what is wrong with it."""
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {timezone!r}; expected an IANA name such as Asia/Tokyo") from None
        try:
            CronSim(expression, dt.datetime.now(zone))
        except CronSimError as exc:
            raise ValueError(f"bad cron expression {expression!r} ({exc}); expected five fields such as '0 3 * * *'") from None
        return cls(expression, zone)

    def previous(self, now: dt.datetime) -> dt.datetime:
        """The latest time at or before ``now`` the schedule fired."""
        return next(CronSim(self.expression, now.astimezone(self.timezone) + dt.timedelta(seconds=1), reverse=True))

    def next(self, now: dt.datetime) -> dt.datetime:
        """The first time after ``now`` the schedule fires."""
        return next(CronSim(self.expression, now.astimezone(self.timezone)))

    def __str__(self) -> str:
        return f"{self.expression} ({self.timezone.key})"


def show(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M %Z")


def due(schedule: Schedule | None, last_success: dt.datetime | None, now: dt.datetime) -> tuple[bool, str]:
    """Whether a job is due for ``--due``, and why (one short phrase).

    Due when it never finished a run, or when its schedule fired after the start
    of its last successful run. A job without a schedule is never due by itself.
    """
    if schedule is None:
        return False, "no schedule (runs without --due only)"
    if last_success is None:
        return True, "never finished a run"
    fired = schedule.previous(now)
    if fired > last_success:
        return True, f"due since {show(fired)}, last success {show(last_success.astimezone(schedule.timezone))}"
    return False, f"not due until {show(schedule.next(now))}"
