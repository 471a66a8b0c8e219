"""Ugoira: the safe zip reader, the conversions and their delays, and the crawl end to end."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile
import zlib
from typing import Any

import pytest
from PIL import Image
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from pixivcrawl.models import UgoiraFrame
from pixivcrawl.pipelines.media import InvalidFile
from pixivcrawl.pipelines.ugoira import UgoiraLimits, check_frames, convert, gif_delays, unsafe_name
from pixivcrawl.sandbox import image_host
from pixivcrawl.sandbox.image_host import MAKER
from pixivcrawl.sandbox.images import resolve
from pixivcrawl.spiders.ranking import RankingSpider
from tests.crawl import Archive, RunningSandbox, project_settings

DATE = "2026-10-30"

LIMITS = UgoiraLimits(max_frames=50, max_bytes=10_000_000, max_pixels=1_000_000, max_frame_pixels=500_000)
COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (200, 200, 0), (0, 90, 90)]


def jpeg(colour: tuple[int, int, int], size: tuple[int, int] = (32, 24)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG", quality=95)
    return buf.getvalue()


def make_zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def frames_of(delays: list[int]) -> tuple[bytes, list[UgoiraFrame]]:
    frames = [UgoiraFrame(file=f"{i:06d}.jpg", delay=d) for i, d in enumerate(delays)]
    body = make_zip({f.file: jpeg(COLOURS[i % len(COLOURS)]) for i, f in enumerate(frames)})
    return body, frames


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size in its header: a decompression bomb's calling card."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def durations(data: bytes) -> list[Any]:
    with Image.open(io.BytesIO(data)) as image:
        out = []
        for index in range(image.n_frames):
            image.seek(index)
            image.load()
            out.append(image.info["duration"])
        return out


def test_frames_are_converted_in_metadata_order() -> None:
    body, frames = frames_of([60, 80, 100])
    frames = [frames[2], frames[0], frames[1]]
    check_frames(body, frames, LIMITS)
    data, _, _ = convert(body, frames, "webp")
    with Image.open(io.BytesIO(data)) as image:
        colours = []
        for index in range(image.n_frames):
            image.seek(index)
            colours.append(image.convert("RGB").getpixel((5, 5)))
    assert [max(range(3), key=c.__getitem__) for c in colours] == [2, 0, 1]


@pytest.mark.parametrize("name", ["../evil.jpg", "a/../../b.jpg", "/etc/passwd", "dir/000000.jpg", "..\\x.jpg",
                                  "C:\\x.jpg", "c:x.jpg", ".."])
def test_path_like_names_are_rejected(name: str) -> None:
    assert unsafe_name(name)
    body = make_zip({"000000.jpg": jpeg(COLOURS[0]), name: jpeg(COLOURS[1])})
    with pytest.raises(InvalidFile) as info:
        check_frames(body, [UgoiraFrame(file="000000.jpg", delay=10)], LIMITS)
    assert info.value.reason == "unsafe_name"
    assert not info.value.retry


def test_a_zip_bomb_is_rejected_before_it_is_inflated() -> None:
    body = make_zip({"000000.jpg": b"\0" * 20_000_000}, zipfile.ZIP_DEFLATED)
    assert len(body) < 100_000
    with pytest.raises(InvalidFile) as info:
        check_frames(body, [UgoiraFrame(file="000000.jpg", delay=10)], LIMITS)
    assert info.value.reason == "too_large"


@pytest.mark.parametrize("side", [2_000, 20_000])  # over our limit; over Pillow's MAX_IMAGE_PIXELS too
def test_a_pixel_bomb_frame_is_rejected_from_its_header(side: int) -> None:
    body = make_zip({"000000.jpg": png_header_only(side, side)})
    with pytest.raises(InvalidFile) as info:
        check_frames(body, [UgoiraFrame(file="000000.jpg", delay=10)], LIMITS)
    assert info.value.reason == "too_many_pixels"
    assert not info.value.retry


def test_too_many_frames_are_rejected() -> None:
    body, frames = frames_of([10] * 4)
    with pytest.raises(InvalidFile) as info:
        check_frames(body, frames, UgoiraLimits(max_frames=3, max_bytes=10**9, max_pixels=10**9, max_frame_pixels=10**9))
    assert info.value.reason == "too_many_frames"


def test_a_frame_missing_from_the_zip_is_rejected() -> None:
    body, frames = frames_of([10, 10])
    with pytest.raises(InvalidFile) as info:
        check_frames(body, [*frames, UgoiraFrame(file="000009.jpg", delay=10)], LIMITS)
    assert info.value.reason == "missing_frame"


def test_a_truncated_or_damaged_zip_is_worth_another_download() -> None:
    body, frames = frames_of([10, 10, 10])
    with pytest.raises(InvalidFile) as info:
        check_frames(body[: len(body) // 2], frames, LIMITS)
    assert (info.value.reason, info.value.retry) == ("bad_zip", True)
    damaged = bytearray(body)
    damaged[100] ^= 0xFF  # inside the first frame's data: the CRC no longer matches
    with pytest.raises(InvalidFile) as info:
        check_frames(bytes(damaged), frames, LIMITS)
    assert info.value.retry


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_damage_in_a_frame_header_is_a_bad_zip_worth_another_download(compression: int) -> None:
    # Stored: the frame's image header no longer parses, but its CRC says the download is damaged.
    # Deflated: the damaged stream raises zlib's own error, not an OSError.
    frames = [UgoiraFrame(file=f"{i:06d}.jpg", delay=10) for i in range(2)]
    body = make_zip({f.file: jpeg(COLOURS[i]) for i, f in enumerate(frames)}, compression)
    damaged = bytearray(body)
    for offset in range(40, 44):  # the first bytes of the first frame, past its 40-byte local header
        damaged[offset] ^= 0xFF
    with pytest.raises(InvalidFile) as info:
        check_frames(bytes(damaged), frames, LIMITS)
    assert (info.value.reason, info.value.retry) == ("bad_zip", True)


def test_gif_delays_round_end_times_to_centiseconds() -> None:
    assert gif_delays([45]) == [50]
    assert gif_delays([45, 45, 45, 45]) == [50, 40, 50, 40]
    assert gif_delays([60, 80, 100]) == [60, 80, 100]
    assert gif_delays([33] * 3) == [30, 40, 30]
    assert gif_delays([4, 4]) == [10, 10]  # GIF players treat 0 as "default speed"
    assert sum(gif_delays([33] * 100)) == 3300


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("webp", [45, 100, 7, 33, 200]),
        ("apng", [45, 100, 7, 33, 200]),
        # Centiseconds: 45 -> 50, then end times 150, 160 (7 -> 10), 190, 390.
        ("gif", [50, 100, 10, 30, 200]),
    ],
)
def test_every_frame_and_its_delay_survive_each_format(fmt: str, expected: list[int]) -> None:
    delays = [45, 100, 7, 33, 200]
    body, frames = frames_of(delays)
    check_frames(body, frames, LIMITS)
    data, width, height = convert(body, frames, fmt)
    assert (width, height) == (32, 24)
    assert durations(data) == expected
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == {"webp": "WEBP", "apng": "PNG", "gif": "GIF"}[fmt]


@pytest.mark.parametrize("fmt", ["webp", "gif", "apng"])
def test_identical_consecutive_frames_play_as_one_with_the_summed_delay(fmt: str) -> None:
    same = jpeg(COLOURS[1])
    datas = [jpeg(COLOURS[0]), same, same, jpeg(COLOURS[2])]
    body = make_zip({f"{i:06d}.jpg": d for i, d in enumerate(datas)})
    frames = [UgoiraFrame(file=f"{i:06d}.jpg", delay=d) for i, d in enumerate([100, 60, 80, 100])]
    data, _, _ = convert(body, frames, fmt)
    assert durations(data) == [100, 140, 100]


async def crawl(sandbox: RunningSandbox, archive: Archive, **settings: Any) -> Any:
    """The ranking of DATE (its top 10 hold an ugoira), with ``settings`` over the sandbox's and the archive's."""
    values = project_settings(**{**sandbox.settings, **archive.settings, **settings})
    crawler = get_crawler(RankingSpider, values)
    await crawler.crawl_async(mode="day", date=DATE)
    assert crawler.stats.get_value("finish_reason") == "finished"
    return crawler


def image_app(sandbox: RunningSandbox) -> Any:
    return next(r.app for r in sandbox.server._runners if MAKER in r.app)


@pytest.mark.parametrize("fmt", ["webp", pytest.param("gif", marks=pytest.mark.slow),
                                 pytest.param("apng", marks=pytest.mark.slow)])
@deferred_f_from_coro_f
async def test_an_ugoira_becomes_an_animation_of_every_frame_and_delay(
    make_sandbox: Any, archive: Archive, fmt: str
) -> None:
    sandbox = make_sandbox(ranking_size=10)
    crawler = await crawl(sandbox, archive, PIXIV_UGOIRA_FORMAT=fmt)
    rows = archive.query(
        "SELECT illust_id, frames, frame_count, zip_local_path, zip_size, zip_sha256, animation_local_path, "
        "animation_format, animation_size, animation_sha256 FROM ugoira"
    )
    assert rows
    assert crawler.stats.get_value(f"pixivcrawl/ugoira/converted/{fmt}") == len(rows)
    for illust_id, frames, count, zip_path, zip_size, zip_sha, path, stored_fmt, size, sha in rows:
        frames = json.loads(frames)
        assert count == len(frames)
        assert zip_path.endswith(f"/{illust_id}_ugoira1920x1080.zip")
        zip_data = (archive.files / zip_path).read_bytes()
        assert (len(zip_data), hashlib.sha256(zip_data).hexdigest()) == (zip_size, zip_sha)
        assert path.endswith(f"/{illust_id}_ugoira.{ {'apng': 'png'}.get(fmt, fmt) }")
        data = (archive.files / path).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (size, sha)
        delays = [f["delay"] for f in frames]
        assert durations(data) == (gif_delays(delays) if fmt == "gif" else delays)
        assert stored_fmt == {"apng": "png"}.get(fmt, fmt)


@deferred_f_from_coro_f
async def test_a_malicious_zip_is_rejected_and_the_crawl_goes_on(
    make_sandbox: Any, archive: Archive, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox = make_sandbox(ranking_size=10)
    evil = make_zip({f"{i:06d}.jpg": jpeg(COLOURS[0]) for i in range(12)} | {"../../evil.sh": b"#!/bin/sh\n"})
    image_app(sandbox)[MAKER].zip = lambda illust_id, big: evil
    crawler = await crawl(sandbox, archive)
    assert crawler.stats.get_value("pixivcrawl/ugoira/rejected/unsafe_name") >= 1
    assert "ugoira zip" in caplog.text
    assert "rejected: unsafe_name: zip entry '../../evil.sh'" in caplog.text
    assert not list(archive.files.rglob("*.zip"))
    assert not list(archive.root.rglob("evil.sh"))
    rows = archive.query("SELECT frame_count, zip_local_path, animation_local_path FROM ugoira")
    assert rows
    assert all(zip_path is None and path is None for _, zip_path, path in rows)
    # The other works' files are all there.
    assert archive.query("SELECT count(*) FROM illust_pages WHERE local_path IS NULL")[0][0] == 0


@pytest.mark.slow
@deferred_f_from_coro_f
async def test_without_a_1920x1080_zip_the_600x600_one_is_kept(
    make_sandbox: Any, archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_big_zips(world: Any, path: str) -> Any:
        return None if "_ugoira1920x1080.zip" in path else resolve(world, path)

    monkeypatch.setattr(image_host, "resolve", no_big_zips)
    sandbox = make_sandbox(ranking_size=10)
    crawler = await crawl(sandbox, archive, PIXIV_UGOIRA_FORMAT="zip")
    rows = archive.query("SELECT illust_id, zip_local_path, animation_local_path FROM ugoira")
    assert rows
    assert crawler.stats.get_value("pixivcrawl/ugoira/zip_fallback") == len(rows)
    for illust_id, zip_path, animation in rows:
        assert zip_path.endswith(f"/{illust_id}_ugoira600x600.zip")
        assert animation is None
