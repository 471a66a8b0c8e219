"""The ``crawl_runs`` table: a crawl's record, its heartbeat, and runs left running by a process that is gone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from pixivcrawl.db.schema import TABLES

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Collection

    from sqlalchemy.engine import Connection

def mark_lost_runs(
    connection: Connection, *, host: str, stale_after: dt.timedelta, now: dt.datetime,
    alive: Callable[[int, dt.datetime], bool],
) -> list[int]:
    """Mark as ``lost`` the runs left ``running`` by a process that is gone; returns their ids.

    ``alive(pid, started_at)`` says whether process ``pid`` of this machine is still the one that started the run.
    A run of this host is lost when its process no longer exists; a run of any host
    is lost when its heartbeat (or start, for runs recorded before heartbeats) is
    older than ``stale_after``.
    """
    table = TABLES["crawl_runs"]
    rows = connection.execute(
        sa.select(table.c.id, table.c.host, table.c.pid, table.c.started_at, table.c.heartbeat_at)
        .where(table.c.status == "running")
    ).all()
    lost = []
    for run_id, run_host, pid, started_at, heartbeat_at in rows:
        last_sign = heartbeat_at or started_at
        gone = run_host == host and pid is not None and not alive(pid, started_at)
        if gone or last_sign < now - stale_after:
            lost.append(run_id)
            connection.execute(
                table.update()
                .where(table.c.id == run_id, table.c.status == "running")
                .values(status="lost", finished_at=last_sign, finish_reason="lost")
            )
    return lost


def insert_run(connection: Connection, **values: Any) -> int:
    table = TABLES["crawl_runs"]
    run_id: int = connection.execute(table.insert().values(**values).returning(table.c.id)).scalar_one()
    return run_id


def update_run(connection: Connection, run_id: int, **values: Any) -> None:
    table = TABLES["crawl_runs"]
    connection.execute(table.update().where(table.c.id == run_id).values(**values))


def latest_runs(connection: Connection, job: str | None, last: int) -> list[dict[str, Any]]:
    """The latest ``last`` rows (of ``job``), newest first."""
    table = TABLES["crawl_runs"]
    query = sa.select(table).order_by(table.c.id.desc()).limit(last)
    if job is not None:
        query = query.where(table.c.job == job)
    return [dict(row) for row in connection.execute(query).mappings()]


def run_of_process(connection: Connection, *, job: str, host: str, pid: int) -> dict[str, Any] | None:
    """The row a job's crawl process recorded, if it recorded one."""
    table = TABLES["crawl_runs"]
    row = connection.execute(
        sa.select(table).where(table.c.job == job, table.c.host == host, table.c.pid == pid).order_by(table.c.id.desc()).limit(1)
    ).mappings().first()
    return dict(row) if row is not None else None


def last_started(connection: Connection, job: str, statuses: Collection[str]) -> dt.datetime | None:
    """When the job's latest run with one of ``statuses`` started."""
    table = TABLES["crawl_runs"]
    started: dt.datetime | None = connection.execute(
        sa.select(sa.func.max(table.c.started_at)).where(table.c.job == job, table.c.status.in_(statuses))
    ).scalar()
    return started
