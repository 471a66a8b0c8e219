"""Bounded memory on hostile input: each case crawls in a child process whose peak RSS must stay below 400 MB."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from tests.crawl import Archive
from tests.hostile.data_server import (
    MB,
    RunningDataSandbox,
    big_frames_zip,
    child_settings,
    inflating_zip,
    run_crawl,
    stream_zeros,
)

pytestmark = pytest.mark.slow

DATE = "2026-10-30"
#: The issue's target for every case.
PEAK_RSS = 400 * MB


@pytest.fixture
def data_sandbox(make_data_sandbox: Any) -> RunningDataSandbox:
    return make_data_sandbox(ranking_size=30)


def crawl_in_child(data_sandbox: RunningDataSandbox, archive: Archive, **settings: Any) -> tuple[Any, int]:
    archive.root.mkdir(parents=True, exist_ok=True)
    process, peak = run_crawl(["ranking", "-a", f"date={DATE}"], child_settings(data_sandbox, archive, **settings), archive.root)
    print(f"peak RSS {peak / MB:.0f} MB")  # shown with -rP: the figures in the README
    assert peak < PEAK_RSS, f"peak RSS {peak / MB:.0f} MB"
    return process, peak


def crawl_finishes_in_bounds(data_sandbox: RunningDataSandbox, archive: Archive, **settings: Any) -> Any:
    """The crawl's process, which exited 0 with its peak RSS below the target."""
    process, _ = crawl_in_child(data_sandbox, archive, **settings)
    assert process.returncode == 0, process.stderr[-3000:]
    return process


def frames_metadata(count: int) -> Any:
    def edit(request: Any, data: dict[str, Any]) -> dict[str, Any]:
        data["ugoira_metadata"]["frames"] = [{"file": f"{i:06d}.jpg", "delay": 50} for i in range(count)]
        return data
    return edit


def serve_zip(data_sandbox: RunningDataSandbox, body: bytes, asked: list[str]) -> None:
    async def answer(request: web.Request) -> web.Response:
        asked.append(request.path)
        return web.Response(body=body, content_type="application/zip")
    data_sandbox.serve_image(lambda path: path.endswith(".zip"), answer)


def test_a_1_mb_zip_that_inflates_to_1_gib(data_sandbox: RunningDataSandbox, archive: Archive) -> None:
    body = inflating_zip(1023 * MB)
    assert len(body) < 1.1 * MB
    asked: list[str] = []
    data_sandbox.rewrite_json("/v1/ugoira/metadata", frames_metadata(1))
    serve_zip(data_sandbox, body, asked)
    crawl_finishes_in_bounds(data_sandbox, archive)
    # Inside every limit, so archived, and each zip asked for once: nothing retried.
    assert len(asked) == len(set(asked)) == 2
    zips = archive.query("SELECT zip_size, animation_local_path FROM ugoira")
    assert zips == [(len(body), zips[0][1]), (len(body), zips[1][1])] and all(a for _, a in zips)


def test_two_ugoiras_inside_every_limit_at_once(data_sandbox: RunningDataSandbox, archive: Archive) -> None:
    # 12 frames each at the per-frame limit (2 x 1920x1080): 200 MB decoded per ugoira if held whole.
    body = big_frames_zip(12, (2880, 1440))
    asked: list[str] = []
    data_sandbox.rewrite_json("/v1/ugoira/metadata", frames_metadata(12))
    serve_zip(data_sandbox, body, asked)
    process = crawl_finishes_in_bounds(data_sandbox, archive)
    assert process.returncode == 0
    animations = archive.query("SELECT animation_local_path FROM ugoira WHERE animation_local_path IS NOT NULL")
    assert len(animations) == 2 and all((archive.files / path).is_file() for (path,) in animations)


def test_a_200_mb_json_page(data_sandbox: RunningDataSandbox, archive: Archive) -> None:
    asked: list[str] = []

    def huge(request: Any, data: dict[str, Any]) -> Any:
        asked.append(request.path_qs)
        # Without a Content-Length: the cap must stop it while it streams.
        return StreamedJson(200 * MB)

    data_sandbox.rewrite_json("/v1/illust/ranking", huge)
    process, _ = crawl_in_child(data_sandbox, archive)
    assert len(asked) == 1  # not retried
    assert "which is larger than download max size (16777216)" in process.stderr


class StreamedJson(web.StreamResponse):
    """A JSON page of ``size`` bytes, streamed in blocks without a Content-Length."""

    def __init__(self, size: int) -> None:
        super().__init__(headers={"Content-Type": "application/json"})
        self.size = size

    async def prepare(self, request: web.BaseRequest) -> Any:  # type: ignore[override]
        writer = await super().prepare(request)
        await self.write(b'{"illusts": [], "padding": "')
        block, sent = b"x" * MB, 0
        try:
            while sent < self.size:
                await self.write(block)
                sent += MB
            await self.write(b'"}')
        except (ConnectionError, RuntimeError):
            pass
        return writer


def test_four_600_mb_originals_at_once(data_sandbox: RunningDataSandbox, archive: Archive) -> None:
    asked: list[str] = []

    def point_originals(request: Any, data: dict[str, Any]) -> dict[str, Any]:
        singles = [w for w in data["illusts"] if w["type"] == "illust" and not w["meta_pages"]]
        for index, work in enumerate(singles[:4]):
            work["meta_single_page"]["original_image_url"] = f"{data_sandbox.server.image_url}/huge/{index}.jpg"
        return data

    async def huge(request: web.Request) -> web.StreamResponse:
        asked.append(request.path)
        # Two announce their size (refused at once), two stream without one (cut off at the cap).
        return await stream_zeros(request, 600 * MB, b"\xff\xd8\xff\xe0", declare=request.path[-5] in "01")

    data_sandbox.rewrite_json("/v1/illust/ranking", point_originals)
    data_sandbox.serve_image(lambda path: path.startswith("/huge/"), huge)
    process = crawl_finishes_in_bounds(data_sandbox, archive, DOWNLOAD_SLOTS={
        "pixiv-api": {"concurrency": 4, "delay": 0}, "pixiv-images": {"concurrency": 4, "delay": 0}})
    assert sorted(asked) == [f"/huge/{i}.jpg" for i in range(4)]  # none retried
    assert sum("larger than download max size (67108864)" in line for line in process.stderr.splitlines()) == 4
    assert not list(archive.files.rglob("*")) or all(p.stat().st_size < 64 * MB for p in archive.stored_files())
    assert archive.query("SELECT count(*) FROM illust_pages WHERE local_path IS NULL") == [(4,)]
