"""The README documents every spider, setting and table (datasette/sqlite-utils style)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader

import pixivcrawl.settings as project_settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def readme_table_names(marker: str) -> set[str]:
    """Backticked names in the first column of the table after ``<!-- marker -->``."""
    section = README.split(f"<!-- {marker} -->", 1)[1]
    rows = re.findall(r"^\| `([^`]+)`", section.split("\n\n", 1)[0], flags=re.MULTILINE)
    return set(rows)


def spiders() -> dict[str, type]:
    loader = SpiderLoader.from_settings(Settings({"SPIDER_MODULES": project_settings.SPIDER_MODULES}))
    return {name: loader.load(name) for name in loader.list()}


@pytest.mark.parametrize("name", sorted(n for n in dir(project_settings) if n.startswith("PIXIV_")))
def test_every_setting_is_documented(name: str) -> None:
    assert name in readme_table_names("settings")


def test_every_spider_is_documented_with_a_docstring() -> None:
    documented = readme_table_names("spiders")
    for name, cls in spiders().items():
        assert name in documented, f"spider {name} missing from the README table"
        assert (cls.__doc__ or "").strip(), f"spider {name} has no docstring"


def test_every_spider_argument_is_documented() -> None:
    section = README.split("<!-- spiders -->", 1)[1]
    for name, cls in spiders().items():
        row = next(line for line in section.splitlines() if line.startswith(f"| `{name}`"))
        for arg in cls.arguments:
            assert f"`{arg}`" in row, f"argument {arg} of {name} missing from its README row"


def test_every_table_and_column_is_documented() -> None:
    from pixivcrawl.db.schema import Base

    section = README.split("<!-- tables -->", 1)[1].split("\n\n", 1)[0]
    entries = dict(re.findall(r"^- `([a-z_]+)`: (.*)$", section, flags=re.MULTILINE))
    for table in Base.metadata.sorted_tables:
        assert table.name in entries, f"table {table.name} missing from the README"
        for column in table.columns:
            assert f"`{column.name}`" in entries[table.name], f"{table.name}.{column.name} undocumented"
