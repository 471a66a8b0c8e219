"""The token manager: one refresh however many requests wait, expiry, refusal."""

from __future__ import annotations

import asyncio
import json
import stat

import pytest
from scrapy import Request
from scrapy.http import TextResponse
from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.auth import TokenManager, client_hash_headers, write_token_file
from pixivcrawl.exceptions import AuthError


def token_response(request: Request, status: int, body: dict) -> TextResponse:
    return TextResponse(request.url, status=status, body=json.dumps(body).encode(), request=request)


class FakeTokenEndpoint:
    def __init__(self, lifetime: int = 3600, status: int = 200) -> None:
        self.calls = 0
        self.lifetime = lifetime
        self.status = status

    async def __call__(self, request: Request) -> TextResponse:
        self.calls += 1
        await asyncio.sleep(0.01)
        if self.status != 200:
            return token_response(request, self.status, {
                "has_error": True, "errors": {"system": {"message": "Invalid refresh token", "code": 1508}},
                "error": "invalid_grant"})
        body = {"access_token": f"access-{self.calls}", "expires_in": self.lifetime, "token_type": "bearer",
                "scope": "", "refresh_token": "refresh", "user": {"id": "42", "name": "me", "account": "me_acc"}}
        return token_response(request, 200, {**body, "response": body})


def manager(endpoint: FakeTokenEndpoint, tmp_path) -> TokenManager:
    return TokenManager(auth_url="http://auth.test/auth/token", refresh_token="refresh",
                        token_file=str(tmp_path / "token.json"), margin=300, fetch=endpoint)


@deferred_f_from_coro_f
async def test_concurrent_requests_share_one_refresh(tmp_path) -> None:
    endpoint = FakeTokenEndpoint()
    tokens = manager(endpoint, tmp_path)
    got = await asyncio.gather(*(tokens.access_token() for _ in range(20)))
    assert set(got) == {"access-1"}
    assert endpoint.calls == 1
    assert tokens.account is not None and tokens.account.user_id == 42


@deferred_f_from_coro_f
async def test_an_invalidated_token_is_refreshed_once(tmp_path) -> None:
    endpoint = FakeTokenEndpoint()
    tokens = manager(endpoint, tmp_path)
    first = await tokens.access_token()
    tokens.invalidate(first)
    tokens.invalidate(first)
    assert await asyncio.gather(tokens.access_token(), tokens.access_token()) == ["access-2", "access-2"]
    assert endpoint.calls == 2


@deferred_f_from_coro_f
async def test_refused_refresh_token_raises_with_pixivs_reason(tmp_path) -> None:
    tokens = manager(FakeTokenEndpoint(status=400), tmp_path)
    with pytest.raises(AuthError, match=r"refused the refresh token \(Invalid refresh token\)"):
        await tokens.access_token()


def test_client_hash_is_md5_of_time_and_secret() -> None:
    import datetime as dt

    headers = client_hash_headers(dt.datetime(2026, 11, 29, 1, 2, 3, tzinfo=dt.UTC))
    assert headers["X-Client-Time"] == "2026-11-29T01:02:03+00:00"
    assert len(headers["X-Client-Hash"]) == 32


def test_token_file_is_private(tmp_path) -> None:
    path = tmp_path / "cfg" / "token.json"
    write_token_file(path, {"refresh_token": "x"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"refresh_token": "x"}
