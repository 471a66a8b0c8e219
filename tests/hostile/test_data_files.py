"""Files: truncation found for every image format, the suffix from the bytes, trailing data and bombs not retried."""

from __future__ import annotations

import io
import os
import struct
import zlib
from typing import Any

import pytest
from aiohttp import web
from PIL import Image
from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.pipelines.media import InvalidFile, image_facts
from pixivcrawl.spiders.ranking import RankingSpider
from tests.crawl import Archive, crawl
from tests.hostile.data_server import RunningDataSandbox

DATE = "2026-10-30"


def image(fmt: str, size: tuple[int, int] = (96, 64)) -> bytes:
    """A noisy image (so a cut lands in the pixel data, as with real originals)."""
    buf = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buf, fmt)
    return buf.getvalue()


def png_bomb(side: int) -> bytes:
    """A PNG header claiming side x side pixels (a decompression bomb's calling card)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
def test_a_cut_image_is_found_and_worth_another_download(fmt: str) -> None:
    whole = image(fmt)
    facts = image_facts(whole)
    assert (facts.format, facts.trailing, facts.size) == (fmt, 0, len(whole))
    with pytest.raises(InvalidFile) as info:
        image_facts(whole[: len(whole) * 3 // 4])
    assert info.value.retry and info.value.reason in {"truncated", "corrupt"}


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "WEBP"])
def test_data_after_the_end_of_a_png_gif_or_webp_is_refused_for_good(fmt: str) -> None:
    with pytest.raises(InvalidFile) as info:
        image_facts(image(fmt) + b"PK\x03\x04 a zip riding along")
    assert (info.value.reason, info.value.retry) == ("trailing_data", False)


def test_data_after_the_end_of_a_jpeg_is_kept_and_told() -> None:
    # Cameras and phones append trailers to JPEGs: the image is whole, the extra is noted.
    assert image_facts(image("JPEG") + b"trailer").trailing == len(b"trailer")


@pytest.fixture
def data_sandbox(make_data_sandbox: Any) -> RunningDataSandbox:
    return make_data_sandbox(ranking_size=8, page_size=8)


@deferred_f_from_coro_f
async def test_hostile_originals_end_as_the_bytes_say(data_sandbox: RunningDataSandbox, archive: Archive) -> None:
    jpeg, png = image("JPEG", (400, 300)), image("PNG")
    bodies = {
        # name: (body each time it is asked for, in turn; the last one repeats)
        "cut.jpg": [jpeg[: len(jpeg) // 2], jpeg[: len(jpeg) // 3], jpeg],
        "script.php": [png],
        "trailing.png": [png + b"<?php system($_GET['c']); ?>"],
        "bomb.png": [png_bomb(20_000)],
    }
    asked: dict[str, int] = {}
    chosen: dict[str, int] = {}

    def point_originals(request: Any, data: dict[str, Any]) -> dict[str, Any]:
        singles = [w for w in data["illusts"] if w["type"] == "illust" and not w["meta_pages"]]
        for work, name in zip(singles, bodies, strict=False):
            chosen[name] = work["id"]
            work["meta_single_page"]["original_image_url"] = f"{data_sandbox.server.image_url}/hostile/{name}"
        return data

    async def serve(request: web.Request) -> web.Response:
        name = request.path.rsplit("/", 1)[1]
        asked[name] = asked.get(name, 0) + 1
        answers = bodies[name]
        # An honest Content-Length: only the bytes can tell the cut.
        return web.Response(body=answers[min(asked[name], len(answers)) - 1], content_type="image/png")

    data_sandbox.rewrite_json("/v1/illust/ranking", point_originals)
    data_sandbox.serve_image(lambda path: path.startswith("/hostile/"), serve)
    crawler = await crawl(RankingSpider, data_sandbox, archive, date=DATE)
    stats = crawler.stats.get_stats()
    assert len(chosen) == len(bodies)

    def page(name: str) -> tuple[Any, ...]:
        [row] = archive.query("SELECT local_path, size FROM illust_pages WHERE illust_id = ?", chosen[name])
        return row

    # The cut JPEG was fetched again until whole, and only the whole one is stored.
    assert asked["cut.jpg"] == 3
    path, size = page("cut.jpg")
    assert (archive.files / path).read_bytes() == jpeg and size == len(jpeg)
    assert stats["pixivcrawl/files/invalid/truncated"] == 2
    # A PNG behind a .php URL is stored as .png; nothing named .php exists.
    path, _ = page("script.php")
    assert path.endswith(f"/{chosen['script.php']}_p0.png") and (archive.files / path).read_bytes() == png
    assert not [p for p in archive.stored_files() if p.suffix == ".php"]
    # Trailing data and a bomb: refused at once, asked for once, nothing stored or recorded.
    for name in ("trailing.png", "bomb.png"):
        assert asked[name] == 1
        assert page(name) == (None, None)
    assert stats["pixivcrawl/files/invalid/trailing_data"] == 1
    assert stats["pixivcrawl/files/invalid/bomb"] == 1
    assert stats["pixivcrawl/files/failed"] == 2
