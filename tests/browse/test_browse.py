"""`scrapy browse` in a real headless Chromium: grids of decoded thumbnails, work, user and novel pages,
canned queries, facets, and files confined to FILES_STORE."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.wait import WebDriverWait

from tests.browse.conftest import Browse, running_browse
from tests.crawl import REPO, scrapy_command

pytestmark = pytest.mark.slow

IMAGES = """
return Array.from(document.querySelectorAll(arguments[0])).map(
    i => [i.getAttribute('src'), i.complete, i.naturalWidth, getComputedStyle(i).filter]);
"""


def images(driver: Any, selector: str, timeout: float = 30) -> list[tuple[str, bool, int, str]]:
    """The pictures under ``selector`` once every one has finished loading (or failed to)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [tuple(i) for i in driver.execute_script(IMAGES, selector)]
        if (found and all(complete for _, complete, _, _ in found)) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def visit(driver: Any, browse: Browse, path: str, screenshots: Path, name: str) -> None:
    driver.get(browse.url + path)
    driver.execute_script("window.scrollTo(0, document.body.scrollHeight); window.scrollTo(0, 0);")
    images(driver, "img")
    driver.save_screenshot(str(screenshots / f"{name}.png"))


def test_ranking_grid_shows_decoded_thumbnails_and_blurs_r18(browse: Browse, chromium: Any, screenshots: Path) -> None:
    date = browse.archive.query("SELECT max(date) FROM ranking_history WHERE mode = 'day'")[0][0]
    ranked = browse.archive.query("SELECT count(*) FROM ranking_history r JOIN illust_pages p ON p.illust_id = r.illust_id "
                                  "AND p.page = 0 WHERE r.mode = 'day' AND r.date = ?", date)[0][0]
    visit(chromium, browse, f"/-/pixiv/ranking?mode=day&date={date}", screenshots, "ranking_day")
    shown = images(chromium, ".pixiv-grid img")
    assert len(shown) == ranked > 30
    assert [src for src, _, width, _ in shown if width == 0] == []
    assert all("/-/pixiv/thumbs/" in src for src, *_ in shown)
    assert all("blur" not in style for *_, style in shown)
    assert "#1" in chromium.find_element("css selector", ".pixiv-grid li").text

    visit(chromium, browse, "/-/pixiv/ranking?mode=day_r18", screenshots, "ranking_day_r18")
    explicit = images(chromium, ".pixiv-grid img")
    assert explicit
    assert all(width > 0 and "blur" in style for _, _, width, style in explicit)
    # thumbnails are cached beside the files, not in the database
    assert any((browse.archive.files / ".thumbs").rglob("*.webp"))


def test_show_explicit_setting_unblurs_r18(browse: Browse) -> None:
    assert browse.get("/-/pixiv/ranking?mode=day_r18")[1].count(b"pixiv-explicit") >= 30
    with running_browse(browse.archive, "PIXIV_BROWSE_SHOW_EXPLICIT=true") as unblurred:
        status, page = unblurred.get("/-/pixiv/ranking?mode=day_r18")
    assert status == 200 and page.count(b'<img src="/-/pixiv/thumbs/') >= 30
    assert b"pixiv-explicit" not in page


def test_work_page_shows_every_page_the_animation_tags_and_chart(browse: Browse, chromium: Any, screenshots: Path) -> None:
    work_id, pages = browse.archive.query(
        "SELECT illust_id, count(*) FROM illust_pages WHERE local_path IS NOT NULL GROUP BY illust_id "
        "ORDER BY count(*) DESC LIMIT 1")[0]
    assert pages > 1
    visit(chromium, browse, f"/-/pixiv/works/{work_id}", screenshots, "work_pages")
    shown = images(chromium, ".pixiv-pages img")
    assert len(shown) == pages
    assert all(width > 0 for _, _, width, _ in shown)
    title, user = browse.archive.query("SELECT i.title, u.name FROM illusts i JOIN users u ON u.id = i.user_id "
                                       "WHERE i.id = ?", work_id)[0]
    text = chromium.find_element("css selector", "main, body").text
    assert title in text and user in text
    tag, translation = browse.archive.query(
        "SELECT it.tag, t.translated_name FROM illust_tags it JOIN tags t ON t.name = it.tag "
        "WHERE it.illust_id = ? AND t.translated_name IS NOT NULL ORDER BY it.position LIMIT 1", work_id)[0]
    assert f"#{tag} {translation}" in chromium.find_element("css selector", ".pixiv-tags").text
    assert chromium.find_elements("css selector", "svg.pixiv-chart polyline")

    ugoira_id, animation = browse.archive.query(
        "SELECT illust_id, animation_local_path FROM ugoira WHERE animation_local_path IS NOT NULL LIMIT 1")[0]
    visit(chromium, browse, f"/-/pixiv/works/{ugoira_id}", screenshots, "work_ugoira")
    (src, _, width, _), = images(chromium, ".pixiv-animation img")
    assert src.endswith(quote(animation)) and width > 0
    # the animation is served as stored: an animated WebP with all its frames
    status, body = browse.get(src)
    assert status == 200 and body == (browse.archive.files / animation).read_bytes()


def test_hidden_work_is_shown_with_its_status(browse: Browse, chromium: Any) -> None:
    hidden = browse.archive.query("SELECT id FROM illusts WHERE status = 'hidden' LIMIT 1")[0][0]
    chromium.get(f"{browse.url}/-/pixiv/works/{hidden}")
    assert "hidden" in chromium.find_element("css selector", ".pixiv-status-note").text


def test_user_page_shows_their_works_as_a_grid(browse: Browse, chromium: Any, screenshots: Path) -> None:
    user_id, name, works = browse.archive.query(
        "SELECT u.id, u.name, count(*) FROM illusts i JOIN users u ON u.id = i.user_id WHERE i.x_restrict = 0 "
        "GROUP BY u.id ORDER BY count(*) DESC, u.id LIMIT 1")[0]
    visit(chromium, browse, f"/-/pixiv/users/{user_id}", screenshots, "user")
    assert name in chromium.find_element("css selector", "h1").text
    shown = images(chromium, ".pixiv-grid img")
    assert len(chromium.find_elements("css selector", ".pixiv-grid li")) == works
    assert shown and all(width > 0 for _, _, width, _ in shown)


def test_novel_text_is_readable_on_its_page(browse: Browse, chromium: Any, screenshots: Path) -> None:
    novel_id, text = browse.archive.query("SELECT novel_id, plain_text FROM novel_texts LIMIT 1")[0]
    visit(chromium, browse, f"/-/pixiv/novels/{novel_id}", screenshots, "novel")
    shown = chromium.find_element("css selector", ".pixiv-novel-text").text
    first_line = next(line for line in text.split("\n") if line.strip() and "\f" not in line)
    assert first_line.strip()[:20] in shown
    assert len(chromium.find_elements("css selector", ".pixiv-novel-page")) == text.count("\f") + 1


def test_novel_ranking_grid_shows_covers_linking_to_novel_pages(browse: Browse, chromium: Any,
                                                                screenshots: Path) -> None:
    date, ranked = browse.archive.query(
        "SELECT date, count(*) FROM rankings WHERE kind = 'novel' AND mode = 'day' GROUP BY date ORDER BY date DESC")[0]
    covers = browse.archive.query(
        "SELECT count(n.cover_local_path) FROM rankings r JOIN novels n ON n.id = r.work_id "
        "WHERE r.kind = 'novel' AND r.mode = 'day' AND r.date = ?", date)[0][0]
    visit(chromium, browse, "/-/pixiv/ranking?kind=novel", screenshots, "novel_ranking")
    assert f"Novel ranking day {date}" in chromium.title
    cells = chromium.find_elements("css selector", ".pixiv-cell")
    assert len(cells) == ranked
    shown = images(chromium, ".pixiv-grid img")
    assert len(shown) == covers > 0
    assert all(width > 0 for _, _, width, _ in shown)  # decoded, not broken
    first = cells[0].find_element("css selector", "p a").get_attribute("href")
    top = browse.archive.query("SELECT work_id FROM rankings WHERE kind = 'novel' AND mode = 'day' AND date = ? "
                               "AND rank = 1", date)[0][0]
    assert first.endswith(f"/-/pixiv/novels/{top}")


def test_novel_page_shows_its_embedded_images_in_place(browse: Browse, chromium: Any, screenshots: Path) -> None:
    novel_id, text = browse.archive.query(
        "SELECT t.novel_id, t.text FROM novel_texts t WHERE (SELECT count(*) FROM novel_images i "
        "WHERE i.novel_id = t.novel_id AND i.local_path IS NOT NULL AND i.kind = 'uploaded') > 1 "
        "ORDER BY t.novel_id LIMIT 1")[0]
    archived = {(kind, key) for kind, key in browse.archive.query(
        "SELECT kind, image_key FROM novel_images WHERE novel_id = ? AND local_path IS NOT NULL", novel_id)}
    tokens = re.findall(r"\[(uploadedimage|pixivimage):([^\]]*)\]", text)
    expected = [("uploaded" if tag == "uploadedimage" else "pixiv", key) for tag, key in tokens]
    visit(chromium, browse, f"/-/pixiv/novels/{novel_id}", screenshots, "novel_images")
    # Lazy pictures load as they come into view: bring each into view, as a reader scrolling would.
    for picture in chromium.find_elements("css selector", ".pixiv-novel-image img"):
        chromium.execute_script("arguments[0].scrollIntoView()", picture)
    shown = images(chromium, ".pixiv-novel-image img")
    assert len(shown) == sum(ref in archived for ref in expected) > 1
    assert all(width > 0 for _, _, width, _ in shown), shown
    # In place: each image comes after the text before its token, and the markup itself is not shown.
    page = chromium.find_element("css selector", ".pixiv-novel-text").text
    assert "[uploadedimage:" not in page and "[pixivimage:" not in page
    pages = chromium.find_elements("css selector", ".pixiv-novel-page")
    assert len(pages) == text.count("[newpage]") + 1
    for number, raw in enumerate(text.split("[newpage]")):
        refs = re.findall(r"\[(?:uploadedimage|pixivimage):[^\]]*\]", raw)
        on_page = pages[number].find_elements("css selector", ".pixiv-novel-image")
        assert len(on_page) == len(refs)


def test_canned_query_runs_with_defaults_and_with_a_value(browse: Browse, chromium: Any, screenshots: Path) -> None:
    visit(chromium, browse, "/pixiv/tags-that-appear-together-with-a-tag", screenshots, "canned_query")
    rows = chromium.find_elements("css selector", "table.rows-and-columns tbody tr")
    assert rows
    tag = browse.archive.query("SELECT tag FROM illust_tags GROUP BY tag ORDER BY count(*) ASC, tag LIMIT 1")[0][0]
    field = chromium.find_element("css selector", "input[name=tag]")
    field.clear()
    field.send_keys(tag)
    field.submit()
    # The answer is a new page: wait for the old one's rows to go before counting the new ones.
    WebDriverWait(chromium, 30).until(staleness_of(rows[0]))
    WebDriverWait(chromium, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
    assert "tag=" in chromium.current_url
    expected = browse.archive.query(
        "SELECT count(DISTINCT o.tag) FROM illust_tags t JOIN illust_tags o ON o.illust_id = t.illust_id "
        "AND o.tag <> t.tag WHERE t.tag = ?", tag)[0][0]
    assert len(chromium.find_elements("css selector", "table.rows-and-columns tbody tr")) == min(expected, 20) > 0


def test_every_canned_query_returns_rows_on_the_sandbox_archive(browse: Browse) -> None:
    import json

    from pixivcrawl.browse.cookbook import recipes

    # What this archive (a ranking, an R-18 ranking and one novel, each crawled once) cannot hold.
    absent = {"biggest-bookmark-gains-in-recent-days", "artists-per-region-from-the-profile-json",
              "works-that-went-hidden-or-deleted-after-they-were-archived",
              "which-of-my-bookmarks-were-deleted-this-month"}
    empty = []
    for recipe in recipes():
        status, body = browse.get(f"/pixiv/{recipe.name}.json?_shape=array")
        assert status == 200, (recipe.name, body[:500])
        if not json.loads(body) and recipe.name not in absent:
            empty.append(recipe.name)
    assert empty == []


def test_tag_facet_lists_tags(browse: Browse, chromium: Any, screenshots: Path) -> None:
    visit(chromium, browse, "/pixiv/illust_tags", screenshots, "tag_facet")
    facet = chromium.find_element("css selector", ".facet-info[data-column=tag]")
    listed = facet.find_elements("css selector", "li")
    top = browse.archive.query("SELECT tag FROM illust_tags GROUP BY tag ORDER BY count(*) DESC LIMIT 1")[0][0]
    assert len(listed) >= 5
    assert top in listed[0].text
    # the cells of illust_pages.local_path are thumbnails too
    chromium.get(browse.url + "/pixiv/illust_pages?_size=10")
    # the column is far right of a wide table: bring it into view, as a reader scrolls to it
    chromium.execute_script("document.querySelector('td.col-local_path').scrollIntoView()")
    cells = images(chromium, "td.col-local_path img")
    assert len(cells) == 10 and all(width > 0 for _, _, width, _ in cells)


def test_files_outside_files_store_are_404(browse: Browse) -> None:
    files = browse.archive.files
    inside = browse.archive.query("SELECT local_path FROM illust_pages WHERE local_path IS NOT NULL LIMIT 1")[0][0]
    assert browse.get(f"/-/pixiv/files/{quote(inside)}")[0] == 200
    (files / "escape.jpg").symlink_to(browse.archive.db_path)
    (files / "escape_dir").symlink_to(browse.archive.root, target_is_directory=True)
    db = browse.archive.db_path.name
    for kind in ("files", "thumbs"):
        for path in (f"..%2F{db}", f"%2E%2E/{db}", f"%2e%2e%2f{db}", f"..%252F{db}", quote(str(browse.archive.db_path)),
                     "%2Fetc%2Fpasswd", "//etc/passwd", "escape.jpg", f"escape_dir/{db}", "..%5C" + db,
                     f"{inside}%00.jpg", ".thumbs/", "nonexistent/1_p0.jpg"):
            status, body = browse.get(f"/-/pixiv/{kind}/{path}")
            assert status == 404, (kind, path, body[:200])
            assert b"SQLite" not in body


def test_postgresql_archive_says_browsing_needs_sqlite(tmp_path: Path) -> None:
    result = scrapy_command("browse", "-s", "PIXIV_DATABASE_URL=postgresql+psycopg://archive:secret@db/pixiv",
                            cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs a SQLite archive" in lines[0] and "psql" in lines[0]
    assert "secret" not in lines[0]


def test_without_datasette_browse_names_the_install_command(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['datasette'] = None; from scrapy.cmdline import execute; "
            "execute(['scrapy', 'browse'])")
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "pixivcrawl.settings", "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == ("pixivcrawl: scrapy browse needs Datasette, which is not installed: "
                                     "pip install -e '.[browse]'")
