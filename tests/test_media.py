"""Files: originals of every page, verified, atomic, refused hosts, and no second download across runs."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image
from scrapy import signals
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from pixivcrawl.models import Illust, Novel, Page, User
from pixivcrawl.pipelines.media import (
    AtomicFSFilesStore,
    PixivFilesPipeline,
    full_size_avatar,
    write_atomically,
)
from pixivcrawl.spiders.ranking import RankingSpider
from tests.crawl import Archive, RunningSandbox, project_settings

DATE = "2026-10-30"


async def crawl(sandbox: RunningSandbox, archive: Archive, **settings: Any) -> Any:
    """The ranking of DATE, with ``settings`` over the sandbox's and the archive's."""
    values = project_settings(**{**sandbox.settings, **archive.settings, **settings})
    crawler = get_crawler(RankingSpider, values)
    crawler.image_slots = set()

    def reached(request: Any) -> None:
        if urlsplit(request.url).netloc == sandbox.server.image_host:
            crawler.image_slots.add(request.meta.get("download_slot"))

    crawler.signals.connect(reached, signal=signals.request_reached_downloader)
    await crawler.crawl_async(mode="day", date=DATE)
    assert crawler.stats.get_value("finish_reason") == "finished"
    return crawler


def archived_pages(archive: Archive) -> list[tuple[Any, ...]]:
    return archive.query(
        "SELECT p.illust_id, p.page, p.file_url, p.local_path, p.size, p.sha256, p.width, p.height "
        "FROM illust_pages p JOIN illusts i ON i.id = p.illust_id WHERE i.status = 'available' "
        "ORDER BY p.illust_id, p.page"
    )


def assert_pages_complete(archive: Archive) -> list[tuple[Any, ...]]:
    """Every page of every available work is on disk, whole, decodable and recorded."""
    pages = archive_pages = archived_pages(archive)
    assert pages
    by_illust: dict[int, list[int]] = {}
    for illust_id, page, url, local_path, size, sha256, width, height in archive_pages:
        assert url and local_path, (illust_id, page)
        path = archive.files / local_path
        data = path.read_bytes()
        assert len(data) == size
        assert hashlib.sha256(data).hexdigest() == sha256
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            assert image.size == (width, height)
        by_illust.setdefault(illust_id, []).append(page)
    counts = dict(archive.query("SELECT id, page_count FROM illusts WHERE status = 'available' AND type != 'ugoira'"))
    for illust_id, page_count in counts.items():
        assert by_illust[illust_id] == list(range(page_count))
    assert any(n > 1 for n in counts.values()), "no multi-page work in the sample"
    assert not list(archive.files.rglob("*.tmp"))
    return pages


@pytest.mark.slow
@deferred_f_from_coro_f
async def test_every_page_is_archived_once_and_a_reupload_is_fetched_again(make_sandbox, archive: Archive) -> None:
    sandbox: RunningSandbox = make_sandbox(ranking_size=30)
    crawler = await crawl(sandbox, archive)
    pages = assert_pages_complete(archive)
    served = sandbox.stats()
    assert served["image_auth_headers"] == 0
    assert served["image_403"] == 0
    assert served["placeholder_fetches"] == 0
    assert crawler.stats.get_value("pixivcrawl/files/failed") is None
    assert crawler.image_slots == {"pixiv-images"}

    sandbox.reset_stats()
    crawler = await crawl(sandbox, archive)
    assert sandbox.stats()["image_requests"] == 0
    assert crawler.stats.get_value("file_status_count/uptodate") >= len(pages)
    assert archived_pages(archive) == pages

    # A re-upload changes the URL's timestamp path: the archive recorded another URL.
    illust_id, page = pages[0][:2]
    archive.query("UPDATE illust_pages SET file_url = 'https://i.pximg.net/old.jpg' WHERE illust_id = ? AND page = ?",
                  illust_id, page)
    sandbox.reset_stats()
    await crawl(sandbox, archive)
    assert sandbox.stats()["image_requests"] == 1
    assert archived_pages(archive) == pages


@deferred_f_from_coro_f
async def test_truncated_bodies_are_fetched_again_until_whole(make_sandbox, archive: Archive) -> None:
    sandbox = make_sandbox(ranking_size=10, fault_truncate=0.4, fault_scope="image", fault_seed=3)
    # With data-loss failures off, Scrapy hands over the short body; the pipeline must notice.
    crawler = await crawl(sandbox, archive, DOWNLOAD_FAIL_ON_DATALOSS=False, PIXIV_RETRY_BACKOFF=0.05)
    assert sandbox.stats()["faults"].get("truncate", 0) > 0
    assert crawler.stats.get_value("pixivcrawl/files/invalid/truncated") > 0
    assert crawler.stats.get_value("pixivcrawl/files/retry/count") > 0
    assert crawler.stats.get_value("pixivcrawl/files/failed") is None
    assert_pages_complete(archive)
    zips = archive.query("SELECT zip_local_path, zip_size, zip_sha256 FROM ugoira")
    for local_path, size, sha256 in zips:
        data = (archive.files / local_path).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (size, sha256)


def pipeline(**settings: Any) -> PixivFilesPipeline:
    values = project_settings(PIXIV_IMAGE_HOSTS=["i.pximg.net"], **settings)
    crawler = get_crawler(settings_dict=values)
    crawler.stats.open_spider()
    return PixivFilesPipeline.from_crawler(crawler)


def illust(*urls: str) -> Illust:
    return Illust(id=5, user=User(id=7), pages=[Page(index=i, original_url=u) for i, u in enumerate(urls)])


@deferred_f_from_coro_f
async def test_the_image_slot_keeps_to_its_concurrency(make_sandbox, archive: Archive) -> None:
    # A page's originals reach the image slot at once (Scrapy 2.19 sent them all): no more than the
    # slot's concurrency are ever requested at a time, and that many are.
    sandbox = make_sandbox(ranking_size=30, latency_image=30)
    slots = {"pixiv-api": {"concurrency": 4, "delay": 0}, "pixiv-images": {"concurrency": 12, "delay": 0}}
    crawler = await crawl(sandbox, archive, DOWNLOAD_SLOTS=slots)

    assert_pages_complete(archive)
    served = sandbox.stats()
    assert served["image_requests"] > 40
    assert served["image_in_flight_max"] == 12
    assert crawler.stats.get_value("file_status_count/downloaded") == served["image_requests"]


@deferred_f_from_coro_f
async def test_the_next_page_is_requested_while_the_files_of_this_one_are_fetched(make_sandbox,
                                                                                   archive: Archive) -> None:
    # The files of a page wait in the image slot's queue; the next listing page does not wait for them,
    # or the slot would sit idle while it is requested and parsed.
    sandbox = make_sandbox(ranking_size=40, latency_image=50)
    values = project_settings(**{**sandbox.settings, **archive.settings})
    values["DOWNLOAD_SLOTS"] = {"pixiv-api": {"concurrency": 4, "delay": 0},
                                "pixiv-images": {"concurrency": 4, "delay": 0}}
    crawler = get_crawler(RankingSpider, values)
    files_before_page: list[int] = []
    files = 0

    def received(response: Any, request: Any) -> None:
        nonlocal files
        if "pixiv_file" in request.meta:
            files += 1
        elif "/v1/illust/ranking" in request.url:
            files_before_page.append(files)

    crawler.signals.connect(received, signal=signals.response_received)
    await crawler.crawl_async(mode="day", date=DATE)

    assert_pages_complete(archive)
    first_page_files = archive.query(
        "SELECT count(*) FROM illust_pages p JOIN rankings r ON r.work_id = p.illust_id WHERE r.rank <= 30 "
        "AND p.local_path IS NOT NULL")[0][0]
    assert first_page_files > 40
    assert files_before_page[0] == 0
    # Requested once PIXIV_FILES_AHEAD (64) files or fewer wait: before a quarter of the first page's are in.
    assert files_before_page[1] < first_page_files // 4


def test_hosts_outside_the_allow_list_are_never_requested(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    files = pipeline(FILES_STORE=str(tmp_path))
    item = illust(
        "https://i.pximg.net/img-original/img/2026/01/01/00/00/00/5_p0.png",
        "https://evil.example/img-original/img/2026/01/01/00/00/00/5_p1.png",
        "https://i.pximg.net.evil.example/5_p2.png",
    )
    requests = files.get_media_requests(item, None)  # type: ignore[arg-type]
    assert [r.url for r in requests] == [item.pages[0].original_url]
    assert [r.meta["pixiv_file_path"] for r in requests] == ["7/5_p0.png"]
    assert files.crawler.stats.get_value("pixivcrawl/files/refused_host") == 2
    assert "illust 5 page 1: refused https://evil.example/" in caplog.text


def test_placeholders_are_never_requested_as_the_work(tmp_path: Path) -> None:
    files = pipeline(FILES_STORE=str(tmp_path), PIXIV_DOWNLOAD_PROFILE_IMAGES=True)
    item = illust("https://i.pximg.net/common/images/limit_sanity_level_360.png")
    item.user.profile_image_url = "https://s.pximg.net/common/images/no_profile.png"
    assert files.get_media_requests(item, None) == []  # type: ignore[arg-type]


def test_profile_images_are_fetched_full_size_when_switched_on(tmp_path: Path) -> None:
    url = "https://i.pximg.net/user-profile/img/2020/01/01/00/00/00/7_0123abcd_170.jpg"
    item = illust()
    item.user.profile_image_url = url
    assert pipeline(FILES_STORE=str(tmp_path)).get_media_requests(item, None) == []  # type: ignore[arg-type]
    requests = pipeline(FILES_STORE=str(tmp_path), PIXIV_DOWNLOAD_PROFILE_IMAGES=True).get_media_requests(item, None)  # type: ignore[arg-type]
    assert [(r.url, r.meta["pixiv_file_path"]) for r in requests] == [(full_size_avatar(url), "7/profile.jpg")]
    assert full_size_avatar(url).endswith("/7_0123abcd.jpg")


@deferred_f_from_coro_f
async def test_a_crawl_with_profile_images_stores_each_once(make_sandbox, archive: Archive) -> None:
    """The pipeline asks the archive which avatars it recorded before each item's downloads."""
    sandbox: RunningSandbox = make_sandbox(ranking_size=10)
    crawler = await crawl(sandbox, archive, PIXIV_DOWNLOAD_PROFILE_IMAGES=True)
    assert crawler.stats.get_value("log_count/ERROR") is None
    users = archive.query("SELECT id, profile_image_local_path, profile_image_sha256 FROM users")
    stored = [(user_id, path, sha256) for user_id, path, sha256 in users if path]
    assert stored and len(stored) == len({u[0] for u in users})
    for user_id, path, sha256 in stored:
        assert path.startswith(f"{user_id}/profile.")
        assert hashlib.sha256((archive.files / path).read_bytes()).hexdigest() == sha256
    assert_pages_complete(archive)

    sandbox.reset_stats()
    crawler = await crawl(sandbox, archive, PIXIV_DOWNLOAD_PROFILE_IMAGES=True)
    assert crawler.stats.get_value("log_count/ERROR") is None
    assert sandbox.stats()["image_requests"] == 0
    assert archive.query("SELECT id, profile_image_local_path, profile_image_sha256 FROM users") == users


def test_novel_covers_are_fetched_unless_switched_off(tmp_path: Path) -> None:
    url = "https://i.pximg.net/c/600x600/novel-cover-master/img/2026/01/01/00/00/00/ci9_0123abcd_master1200.jpg"
    novel = Novel(id=9, user=User(id=7), cover_url=url)
    requests = pipeline(FILES_STORE=str(tmp_path)).get_media_requests(novel, None)  # type: ignore[arg-type]
    assert [(r.url, r.meta["pixiv_file_path"]) for r in requests] == [(url, "7/novel9_cover.jpg")]
    off = pipeline(FILES_STORE=str(tmp_path), PIXIV_DOWNLOAD_COVERS=False)
    assert off.get_media_requests(novel, None) == []  # type: ignore[arg-type]


def test_writes_are_atomic_and_leave_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "1" / "2_p0.png"
    target.parent.mkdir()
    write_atomically(target, b"old")

    def power_cut(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", power_cut)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, b"new and longer")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in target.parent.iterdir()) == ["2_p0.png"]


def test_stat_reports_the_size_without_reading_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = AtomicFSFilesStore(str(tmp_path))
    (tmp_path / "1").mkdir()
    (tmp_path / "1" / "2_p0.png").write_bytes(b"x" * 123)

    def no_reading(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("stat_file read the file")

    monkeypatch.setattr(Path, "open", no_reading)
    stat: dict[str, Any] = dict(store.stat_file("1/2_p0.png", None))  # type: ignore[arg-type]
    assert stat["size"] == 123
    assert store.stat_file("1/missing.png", None) == {}  # type: ignore[arg-type]


def test_partial_downloads_of_a_killed_crawl_are_removed_but_live_ones_kept(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    host = socket.gethostname()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    stale = tmp_path / ".incoming" / f"{host}-{dead.stdout.strip()}"
    live = tmp_path / ".incoming" / f"{host}-{os.getppid()}"
    for folder in (stale, live):
        folder.mkdir(parents=True)
        (folder / "1_p0.png.abcd.tmp").write_bytes(b"part")
    store = AtomicFSFilesStore(str(tmp_path))
    assert not stale.exists()
    assert live.exists()
    target = tmp_path / "1" / "1_p0.png"
    target.parent.mkdir()
    store.staging.mkdir()
    write_atomically(target, b"whole", store.staging)
    assert target.read_bytes() == b"whole"
    assert list(store.staging.iterdir()) == []
