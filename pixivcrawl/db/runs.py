"""The ``crawl_runs`` table: a crawl's record, its heartbeat, and runs left running by a process that is gone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from pixivcrawl.db.schema import TABLES

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

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
