"""One host policy: next_url only on the API origin (scheme included), files only from the image
origins, every other scheme refused and counted; an upper-case image host is recorded once."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.auth import verify_refresh_token
from pixivcrawl.hosts import HostPolicy
from tests.crawl import Archive
from tests.hostile.network_server import Answer, Seen, crawl_with, hostile_settings, listing, token_answer

DATE = "2026-10-30"
RANKING = "/v1/illust/ranking"
SAMPLE = json.loads((Path(__file__).parent.parent / "samples" / "illust_multi.json").read_text())


def serving(first_page: Answer, then: Answer | None = None):
    def answer(seen: Seen) -> Answer:
        if seen.path == "/auth/token":
            return token_answer(seen)
        if seen.path == RANKING:
            return first_page
        return then or listing()
    return answer


def test_origins_are_scheme_host_and_port_compared_case_insensitively() -> None:
    policy = HostPolicy(api_url="https://app-api.pixiv.net", auth_url="https://oauth.secure.pixiv.net/auth/token",
                        image_hosts=["i.pximg.net", "127.0.0.1:8701"])
    assert policy.is_api("https://APP-API.pixiv.net:443/v1/x")
    assert not policy.is_api("http://app-api.pixiv.net/v1/x")  # the downgrade
    assert not policy.is_api("https://app-api.pixiv.net:8443/v1/x")
    assert not policy.is_api("file://app-api.pixiv.net/v1/x")
    assert policy.is_image("https://I.PXIMG.NET/img-original/1.png")
    assert not policy.is_image("http://i.pximg.net/img-original/1.png")  # http only to loopback
    assert not policy.is_image("ftp://i.pximg.net/img-original/1.png")
    assert policy.is_image("http://127.0.0.1:8701/x") and policy.is_image("https://127.0.0.1:8701/x")
    assert not policy.is_api("https://oauth.secure.pixiv.net/auth/token")
    assert policy.classify("https://oauth.secure.pixiv.net/other", auth_request=True).refused
    assert policy.classify("https://oauth.secure.pixiv.net/auth/token", auth_request=True).destination.value == "auth"
    assert policy.classify("http://oauth.secure.pixiv.net/auth/token", auth_request=True).reason == "scheme"
    assert policy.classify("/v1/x").reason == "scheme"


def test_verdicts_are_remembered_per_origin_not_per_url() -> None:
    """A long crawl asks about every page it fetches: the policy keeps one verdict per origin, not the URLs
    (by URL it kept thousands of them alive, peak RSS growing with the crawl)."""
    policy = HostPolicy(api_url="https://app-api.pixiv.net", auth_url="https://oauth.secure.pixiv.net/auth/token",
                        image_hosts=["i.pximg.net"])
    for offset in range(5000):
        assert policy.is_api(f"https://app-api.pixiv.net/v1/illust/ranking?offset={offset}")
        assert policy.is_image(f"https://i.pximg.net/img-original/{offset}_p0.png")
    assert not policy.is_api("https://evil.example/v1/illust/ranking")
    assert len(policy._verdicts) == 3


@pytest.mark.parametrize("next_url", [
    "{http}/v1/illust/ranking?offset=30",      # the API host and port over plain http
    "file:///etc/passwd",
    "file://127.0.0.1/v1/illust/ranking",
    "ftp://127.0.0.1/v1/illust/ranking",
    "{images}/v1/illust/ranking?offset=30",    # an image host is not an API
    ["not", "a", "url"],
])
@deferred_f_from_coro_f
async def test_a_next_url_off_the_api_origin_is_not_followed(next_url, hostile, trusted, tmp_path, caplog) -> None:
    images = hostile(lambda seen: listing(next_url="https://never"))
    api = hostile(certificates=trusted)
    url = next_url.format(http=api.url(scheme="http"), images=images.url()) if isinstance(next_url, str) else next_url
    api.handler = serving(listing([], next_url=url))
    settings = hostile_settings(tmp_path, api.url(), PIXIV_CA_BUNDLE=str(trusted.ca),
                                image_hosts=[f"127.0.0.1:{images.port}"])
    crawler = await crawl_with(settings, date=DATE)
    assert crawler.stats.get_value("finish_reason") == "finished"
    assert crawler.stats.get_value("pixivcrawl/paging/refused_next_url") == 1
    assert "is not on the API origin" in caplog.text and "Traceback" not in caplog.text
    assert [s.path for s in api.requests] == ["/auth/token", RANKING]
    assert all(s.scheme == "https" for s in api.requests)
    assert images.requests == []


@pytest.mark.parametrize("scheme", ["file", "ftp", "data", "gopher"])
@deferred_f_from_coro_f
async def test_files_come_only_from_image_origins(scheme, hostile, tmp_path) -> None:
    illust = json.loads(json.dumps(SAMPLE).replace("https://i.pximg.net", f"{scheme}://i.pximg.net"))
    api = hostile(serving(listing([illust])))
    secret = tmp_path / "i.pximg.net"
    secret.mkdir()  # file://i.pximg.net/... must not copy local files into the archive
    crawler = await crawl_with(hostile_settings(tmp_path, api.url()), date=DATE)
    archive = Archive(tmp_path)
    assert crawler.stats.get_value("finish_reason") == "finished"
    assert crawler.stats.get_value("pixivcrawl/files/refused_scheme") == 2  # both pages
    assert not (tmp_path / "files").exists() or archive.stored_files() == []
    assert archive.query("SELECT count(*), count(local_path) FROM illust_pages") == [(2, 0)]
    assert archive.count("illusts") == 1


@deferred_f_from_coro_f
async def test_an_upper_case_image_host_is_recorded_and_not_fetched_again(make_sandbox, hostile, tmp_path) -> None:
    sandbox = make_sandbox(ranking_size=2, page_size=2)
    token = verify_refresh_token(sandbox.server.auth_url, sandbox.config.refresh_token).access_token
    page = urllib.request.urlopen(urllib.request.Request(  # noqa: ASYNC210 - setup, before any crawl runs
        f"{sandbox.server.api_url}{RANKING}?mode=day&date={DATE}", headers={"Authorization": f"Bearer {token}"},
    )).read().decode()
    shouting = re.sub(r"http://127\.0\.0\.1:(\d+)", lambda m: f"http://LOCALHOST:{m.group(1)}", page)
    data = json.loads(shouting)
    data["next_url"] = None
    api = hostile(serving(Answer(200, data)))
    settings = hostile_settings(tmp_path, api.url(), image_hosts=[f"localhost:{sandbox.server.image_port}"])
    first = await crawl_with(settings, date=DATE)
    archive = Archive(tmp_path)
    assert first.stats.get_value("file_status_count/downloaded") >= 2
    assert archive.query("SELECT count(*) FROM illust_pages WHERE local_path IS NULL") == [(0,)]
    second = await crawl_with(settings, date=DATE)
    assert second.stats.get_value("file_status_count/downloaded") is None
    assert second.stats.get_value("file_status_count/uptodate") == first.stats.get_value("file_status_count/downloaded")
