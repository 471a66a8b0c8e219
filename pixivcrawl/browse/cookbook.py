"""The SQL cookbook: one file (``cookbook.md``) that is both the README's section and Datasette's canned queries.

``python -m pixivcrawl.browse.cookbook`` copies the file into the README between the
``<!-- cookbook -->`` markers; a test fails when the two differ.
"""

from __future__ import annotations

import html
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).with_name("cookbook.md")
START, END = "<!-- cookbook -->\n", "<!-- /cookbook -->"
BLOCK = re.compile(r"```sql(?: (sqlite|postgresql))?\n(.*?)```", re.DOTALL)
DIALECTS = ("sqlite", "postgresql")


@dataclass
class Recipe:
    heading: str
    #: What the query answers: the recipe's text before its first SQL block.
    description: str
    queries: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The canned query's name in Datasette's URLs."""
        return re.sub(r"[^a-z0-9]+", "-", self.heading.lower()).strip("-")


def recipes(text: str | None = None) -> list[Recipe]:
    """Every recipe of the cookbook, with its SQL per dialect (a plain ```sql block serves both)."""
    found = []
    for section in (SOURCE.read_text(encoding="utf-8") if text is None else text).split("\n### ")[1:]:
        heading, body = section.split("\n", 1)
        recipe = Recipe(heading.strip(), body.split("```", 1)[0].strip())
        for dialect, sql in BLOCK.findall(body):
            for name in [dialect] if dialect else DIALECTS:
                recipe.queries[name] = sql.strip()
        found.append(recipe)
    return found


def canned_queries() -> dict[str, dict[str, Any]]:
    """The recipes as Datasette canned queries (SQLite); their ``:names`` become form fields."""
    return {r.name: {"sql": r.queries["sqlite"], "title": r.heading, "description_html": as_html(r.description)}
            for r in recipes()}


def as_html(text: str) -> str:
    """A recipe's text as HTML: escaped, with its `code` spans and paragraphs."""
    escaped = html.escape(text, quote=False)
    paragraphs = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped).split("\n\n")
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def readme_section(readme: str) -> str:
    """The cookbook as it stands in the README, between the markers."""
    return readme.split(START, 1)[1].split(END, 1)[0]


def with_cookbook(readme: str) -> str:
    """The README with its cookbook section replaced by the source file."""
    head, rest = readme.split(START, 1)
    return head + START + SOURCE.read_text(encoding="utf-8") + END + rest.split(END, 1)[1]


def main(argv: list[str]) -> int:
    readme = Path(argv[0] if argv else "README.md")
    text = readme.read_text(encoding="utf-8")
    updated = with_cookbook(text)
    if updated != text:
        readme.write_text(updated, encoding="utf-8")
        print(f"{readme}: cookbook section updated from {SOURCE}")
    else:
        print(f"{readme}: cookbook section already matches {SOURCE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
