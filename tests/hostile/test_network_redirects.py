"""No credential on any redirect: the token endpoint follows none, a redirected API request carries
no token into the queue (JOBDIR), and https->http or API->image redirects are refused."""

from __future__ import annotations

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from tests.crawl import scrapy_command
from tests.hostile.network_server import (
    ACCESS_PREFIX,
    Answer,
    Seen,
    crawl_with,
    files_text,
    hostile_settings,
    listing,
    token_answer,
)

DATE = "2026-10-30"
REFRESH = "rt-redirect-test-secret"
RANKING = "/v1/illust/ranking"


@pytest.mark.parametrize("status", [307, 308, 302])
@deferred_f_from_coro_f
async def test_the_token_endpoint_is_never_redirected(status, hostile, tmp_path, caplog) -> None:
    canary = hostile()
    api = hostile(lambda seen: Answer(status, b"", {"Location": canary.url("/steal")}))
    crawler = await crawl_with(hostile_settings(tmp_path, api.url(), refresh_token=REFRESH), date=DATE)
    assert crawler.stats.get_value("finish_reason") == "pixiv_auth_failed"
    assert canary.requests == []
    assert [s.method for s in api.requests] == ["POST"]  # sent once, to PIXIV_AUTH_URL only
    assert f"answered HTTP {status} (a redirect to http://127.0.0.1:{canary.port})" in caplog.text


@deferred_f_from_coro_f
async def test_a_same_origin_redirect_queues_no_token(hostile, tmp_path) -> None:
    def answer(seen: Seen) -> Answer:
        if seen.path == "/auth/token":
            return token_answer(seen)
        if seen.path == RANKING:
            return Answer(302, b"", {"Location": "/v1/moved?page=1"})
        return listing()

    api = hostile(answer)
    scheduled: list = []
    root = tmp_path / "run"
    settings = hostile_settings(tmp_path, api.url(), refresh_token=REFRESH, JOBDIR=str(root / "job"), LOG_LEVEL="DEBUG")
    crawler = await crawl_with(settings, date=DATE, scheduled=scheduled)
    assert crawler.stats.get_value("finish_reason") == "finished"
    moved = [s for s in api.requests if s.path == "/v1/moved"]
    # The redirect was followed on the API origin, with a token added at send time ...
    assert len(moved) == 1 and moved[0].headers["authorization"].startswith(f"Bearer {ACCESS_PREFIX}")
    # ... but no queued request ever held it.
    assert any("/v1/moved" in r.url for r in scheduled)
    for request in scheduled:
        assert b"Authorization" not in request.headers
        assert ACCESS_PREFIX not in repr(request.meta) and REFRESH.encode() not in request.body
    assert ACCESS_PREFIX.encode() not in files_text(root) and REFRESH.encode() not in files_text(tmp_path)


@pytest.mark.parametrize("where", ["https_to_http", "api_to_image"])
@deferred_f_from_coro_f
async def test_a_redirect_off_its_origin_kind_is_refused(where, hostile, trusted, tmp_path) -> None:
    images = hostile(lambda seen: listing())

    def answer(seen: Seen) -> Answer:
        if seen.path == "/auth/token":
            return token_answer(seen)
        if seen.path == RANKING:
            target = (api.url("/v1/moved", scheme="http") if where == "https_to_http"
                      else images.url("/v1/moved"))
            return Answer(301, b"", {"Location": target})
        return listing()

    api = hostile(answer, certificates=trusted)
    settings = hostile_settings(tmp_path, api.url(), refresh_token=REFRESH, PIXIV_CA_BUNDLE=str(trusted.ca),
                                image_hosts=[f"127.0.0.1:{images.port}"])
    crawler = await crawl_with(settings, date=DATE)
    assert crawler.stats.get_value("pixivcrawl/requests/refused_redirect") == 1
    assert [s for s in api.requests if s.scheme == "http"] == []  # nothing went out in clear text
    assert images.requests == []
    assert all(s.scheme == "https" for s in api.requests)


def test_scrapy_login_follows_no_redirect(hostile, tmp_path) -> None:
    canary = hostile()
    api = hostile(lambda seen: Answer(307, b"", {"Location": canary.url("/steal")}))
    result = scrapy_command("login", "--token", REFRESH, "-s", f"PIXIV_AUTH_URL={api.url('/auth/token')}",
                            "-s", f"PIXIV_TOKEN_FILE={tmp_path / 'token.json'}", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "pixivcrawl: login failed: the token endpoint answered HTTP 307 "
        f"(a redirect to http://127.0.0.1:{canary.port}); the refresh token is never sent on"
    )
    assert canary.requests == [] and len(api.requests) == 1
