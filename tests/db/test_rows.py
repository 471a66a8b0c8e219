"""rows_for: pure functions from models to table rows, one builder per model type."""

from __future__ import annotations

import datetime as dt

import pytest

from pixivcrawl.db.rows import ROW_BUILDERS, rows_for
from pixivcrawl.db.rules import Merge, TableRules, dedupe, upserted
from pixivcrawl.db.schema import TABLES, Base
from pixivcrawl.models import PixivModel, StoredFile, Ugoira, UgoiraFrame, User
from tests.db.factories import deleted_illust, hidden_illust, illust, user_detail, with_files

SEEN = dt.datetime(2025, 2, 4, 12, 0, tzinfo=dt.UTC)


def test_an_illust_fills_its_tables_with_whole_rows() -> None:
    rows = rows_for(with_files(illust(1, pages=2, tags=[("海", "sea"), ("夏", None)])), SEEN)
    assert {t: len(r) for t, r in rows.items()} == {
        "illusts": 1, "users": 1, "illust_pages": 2, "tags": 2, "illust_tags": 2, "work_stats": 1
    }
    for table, table_rows in rows.items():
        assert set(table_rows[0]) <= {c.name for c in TABLES[table].columns}, table
        assert all(set(r) == set(table_rows[0]) for r in table_rows)
    assert rows["illusts"][0]["create_date"] == dt.datetime(2025, 2, 2, 15, 3, 17, tzinfo=dt.UTC)
    assert rows["illust_pages"][1]["local_path"] == "2131660/1_p1.jpg"
    assert [r["position"] for r in rows["illust_tags"]] == [0, 1]


def test_a_placeholder_only_speaks_for_status() -> None:
    assert set(rows_for(hidden_illust(1), SEEN)) == {"illusts", "users"}
    deleted = rows_for(deleted_illust(2), SEEN)
    assert set(deleted) == {"illusts"}  # Pixiv's user 0 is nobody
    assert deleted["illusts"][0]["user_id"] is None


def test_ugoira_rows_carry_frames_and_files() -> None:
    item = illust(3)
    item.ugoira = Ugoira(
        zip_url="https://i.pximg.net/img-zip-ugoira/img/3_ugoira600x600.zip",
        frames=[UgoiraFrame(file="000000.jpg", delay=60), UgoiraFrame(file="000001.jpg", delay=40)],
        animation_file=StoredFile(url="x", local_path="1/3.webp", size=10, sha256="a" * 64),
    )
    [row] = rows_for(item, SEEN)["ugoira"]
    assert (row["frame_count"], row["duration_ms"], row["animation_format"], row["zip_local_path"]) == (2, 100, "webp", None)


def test_every_builder_writes_known_tables_only() -> None:
    assert {r.name for r in upserted(Base.metadata.sorted_tables)} == set(TABLES) - {"crawl_runs", "archive_meta", "rejects", "work_events"}  # run recorder's; store's own inserts
    detail = rows_for(user_detail(5), SEEN)["users"][0]
    assert detail["detail_fetched_at"] == SEEN and detail["profile"]["region"] == "Japan"
    assert rows_for(User(id=0), SEEN) == {}
    assert all(issubclass(model, PixivModel) for model in ROW_BUILDERS)


def test_unknown_types_are_refused() -> None:
    with pytest.raises(TypeError, match="no rows builder for dict"):
        rows_for({}, SEEN)


def test_dedupe_merges_by_the_table_rules() -> None:
    spec = TableRules("users", ("id",), {"name": Merge.NONBLANK, "profile": Merge.COALESCE, "first_seen_at": Merge.KEEP})
    rows = [
        {"id": 1, "name": "alice", "profile": {"region": "Japan"}, "first_seen_at": 1},
        {"id": 1, "name": "", "profile": None, "first_seen_at": 2},
    ]
    assert dedupe(spec, rows) == [{"id": 1, "name": "alice", "profile": {"region": "Japan"}, "first_seen_at": 1}]
