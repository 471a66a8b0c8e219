"""Novel text: the ``novel`` object embedded in the webview page, and Pixiv's markup stripped to plain text."""

from __future__ import annotations

import json
import re
from typing import Any

#: What ``[newpage]`` becomes in plain text: the ASCII page break (form feed).
PAGE_BREAK = "\f"

# The page assigns `Object.defineProperty(window, 'pixiv', { value: {..., novel: {...}, ...} })`:
# JavaScript, not JSON, so only the novel object itself can be decoded.
_NOVEL_KEY = re.compile(r"""(?:\bnovel|"novel"|'novel')\s*:\s*(?=\{)""")
_PIXIV_VALUE = re.compile(r"""defineProperty\(\s*window\s*,\s*['"]pixiv['"]""")

_RUBY = re.compile(r"\[\[rb:(.*?)>(.*?)\]\]")
_JUMP_URI = re.compile(r"\[\[jumpuri:(.*?)>([^>\]]*)\]\]")
_CHAPTER = re.compile(r"\[chapter:(.*?)\]")
_IMAGE = re.compile(r"\[(pixivimage|uploadedimage):([^\]]*)\]")
_PIXIV_IMAGE = re.compile(r"\[pixivimage:(\d+)(?:-(\d+))?\]")
_NEWPAGE = re.compile(r"\[newpage\]")
_JUMP_PAGE = re.compile(r"\[jump:\d+\]")


def webview_novel(html: str) -> dict[str, Any]:
    """The ``novel`` object of a ``/webview/v2/novel`` page, decoded as JSON.

    The object is decoded with :meth:`json.JSONDecoder.raw_decode` from its
    opening brace, so braces, ``novel:`` or ``isOwnWork`` inside the text cannot
    end it early, whatever key follows it. Raises ValueError when the page holds
    no such object.
    """
    anchor = _PIXIV_VALUE.search(html)
    start = anchor.end() if anchor else 0
    decoder = json.JSONDecoder()
    for match in _NOVEL_KEY.finditer(html, start):
        try:
            novel, _ = decoder.raw_decode(html, match.end())
        except ValueError:
            continue
        if isinstance(novel, dict) and "text" in novel and "id" in novel:
            return novel
    raise ValueError("no novel object in the webview page")


def pixiv_images(text: str) -> list[tuple[str, int, int | None]]:
    """The illust pages ``[pixivimage:ID-P]`` shows in ``text``: (``ID-P`` as written, ID, P), each once."""
    found = {m.group(0)[12:-1]: (int(m.group(1)), int(m.group(2)) if m.group(2) else None) for m in _PIXIV_IMAGE.finditer(text)}
    return [(key, illust_id, page) for key, (illust_id, page) in found.items()]


#: An embedded image as :func:`reading_pages` gives it: (``novel_images.kind``, ``novel_images.image_key``).
ImageRef = tuple[str, str]


def reading_pages(text: str) -> list[list[str | ImageRef]]:
    """Pixiv's novel markup as a reader sees it, page by page (``[newpage]``): each page a list of
    its text runs and, where the text embeds an image, ``("uploaded", N)`` for ``[uploadedimage:N]``
    or ``("pixiv", "ID-P")`` for ``[pixivimage:ID-P]`` (the keys of ``novel_images``).

    ``[chapter:X]`` becomes X, ``[[rb:漢字>かな]]`` the base text 漢字,
    ``[[jumpuri:label>url]]`` the label; ``[jump:N]`` links disappear.
    """
    # Ruby and links first: a chapter title may carry them, and their `]]` would end it.
    text = _RUBY.sub(lambda m: m.group(1).strip(), text)
    text = _JUMP_URI.sub(lambda m: m.group(1).strip(), text)
    text = _CHAPTER.sub(lambda m: m.group(1).strip(), text)
    text = _JUMP_PAGE.sub("", text)
    pages: list[list[str | ImageRef]] = []
    for page in _NEWPAGE.split(text):
        runs: list[str | ImageRef] = []
        at = 0
        for image in _IMAGE.finditer(page):
            runs += [page[at:image.start()], ("uploaded" if image.group(1) == "uploadedimage" else "pixiv", image.group(2))]
            at = image.end()
        runs.append(page[at:])
        pages.append(runs)
    return pages


def plain_text(text: str) -> str:
    """Pixiv's novel markup reduced to what a reader sees, for search: :func:`reading_pages` without
    the images, ``[newpage]`` as :data:`PAGE_BREAK`."""
    return PAGE_BREAK.join("".join(run for run in page if isinstance(run, str)) for page in reading_pages(text))
