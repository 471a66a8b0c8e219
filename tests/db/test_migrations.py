"""Migrations: from empty, from revision 1 with data, and in step with the models."""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from scrapy.exceptions import UsageError
from scrapy.settings import Settings
from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.commands.db import Command
from pixivcrawl.db.engine import (
    alembic_config,
    at_head,
    create_engine,
    current_revision,
    head_revision,
    include_object,
    upgrade,
)
from pixivcrawl.db.migrations import HEAD
from pixivcrawl.db.rows import Rows, merge_rows, rows_for
from pixivcrawl.db.schema import Base
from pixivcrawl.db.upsert import Writer
from tests.db.factories import REPO, illust, query, store, with_files


def at_revision(connection: sa.Connection, rows: Rows) -> Rows:
    """``rows`` without the columns later revisions added: what the older schema could hold."""
    inspector = sa.inspect(connection)
    columns = {t: {c["name"] for c in inspector.get_columns(t)} for t in rows}
    return {t: [{k: v for k, v in row.items() if k in columns[t]} for row in table_rows] for t, table_rows in rows.items()}


def test_empty_database_migrates_to_head_and_matches_the_models(db_url: str) -> None:
    engine = create_engine(db_url)
    assert current_revision(engine) is None
    assert upgrade(engine) == (None, head_revision())
    assert upgrade(engine) == (head_revision(), head_revision())
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_object}
        )
        assert compare_metadata(context, Base.metadata) == []
        views = set(sa.inspect(connection).get_view_names())
    assert {"illust_overview", "novel_overview", "ranking_history", "latest_work_stats"} <= views
    engine.dispose()


def test_head_is_the_newest_migration() -> None:
    # A crawl compares the database with HEAD without importing Alembic: a new migration must move it.
    assert head_revision() == HEAD


def test_only_a_database_at_head_is_at_head(db_url: str) -> None:
    engine = create_engine(db_url)
    assert not at_head(engine)
    upgrade(engine, "0008")
    assert not at_head(engine)
    assert upgrade(engine) == ("0008", HEAD)
    assert at_head(engine)
    engine.dispose()


@deferred_f_from_coro_f
async def test_upgrade_from_revision_1_keeps_the_data(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    engine = create_engine(db_url)
    upgrade(engine, "0001")
    engine.dispose()
    # Rows written by revision 1's schema, through the same writer.
    now = dt.datetime.now(dt.UTC)
    rows: Rows = {}
    for item in (with_files(illust(1, title="Summer sea", pages=2)), illust(2, tags=[("空", "sky")])):
        merge_rows(rows, rows_for(item, now))
    engine = create_engine(db_url)
    with engine.begin() as connection:
        Writer(engine.dialect).write(connection, at_revision(connection, rows))
    engine.dispose()
    before = {t: query(db_url, f"SELECT count(*) FROM {t}") for t in ("users", "illusts", "illust_pages", "illust_tags")}

    caplog.set_level("INFO", logger="pixivcrawl.db.engine")
    await store(db_url, [illust(3)])  # the pipeline migrates first
    assert f"from 0001 to {head_revision()}" in caplog.text

    assert query(db_url, "SELECT count(*) FROM illusts") == [(3,)]
    assert {t: query(db_url, f"SELECT count(*) FROM {t}") for t in before} == {
        "users": [(1,)], "illusts": [(3,)], "illust_pages": [(4,)], "illust_tags": [(3,)]
    }
    assert query(db_url, "SELECT illust_id, user_name, page_count FROM illust_overview WHERE illust_id = 1") == [
        (1, "artist", 2)
    ]
    if db_url.startswith("sqlite"):
        # The search index was filled from the rows that were already there.
        assert query(db_url, "SELECT rowid FROM illusts_fts WHERE illusts_fts MATCH 'sky'") == [(2,)]
    engine = create_engine(db_url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def run_db_command(url: str, action: str, capsys: pytest.CaptureFixture[str]) -> tuple[str, int]:
    command = Command()
    command.settings = Settings({"PIXIV_DATABASE_URL": url})
    command.run([action], argparse.Namespace())
    return capsys.readouterr().out, command.exitcode


def test_db_command_actions(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert "revision none (empty database)" in run_db_command(sqlite_url, "current", capsys)[0]
    assert f"migrated from empty to {head_revision()}" in run_db_command(sqlite_url, "upgrade", capsys)[0]
    assert "already at" in run_db_command(sqlite_url, "upgrade", capsys)[0]
    assert "up to date" in run_db_command(sqlite_url, "current", capsys)[0]
    with pytest.raises(UsageError):
        run_db_command(sqlite_url, "sideways", capsys)


def test_db_command_unreachable_database_masks_the_password(capsys: pytest.CaptureFixture[str]) -> None:
    command = Command()
    command.settings = Settings({"PIXIV_DATABASE_URL": "postgresql+psycopg://archive:hunter2@127.0.0.1:9/pixiv"})
    command.run(["current"], argparse.Namespace())
    err = capsys.readouterr().err
    assert command.exitcode == 1
    assert "archive:***@127.0.0.1:9" in err and "hunter2" not in err


def test_scrapy_db_is_a_project_command(sqlite_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "db", "upgrade", "-s", f"PIXIV_DATABASE_URL={sqlite_url}"],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"migrated from empty to {head_revision()}" in result.stdout


@deferred_f_from_coro_f
async def test_upgrade_from_revision_2_keeps_the_search_index_and_batches_its_updates(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    upgrade(engine, "0002")
    engine.dispose()
    await store(sqlite_url, [illust(1, title="Summer sea"), illust(2, tags=[("空", "sky")])])  # migrates to head
    await store(sqlite_url, [illust(3, title="Winter lighthouse", tags=[("灯台", "lighthouse")])])
    await store(sqlite_url, [illust(1, title="Autumn sea")])  # a changed title is re-indexed

    def found(term: str) -> list[tuple[int, ...]]:
        return query(sqlite_url, f"SELECT rowid FROM illusts_fts WHERE illusts_fts MATCH '{term}' ORDER BY rowid")

    assert found("sky") == [(2,)]
    assert found("lighthouse") == [(3,)]
    assert found("Autumn") == [(1,)]
    assert found("Summer") == []
    assert query(sqlite_url, "SELECT count(*) FROM search_dirty") == [(0,)]

    # Back to revision 2: its per-row triggers take over, with nothing lost.
    engine = create_engine(sqlite_url)
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO search_dirty VALUES ('illust', 3)"))
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0002")
    engine.dispose()
    assert found("lighthouse") == [(3,)]
    assert query(sqlite_url, "SELECT count(*) FROM sqlite_master WHERE name = 'search_dirty'") == [(0,)]


def test_revision_0005_keeps_every_ranking_as_an_illust_ranking_and_back(db_url: str) -> None:
    engine = create_engine(db_url)
    upgrade(engine, "0003")
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO rankings (mode, date, illust_id, rank, crawled_at) VALUES "
            "('day', '2025-02-04', 11, 1, '2025-02-05 00:00:00+00:00'), ('week', '2025-02-04', 12, 3, '2025-02-05 00:00:00+00:00')"
        ))
    upgrade(engine, "0005")
    engine.dispose()
    assert query(db_url, "SELECT kind, mode, work_id, rank FROM rankings ORDER BY mode") == [
        ("illust", "day", 11, 1), ("illust", "week", 12, 3)
    ]
    assert query(db_url, "SELECT illust_id, mode, rank FROM ranking_history ORDER BY mode") == [(11, "day", 1), (12, "week", 3)]
    engine = create_engine(db_url)
    with engine.begin() as connection:
        # A placeholder's sizes are not data any more: NULL is allowed.
        connection.execute(sa.text(
            "INSERT INTO illusts (id, title, type, caption, \"restrict\", x_restrict, ai_type, tools, status, "
            "first_seen_at, last_seen_at) VALUES (5, '', 'illust', '', 0, 0, 0, '[]', 'hidden', "
            "'2025-02-05 00:00:00+00:00', '2025-02-05 00:00:00+00:00')"
        ))
        connection.execute(sa.text(
            "INSERT INTO rankings (kind, mode, date, work_id, rank, crawled_at) VALUES "
            "('novel', 'day', '2025-02-04', 11, 2, '2025-02-05 00:00:00+00:00')"
        ))
        command.downgrade(alembic_config(connection), "0003")
    engine.dispose()
    # Back at 0003: the illust rankings as they were; novel rankings have no place there.
    assert query(db_url, "SELECT mode, illust_id, rank FROM rankings ORDER BY mode") == [("day", 11, 1), ("week", 12, 3)]
    assert query(db_url, "SELECT width, height, page_count FROM illusts") == [(0, 0, 1)]
