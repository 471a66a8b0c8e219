"""One account across workers: a shared API pace, a shared rate-limit pause, one token refresh at a time."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from urllib.parse import parse_qs

import pytest
import redis
from scrapy import Request, Spider
from scrapy.http import TextResponse
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from pixivcrawl.auth import TokenManager
from pixivcrawl.workers.pace import SharedApiPace
from pixivcrawl.workers.tokens import SharedTokens
from tests.workers.conftest import redis_values

pytestmark = pytest.mark.redis

API = "https://api.test"
INTERVAL = 0.05


def pace(redis_url: str, **settings: object) -> SharedApiPace:
    crawler = get_crawler(Spider, {
        "PIXIV_REDIS_URL": redis_url, "PIXIV_API_URL": API, "PIXIV_REFRESH_TOKEN": "account-token",
        "DOWNLOAD_SLOTS": {"pixiv-api": {"concurrency": 1, "delay": INTERVAL}},
        "PIXIV_RATE_LIMIT_BACKOFF": 0.4, "PIXIV_RATE_LIMIT_BACKOFF_MAX": 0.4, **settings,
    })
    return SharedApiPace.from_crawler(crawler)


@deferred_f_from_coro_f
async def test_three_workers_share_one_api_pace(redis_url: str) -> None:
    workers = [pace(redis_url) for _ in range(3)]
    sent: list[float] = []

    async def calls(worker: SharedApiPace) -> None:
        for n in range(5):
            await worker.process_request(Request(f"{API}/v1/illust/detail?illust_id={n}"))
            sent.append(time.monotonic())

    await asyncio.gather(*(calls(w) for w in workers))
    sent.sort()
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    # Redis time is in ms, and a loaded event loop resumes one caller later than the next: the
    # span below is the rate; each gap only has to show that no two calls went out together.
    assert min(gaps) >= INTERVAL - 0.03, gaps
    assert sent[-1] - sent[0] >= 14 * INTERVAL - 0.02
    # Images are not paced: with the API pace just taken, an image request passes at once while the
    # next API call still waits its turn.
    await workers[0].process_request(Request(f"{API}/v1/illust/detail?illust_id=99"))
    started = time.monotonic()
    await workers[1].process_request(Request("https://i.test/img/1.png"))
    assert time.monotonic() - started < INTERVAL / 2
    await workers[2].process_request(Request(f"{API}/v1/illust/detail?illust_id=100"))
    assert time.monotonic() - started >= INTERVAL - 0.03
    # No token and no clear account name in Redis.
    values = redis_values(redis.Redis.from_url(redis_url))
    assert values and not any(b"account-token" in k or any(b"account-token" in v for v in vs) for k, vs in values.items())


@deferred_f_from_coro_f
async def test_a_rate_limit_seen_by_one_worker_pauses_all(redis_url: str) -> None:
    first, other = pace(redis_url), pace(redis_url)
    request = Request(f"{API}/v1/illust/ranking")
    limited = TextResponse(request.url, status=429, body=b"{}", request=request)
    assert first.process_response(request, limited) is limited
    await asyncio.gather(*first.pausing)
    started = time.monotonic()
    await other.process_request(Request(f"{API}/v1/illust/detail?illust_id=1"))
    assert 0.3 <= time.monotonic() - started < 1.0  # PIXIV_RATE_LIMIT_BACKOFF_MAX caps the pause


class RotatingEndpoint:
    """A token endpoint that rotates the refresh token on every grant, and refuses a used one (as Pixiv may)."""

    def __init__(self) -> None:
        self.calls = 0
        self.valid = {"first-refresh"}
        self.used: list[str] = []

    async def __call__(self, request: Request) -> TextResponse:
        self.calls += 1
        await asyncio.sleep(0.05)
        token = parse_qs(request.body.decode())["refresh_token"][0]
        self.used.append(token)
        if token not in self.valid:
            body = {"has_error": True, "errors": {"system": {"message": "Invalid refresh token"}}}
            return TextResponse(request.url, status=400, body=json.dumps(body).encode(), request=request)
        self.valid = {f"rotated-{self.calls}"}
        grant = {"access_token": f"access-{self.calls}", "expires_in": 3600, "refresh_token": f"rotated-{self.calls}",
                 "user": {"id": "42", "name": "me", "account": "me_acc"}}
        return TextResponse(request.url, status=200, body=json.dumps({**grant, "response": grant}).encode(),
                            request=request)


@deferred_f_from_coro_f
async def test_workers_refresh_once_and_follow_a_rotated_refresh_token(redis_url: str, tmp_path) -> None:
    endpoint = RotatingEndpoint()
    workers = [
        TokenManager(auth_url="http://auth.test/auth/token", refresh_token="first-refresh",
                     token_file=str(tmp_path / f"token{i}.json"), margin=300, fetch=endpoint,
                     shared=SharedTokens(redis_url))
        for i in range(3)
    ]
    tokens = await asyncio.gather(*(w.access_token() for w in workers))
    assert set(tokens) == {"access-1"} and endpoint.calls == 1
    assert all(w.account is not None and w.account.user_id == 42 for w in workers)

    # Pixiv rejects worker 2's token: it refreshes with the refresh token Pixiv rotated, not the one it started with.
    workers[2].invalidate("access-1")
    assert await workers[2].access_token() == "access-2"
    assert endpoint.used == ["first-refresh", "rotated-1"]
    # Worker 0's token expires: it takes worker 2's fresh one without asking Pixiv.
    workers[0]._expires_at = 0
    assert await workers[0].access_token() == "access-2"
    assert endpoint.calls == 2

    values = redis_values(redis.Redis.from_url(redis_url))
    assert values
    for secret in (b"first-refresh", b"rotated-1", b"rotated-2", b"access-1", b"access-2"):
        assert not any(secret in key or any(secret in v for v in vs) for key, vs in values.items())
