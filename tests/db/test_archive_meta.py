"""archive_meta: a sandbox archive and a real one refuse crawls of the other kind, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest
from scrapy.settings import Settings

from pixivcrawl.checks import check_archive
from pixivcrawl.db.archive import CONTENTS_KEY, archive_meta, set_archive_meta
from pixivcrawl.db.engine import begin_write, create_engine, upgrade
from pixivcrawl.exceptions import ArgumentError


def settings_for(url: str, *, sandbox: bool) -> Settings:
    return Settings({"PIXIV_DATABASE_URL": url, "PIXIV_SANDBOX": sandbox})


def test_contents_are_marked_and_crawls_of_the_other_kind_refused(db_url: str) -> None:
    assert archive_meta(db_url) == {}  # nothing there yet: nothing is created by reading
    engine = create_engine(db_url)
    upgrade(engine)
    check_archive(settings_for(db_url, sandbox=True))  # unmarked: either kind may start it
    with engine.begin() as connection:
        set_archive_meta(connection, CONTENTS_KEY, "pixiv")
        set_archive_meta(connection, CONTENTS_KEY, "sandbox")  # an upsert: one row per key
    engine.dispose()
    assert archive_meta(db_url) == {CONTENTS_KEY: "sandbox"}
    check_archive(settings_for(db_url, sandbox=True))
    with pytest.raises(ArgumentError, match="holds the sandbox demo's fake works"):
        check_archive(settings_for(db_url, sandbox=False))


def test_crawls_starting_together_both_record_what_the_archive_holds(db_url: str) -> None:
    # Workers start together: the second must not find the key absent and insert it again.
    engine = create_engine(db_url)
    upgrade(engine)
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with begin_write(engine) as connection:
                set_archive_meta(connection, CONTENTS_KEY, "pixiv", replace=False)
        except BaseException as exc:
            errors.append(exc)

    with begin_write(engine) as first:
        set_archive_meta(first, CONTENTS_KEY, "pixiv", replace=False)
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)  # the second transaction waits for the first
    thread.join(30)
    engine.dispose()
    assert errors == []
    assert archive_meta(db_url) == {CONTENTS_KEY: "pixiv"}


def test_a_missing_sqlite_archive_is_not_created_by_the_check(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'pixiv.db'}"
    check_archive(settings_for(url, sandbox=False))
    assert not (tmp_path / "data").exists()


def test_an_archive_the_old_demo_wrote_into_counts_as_sandbox(tmp_path) -> None:
    import sqlite3

    path = tmp_path / "pixiv.db"
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    upgrade(engine, "0003")  # before archive_meta: the demo wrote into data/pixiv.db
    engine.dispose()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO illust_pages (illust_id, page, original_url) "
                   "VALUES (1, 0, 'http://127.0.0.1:40485/img-original/img/1_p0.png')")
    with pytest.raises(ArgumentError, match="holds the sandbox demo's fake works"):
        check_archive(settings_for(url, sandbox=False))
