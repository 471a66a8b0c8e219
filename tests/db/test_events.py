"""work_events: what each run found new or changed, and the new/changed counts of crawl_runs."""

from __future__ import annotations

import json

from scrapy.utils.defer import deferred_f_from_coro_f

from tests.db.factories import deleted_illust, hidden_illust, illust, query, store

LATER = "2025-03-01T10:00:00+09:00"  # a re-upload moves the file URLs to its own date


def events(url: str, run_id: int) -> list[tuple[str, int, str]]:
    return query(url, "SELECT event, work_id, kind FROM work_events WHERE run_id = :r ORDER BY work_id, event", r=run_id)


def counts(url: str, run_id: int) -> dict:  # type: ignore[type-arg]
    [(raw,)] = query(url, "SELECT counts FROM crawl_runs WHERE id = :r", r=run_id)
    return raw if isinstance(raw, dict) else json.loads(raw)


@deferred_f_from_coro_f
async def test_each_run_records_new_and_changed_works(db_url: str) -> None:
    first = [illust(i, tags=[("海", "sea")]) for i in range(1, 6)]
    crawler = await store(db_url, first, record_run="user")
    assert events(db_url, 1) == [("new", i, "illust") for i in range(1, 6)]
    assert crawler.stats.get_value("pixivcrawl/works/new") == 5
    assert crawler.stats.get_value("pixivcrawl/users/new") == 1
    assert counts(db_url, 1)["new"] == {"works": 5, "users": 1, "files": 0, "bytes": 0}

    second = [
        illust(1, title="Summer sea", tags=[("海", "sea")]),
        illust(2, tags=[("空", "sky")]),
        illust(3, tags=[("海", "sea")], created=LATER),
        hidden_illust(4),
        deleted_illust(5),
        illust(6),
        illust(6),  # twice in one batch: one event
    ]
    crawler = await store(db_url, second, record_run="user")
    assert events(db_url, 2) == [
        ("retitled", 1, "illust"), ("retagged", 2, "illust"), ("reuploaded", 3, "illust"),
        ("hidden", 4, "illust"), ("deleted", 5, "illust"), ("new", 6, "illust"),
    ]
    assert query(db_url, "SELECT detail FROM work_events WHERE run_id = 2 AND event = 'retitled'")[0][0] in (
        {"old": "work 1", "new": "Summer sea"}, json.dumps({"old": "work 1", "new": "Summer sea"}))
    assert counts(db_url, 2)["events"] == {"deleted": 1, "hidden": 1, "new": 1, "retagged": 1, "retitled": 1, "reuploaded": 1}
    assert counts(db_url, 2)["changed_works"] == 5 and counts(db_url, 2)["new"]["works"] == 1
    assert crawler.stats.get_value("pixivcrawl/users/new") == 0

    await store(db_url, [illust(4, tags=[("海", "sea")]), illust(1, title="Summer sea", tags=[("海", "sea")])], record_run="user")
    assert events(db_url, 3) == [("restored", 4, "illust")]
    assert counts(db_url, 3)["changed_works"] == 1 and counts(db_url, 3)["new"]["works"] == 0
