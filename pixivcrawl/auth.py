"""OAuth with Pixiv: the refresh grant, the access token's lifetime, the token file.

One :class:`TokenManager` per crawl keeps the access token. However many
requests need a token at once, only one refresh is in flight; the others wait
for it. Tokens never reach logs: no method here logs or returns them in text.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from scrapy import Request
from scrapy.http import Response

from pixivcrawl import api
from pixivcrawl.exceptions import AuthError

logger = logging.getLogger(__name__)

Fetch = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Account:
    """The logged-in user, as the token endpoint describes it."""

    user_id: int
    name: str
    account: str


def client_hash_headers(now: dt.datetime | None = None) -> dict[str, str]:
    """``X-Client-Time`` and its ``X-Client-Hash``, which the token endpoint checks."""
    client_time = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    digest = hashlib.md5((client_time + api.HASH_SECRET).encode(), usedforsecurity=False)
    return {"X-Client-Time": client_time, "X-Client-Hash": digest.hexdigest()}


def read_token_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise AuthError(f"cannot read token file {path}: {exc}; run `scrapy login` again") from None
    return data if isinstance(data, dict) else {}


def write_token_file(path: str | os.PathLike[str], data: dict[str, Any]) -> None:
    """Write the token file atomically, readable by its owner only (0600)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, target)


def resolve_refresh_token(refresh_token: str, token_file: str) -> str:
    """The refresh token from the setting, else from the token file; AuthError if neither."""
    token = refresh_token or read_token_file(token_file).get("refresh_token") or ""
    if not token:
        raise AuthError(
            "no Pixiv refresh token: run `scrapy login`, or set PIXIV_REFRESH_TOKEN "
            "(or use PIXIV_SANDBOX=true to try the offline sandbox)"
        )
    return token


def token_error_message(response: Response) -> str:
    """The reason in a token endpoint error body (``errors.system.message``), or the status."""
    try:
        body = json.loads(response.body)
        return str(body["errors"]["system"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status}"


class TokenManager:
    """Keeps a valid access token, refreshing it before expiry and on demand."""

    def __init__(
        self,
        *,
        auth_url: str,
        refresh_token: str,
        token_file: str,
        margin: float,
        fetch: Fetch,
    ) -> None:
        self.auth_url = auth_url
        self.token_file = token_file
        self.margin = margin
        self._refresh_token = refresh_token
        self._fetch = fetch
        self._access_token: str | None = None
        self._expires_at = 0.0
        self._refresh: asyncio.Future[str] | None = None
        self.account: Account | None = None
        self.refreshes = 0

    async def access_token(self) -> str:
        """A token valid for at least ``margin`` more seconds (refreshing if needed)."""
        if self._access_token and time.monotonic() < self._expires_at:
            return self._access_token
        if self._refresh is None:
            self._refresh = asyncio.ensure_future(self._do_refresh())
            self._refresh.add_done_callback(self._refresh_done)
        return await asyncio.shield(self._refresh)

    def _refresh_done(self, future: asyncio.Future[str]) -> None:
        self._refresh = None
        if not future.cancelled():
            future.exception()  # retrieved here so asyncio does not warn; awaiters re-raise it

    def invalidate(self, token: str | None) -> None:
        """Forget ``token`` if it is still the current one (Pixiv rejected it)."""
        if token is not None and token == self._access_token:
            self._access_token = None

    def is_current(self, token: str | None) -> bool:
        return token is not None and token == self._access_token

    async def _do_refresh(self) -> str:
        # Resolved on first use, so a crawl that never calls the API needs no token.
        self._refresh_token = resolve_refresh_token(self._refresh_token, self.token_file)
        form = {
            "client_id": api.CLIENT_ID,
            "client_secret": api.CLIENT_SECRET,
            "grant_type": "refresh_token",
            "refresh_token": self._refresh_token,
            "include_policy": "true",
            "get_secure_url": "true",
        }
        request = Request(
            self.auth_url,
            method="POST",
            body=urlencode(form),
            headers={
                **api.APP_HEADERS,
                **client_hash_headers(),
                "Content-Type": "application/x-www-form-urlencoded",
            },
            meta={"download_slot": api.AUTH_SLOT, "pixiv_auth_request": True},
            dont_filter=True,
        )
        response = await self._fetch(request)
        if response.status != 200:
            raise AuthError(f"Pixiv refused the refresh token ({token_error_message(response)})")
        try:
            data = json.loads(response.body)
            data = data.get("response", data)
            token, lifetime = str(data["access_token"]), float(data["expires_in"])
            user = data.get("user") or {}
        except (ValueError, KeyError, TypeError, AttributeError):
            raise AuthError("the token endpoint answered without an access token") from None
        self._access_token = token
        self._expires_at = time.monotonic() + max(lifetime - self.margin, lifetime / 2)
        self.refreshes += 1
        if user.get("id"):
            self.account = Account(int(user["id"]), user.get("name", ""), user.get("account", ""))
        self._store_rotated(str(data.get("refresh_token") or ""))
        logger.info("Got a Pixiv access token (valid %ds)", lifetime)
        return token

    def _store_rotated(self, new_refresh_token: str) -> None:
        # Pixiv usually keeps the refresh token, but rotates it after a password
        # change; keep the token file in step so the next run still logs in.
        if not new_refresh_token or new_refresh_token == self._refresh_token:
            return
        self._refresh_token = new_refresh_token
        stored = read_token_file(self.token_file)
        if stored:
            write_token_file(self.token_file, {**stored, "refresh_token": new_refresh_token})
