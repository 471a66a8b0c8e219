"""Every query of the README's SQL cookbook, run on an archive built from known items."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.browse.cookbook import readme_section, recipes
from pixivcrawl.db.engine import create_engine
from pixivcrawl.db.upsert import Writer
from pixivcrawl.models import Bookmark, RankingEntry
from tests.db.factories import age, deleted_illust, hidden_illust, illust, query, store, user_detail, with_files

README = Path(__file__).resolve().parents[2] / "README.md"
PARAMETER = re.compile(r"(?<![:\w]):([a-z_]+)")
TODAY = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
MONTH = TODAY.strftime("%Y-%m")
ALICE, BOB = (100, "alice"), (200, "bob")

#: heading -> the expected rows (compared on as many columns as the expected rows have).
EXPECTED: dict[str, list[tuple[Any, ...]]] = {
    "Top-bookmarked works of a tag in a month": [(2, "work 2", 85), (1, "Summer sea", 70), (6, "work 6", 1)],
    "An artist's works over time (per month)": [("2025-01", 1), ("2025-02", 1), (MONTH, 1)],
    "How a work climbed a ranking": [("2025-02-01", 5), ("2025-02-02", 2), ("2025-02-03", 1)],
    "Tags that appear together with a tag": [("夏", 2), ("空", 2), ("オリジナル", 1)],
    "What is new in the last days": [(6, "work 6")],
    "What the last crawl found that was not archived before": [("illust", 6, "work 6")],
    "Novels by length": [(10, "灯台守", 12000), (11, "short", 300)],
    "Share of AI-generated works per day": [("2025-01-15", 0.0), ("2025-02-03", 50.0), (TODAY.date().isoformat(), 33.3)],
    "Works that went hidden or deleted after they were archived": [
        (4, "work 4", "hidden", "limit_sanity_level"),
        (5, "work 5", "deleted", "limit_unknown"),
    ],
    "Biggest bookmark gains in recent days": [(1, "Summer sea", 20), (2, "work 2", 5)],
    "Files on disk for an artist": [("100/1_p0.jpg",), ("100/1_p1.jpg",), ("100/3_p0.jpg",)],
    "Full-text search over titles, captions and tags": [(1,), (2,), (3,), (6,)],
    "Full-text search in novel texts": [(10, "灯台守")],
    "Artists per region (from the profile JSON)": [("France", 1), ("Japan", 1)],
    "What did last night add": [("nightly", "ranking", "illust", 6, "work 6")],
    "Which of my bookmarks were deleted this month": [("illust", 5, "work 5")],
    "Recent crawls and what they stored": [(2, "ranking", "finished", "finished", 5), (1, "ranking", "finished", "finished", 5)],
}

#: heading -> the values a user would type (always text, as Datasette sends them); the defaults give the same rows.
VALUES: dict[str, dict[str, str]] = {
    "Top-bookmarked works of a tag in a month": {"tag": "海", "month": MONTH},
    "An artist's works over time (per month)": {"user_id": "100"},
    "How a work climbed a ranking": {"illust_id": "3", "mode": "day"},
    "Tags that appear together with a tag": {"tag": "海"},
    "What is new in the last days": {"days": "1"},
    "Biggest bookmark gains in recent days": {"days": "7"},
    "Files on disk for an artist": {"user_id": "100"},
    "Full-text search over titles, captions and tags": {"q": "sea"},
    "Full-text search in novel texts": {"q": "灯台守"},
}


def cookbook() -> dict[str, dict[str, str]]:
    """heading -> {dialect: query}, from the one source the README and Datasette share."""
    return {r.heading: r.queries for r in recipes()}


def normalize(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def novel_rows(seen: dt.datetime) -> dict[str, list[dict[str, Any]]]:
    """Novels have no model yet; their rows go through the same Writer the pipeline uses."""
    def novel(novel_id: int, user_id: int, title: str, length: int) -> dict[str, Any]:
        return {"id": novel_id, "user_id": user_id, "title": title, "caption": "", "restrict": 0, "x_restrict": 0,
                "is_original": True, "ai_type": 1, "create_date": seen, "page_count": 1, "text_length": length,
                "status": "available", "first_seen_at": seen, "last_seen_at": seen}
    text = "[chapter:一]灯台守の娘は海を見ていた。[newpage]" + "波" * 11970
    return {
        "novels": [novel(10, 100, "灯台守", 12000), novel(11, 200, "short", 300)],
        "tags": [{"name": "海", "translated_name": "sea"}],
        "novel_tags": [{"novel_id": 10, "tag": "海", "position": 0, "added_by_uploaded_user": True}],
        "novel_texts": [{"novel_id": 10, "text": text, "plain_text": text.replace("[newpage]", "\n"),
                         "length": len(text), "marker": None, "fetched_at": seen}],
    }


async def build_archive(url: str) -> None:
    today = TODAY.isoformat()
    await store(url, [
        user_detail(*ALICE, region="Japan"),
        user_detail(*BOB, region="France"),
        with_files(illust(1, user=ALICE, title="Summer sea", created=today, bookmarks=50, pages=2,
                          tags=[("海", "sea"), ("夏", "summer"), ("オリジナル", "original")]), root="100"),
        illust(2, user=BOB, created=today, bookmarks=80, ai_type=2, tags=[("海", "sea"), ("空", "sky")]),
        with_files(illust(3, user=ALICE, created="2025-01-15T10:00:00+09:00", bookmarks=300,
                          tags=[("海", "sea"), ("夏", "summer")]), root="100"),
        illust(4, user=ALICE, created="2025-02-03T12:00:00+09:00", ai_type=2, tags=[("夏", "summer")]),
        illust(5, user=BOB, created="2025-02-03T20:00:00+09:00", tags=[("空", "sky")]),
        *[RankingEntry(mode="day", date=dt.date(2025, 2, d), rank=r, illust_id=i)
          for d, r, i in ((1, 5, 3), (1, 1, 2), (2, 2, 3), (3, 1, 3))],
        Bookmark(user_id=100, work_kind="illust", work_id=5, restrict="public"),
        Bookmark(user_id=100, work_kind="illust", work_id=2, restrict="public"),
    ], record_run="ranking")
    engine = create_engine(url)
    with engine.begin() as connection:
        Writer(engine.dialect).write(connection, novel_rows(dt.datetime.now(dt.UTC)))
    engine.dispose()
    age(url, dt.timedelta(days=2))
    await store(url, [
        illust(1, user=ALICE, title="Summer sea", created=today, bookmarks=70, pages=2,
               tags=[("海", "sea"), ("夏", "summer"), ("オリジナル", "original")]),
        illust(2, user=BOB, created=today, bookmarks=85, ai_type=2, tags=[("海", "sea"), ("空", "sky")]),
        hidden_illust(4, user_id=100),
        deleted_illust(5),
        illust(6, user=BOB, created=today, bookmarks=1, tags=[("空", "sky"), ("海", "sea")]),
    ], record_run="ranking", PIXIV_RUN_JOB="nightly")


def test_readme_cookbook_is_the_package_cookbook() -> None:
    """The README's section and Datasette's canned queries come from one file (run
    ``python -m pixivcrawl.browse.cookbook`` after editing it)."""
    assert readme_section(README.read_text(encoding="utf-8")) == (
        Path(__file__).resolve().parents[2] / "pixivcrawl" / "browse" / "cookbook.md").read_text(encoding="utf-8")


def test_every_recipe_has_an_expected_answer_both_dialects_and_says_what_it_answers() -> None:
    found = recipes()
    assert len(found) >= 10
    assert {r.heading for r in found} == set(EXPECTED)
    for recipe in found:
        assert set(recipe.queries) == {"sqlite", "postgresql"}, recipe.heading
        assert recipe.description, f"{recipe.heading}: say what the query answers"
        names = {n for q in recipe.queries.values() for n in PARAMETER.findall(q)}
        assert names == set(VALUES.get(recipe.heading, {})), recipe.heading


@deferred_f_from_coro_f
async def test_cookbook_answers(db_url: str) -> None:
    """Every recipe with the values a user gives, and with every value left empty (its defaults)."""
    await build_archive(db_url)
    dialect = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    wrong = {}
    for heading, queries in cookbook().items():
        expected = EXPECTED[heading]
        width = len(expected[0])
        given = VALUES.get(heading, {})
        for label, params in (("given", given), ("defaults", dict.fromkeys(given, ""))):
            got = [tuple(normalize(v) for v in row[:width]) for row in query(db_url, queries[dialect], **params)]
            if got != expected:
                wrong[f"{heading} ({label})"] = got
    assert wrong == {}
