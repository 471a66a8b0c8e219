"""One token refresh at a time per account across workers, and the result shared sealed.

Workers that use one refresh token refresh under one Redis lock. Inside it a
worker first reads the account's token record: if another worker refreshed
already, it takes that access token instead of asking Pixiv again. The record
holds the access token, its expiry, the refresh token Pixiv answered with (so a
rotated refresh token reaches every worker) and the account; it is sealed with
AES-GCM under a key derived from the refresh token the workers were started
with, so Redis (and anyone who reads it) never sees a token in clear.
"""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING, Self

import redis.asyncio
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pixivcrawl.auth import Account, Grant
from pixivcrawl.workers.keys import REDIS_PARAMS, AccountKeys, account_id, redis_url, token_cipher_key

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from scrapy.crawler import Crawler

#: Longest a refresh may hold the lock (seconds); a worker killed while refreshing frees it after this.
LOCK_TIMEOUT = 120


def seal(key: bytes, record: dict[str, object]) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, json.dumps(record).encode(), b"pixivcrawl token")


def unseal(key: bytes, blob: bytes) -> dict[str, object] | None:
    """The record, or None if it was sealed under another key (another refresh token) or damaged."""
    try:
        return json.loads(AESGCM(key).decrypt(blob[:12], blob[12:], b"pixivcrawl token"))
    except (InvalidTag, ValueError):
        return None


class SharedTokens:
    """The cross-worker side of :class:`pixivcrawl.auth.TokenManager` (PIXIV_REDIS_URL set)."""

    def __init__(self, url: str) -> None:
        self.client = redis.asyncio.Redis.from_url(url, **REDIS_PARAMS)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self | None:
        url = redis_url(crawler.settings)
        return cls(url) if url else None

    async def refresh(
        self, refresh_token: str, stale: str | None, margin: float, grant: Callable[[str], Awaitable[Grant]]
    ) -> Grant:
        """A grant for the account of ``refresh_token``: another worker's fresh one, else ``grant()``'s.

        ``stale`` is the access token this worker is replacing (expired or
        rejected): a record holding it is not taken.
        """
        keys = AccountKeys(account_id(refresh_token))
        key = token_cipher_key(refresh_token)
        async with self.client.lock(keys.token_lock, timeout=LOCK_TIMEOUT, blocking_timeout=LOCK_TIMEOUT * 2):
            blob = await self.client.get(keys.token)
            record = unseal(key, blob) if isinstance(blob, bytes) and blob else None
            if record is not None:
                left = float(record["expires_at"]) - time.time()  # type: ignore[arg-type]
                if record["access_token"] != stale and left > margin:
                    user = record.get("account") or None
                    return Grant(
                        access_token=str(record["access_token"]),
                        expires_in=left,
                        refresh_token=str(record.get("refresh_token") or ""),
                        account=Account(**user) if isinstance(user, dict) else None,
                    )
                refresh_token = str(record.get("refresh_token") or refresh_token)
            fresh = await grant(refresh_token)
            account = fresh.account
            record = {
                "access_token": fresh.access_token,
                "expires_at": time.time() + fresh.expires_in,
                "refresh_token": fresh.refresh_token or refresh_token,
                "account": {"user_id": account.user_id, "name": account.name, "account": account.account}
                if account
                else None,
            }
            await self.client.set(keys.token, seal(key, record), ex=max(1, int(fresh.expires_in)))
            return fresh
