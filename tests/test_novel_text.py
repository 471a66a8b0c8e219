"""The webview page parser and the markup stripper, on sample pages (pure, no crawl)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixivcrawl.models import WorkStatus
from pixivcrawl.novel_text import PAGE_BREAK, plain_text, webview_novel
from pixivcrawl.parsing import PARSERS
from pixivcrawl.sandbox.world import World

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def test_the_novel_object_is_decoded_whole_whatever_its_text_holds() -> None:
    novel = webview_novel(sample("webview_novel_tricky.html"))
    # The text carries `}`, `, isOwnWork`, `novel: {...}` and `</script>`: none of them ends the object.
    assert novel["id"] == "20001234"
    assert novel["text"] == sample("webview_novel_tricky.txt")
    assert novel["marker"] == {"page": 2}
    assert novel["isOriginal"] is True


def test_the_sandbox_page_gives_back_the_world_text() -> None:
    world = World()
    novel = webview_novel(sample("webview_novel_sandbox.html"))
    expected = world.novel_text(world.novel_by_id(int(novel["id"])))
    assert novel["text"] == expected
    assert "}" in expected and "[newpage]" in expected


@pytest.mark.parametrize("html", ["", "<html><body>no script</body></html>", "novel: {broken", "novel: {\"id\": 1}"])
def test_a_page_without_a_novel_object_is_a_value_error(html: str) -> None:
    with pytest.raises(ValueError, match="no novel object"):
        webview_novel(html)


@pytest.mark.parametrize(
    ("markup", "plain"),
    [
        ("[newpage]", PAGE_BREAK),
        ("一\n[newpage]\n二", f"一\n{PAGE_BREAK}\n二"),
        ("[chapter:第1章 約束 {仮}]", "第1章 約束 {仮}"),
        ("その[[rb:約束>やくそく]]は", "その約束は"),
        ("[[rb: 漢字 > かな ]]", "漢字"),
        ("[[jumpuri:サンドボックス > https://www.pixiv.net/]]", "サンドボックス"),
        ("[[jumpuri:a>b>https://example.com/]]", "a>b"),
        ("前[pixivimage:120000031-1]後", "前後"),
        ("前[uploadedimage:12345]後", "前後"),
        ("[jump:3]へ", "へ"),
        ("[chapter:[[rb:序章>じょしょう]]]", "序章"),
        ("plain } text {with} braces [not markup]", "plain } text {with} braces [not markup]"),
    ],
)
def test_markup_is_stripped_to_what_a_reader_sees(markup: str, plain: str) -> None:
    assert plain_text(markup) == plain


def test_the_tricky_sample_strips_cleanly() -> None:
    plain = plain_text(sample("webview_novel_tricky.txt"))
    assert plain.startswith("序章\n彼は言った。")
    assert "公式サイトを見て。" in plain
    assert "[" not in plain.replace("[not", "")
    assert plain.count(PAGE_BREAK) == 1


def test_novel_text_parser_builds_raw_plain_and_length() -> None:
    text = PARSERS["novel_text"]({"id": 20001234, "html": sample("webview_novel_tricky.html")})
    assert text.novel_id == 20001234
    assert text.text == sample("webview_novel_tricky.txt")
    assert text.plain_text == plain_text(text.text)
    assert text.length == len(text.plain_text)
    assert text.marker == {"page": 2}


def test_novel_text_parser_refuses_a_page_of_another_novel() -> None:
    with pytest.raises(ValueError, match="holds novel 20001234"):
        PARSERS["novel_text"]({"id": 1, "html": sample("webview_novel_tricky.html")})


def test_novel_parser_on_full_hidden_and_deleted_objects() -> None:
    world = World()
    available = next(w for w in map(world.novel, range(200)) if not (w.deleted or w.hidden) and w.idx % 4)
    novel = PARSERS["novel"](world.novel_obj(available))
    assert novel.status is WorkStatus.AVAILABLE
    assert novel.cover_url and "novel-cover-master" in novel.cover_url
    assert novel.tags and all(t.added_by_uploaded_user for t in novel.tags)
    assert novel.text_length == len(world.novel_text(available))

    coverless = next(w for w in map(world.novel, range(0, 200, 4)) if not (w.deleted or w.hidden))
    assert PARSERS["novel"](world.novel_obj(coverless)).cover_url is None

    hidden = next(w for w in map(world.novel, range(5000)) if w.hidden)
    parsed = PARSERS["novel"](world.novel_obj(hidden))
    assert parsed.status is WorkStatus.HIDDEN
    assert parsed.restriction == f"limit_{hidden.hidden}"
    assert parsed.cover_url is None

    deleted = next(w for w in map(world.novel, range(5000)) if w.deleted)
    assert PARSERS["novel"](world.novel_obj(deleted)).status is WorkStatus.DELETED
    assert PARSERS["novel_deleted"]({"id": deleted.id}).status is WorkStatus.DELETED
