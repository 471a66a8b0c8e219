"""OAuth with Pixiv: the refresh grant, the PKCE login, the access token's lifetime, the token file.

One :class:`TokenManager` per crawl keeps the access token. However many
requests need a token at once, only one refresh is in flight; the others wait
for it. ``scrapy login`` uses the synchronous helpers (:func:`exchange_code`,
:func:`verify_refresh_token`), as it runs outside a crawl. Tokens never reach
logs: no function here logs them or puts them in an exception message.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import ssl
import stat
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qs, urlencode, urlsplit

from scrapy import Request
from scrapy.http import Response

from pixivcrawl import api
from pixivcrawl.escape import printable
from pixivcrawl.exceptions import AuthError
from pixivcrawl.hosts import Origin
from pixivcrawl.tls import ssl_context

if TYPE_CHECKING:
    from pixivcrawl.workers.tokens import SharedTokens

logger = logging.getLogger(__name__)

Fetch = Callable[[Request], Awaitable[Response]]

#: Where Pixiv sends the browser after the web login; the code exchange must repeat it.
LOGIN_REDIRECT_URI: Final = "https://app-api.pixiv.net/web/v1/users/auth/pixiv/callback"
#: The Android app's client, whose login page hands out codes for this client id.
LOGIN_USER_AGENT: Final = "PixivAndroidApp/5.0.234 (Android 11; Pixel 5)"


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


@dataclass(frozen=True, slots=True)
class Grant:
    """What the token endpoint gave: tokens, lifetime and the account."""

    access_token: str
    expires_in: float
    refresh_token: str
    account: Account | None

    def __repr__(self) -> str:
        # Never show the tokens, even in a traceback or a debugger.
        return f"Grant(expires_in={self.expires_in}, account={self.account!r})"


def code_challenge(verifier: str) -> str:
    """The S256 PKCE challenge: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_code_verifier() -> str:
    return secrets.token_urlsafe(32)


def web_base(api_url: str) -> str:
    """``scheme://host[:port]`` of the API URL, where Pixiv serves the web login."""
    parts = urlsplit(api_url)
    return f"{parts.scheme}://{parts.netloc}"


def login_url(api_url: str, verifier: str) -> str:
    """The page where the user logs in for a code bound to ``verifier``."""
    query = urlencode(
        {"code_challenge": code_challenge(verifier), "code_challenge_method": "S256", "client": "pixiv-android"}
    )
    return f"{web_base(api_url)}/web/v1/login?{query}"


def code_from(text: str) -> str:
    """The authorization code in what the user pasted: the code itself or a URL carrying ``code=``."""
    text = text.strip()
    if "code=" in text:
        codes = parse_qs(urlsplit(text).query or text.partition("?")[2] or text).get("code")
        if codes and codes[0].strip():
            return codes[0].strip()
        raise AuthError("no authorization code in the pasted text; paste the callback URL or its code")
    if not text or any(c.isspace() for c in text):
        raise AuthError("no authorization code in the pasted text; paste the callback URL or its code")
    return text


def refresh_form(refresh_token: str) -> dict[str, str]:
    return {
        "client_id": api.CLIENT_ID,
        "client_secret": api.CLIENT_SECRET,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "include_policy": "true",
        "get_secure_url": "true",
    }


def code_form(code: str, verifier: str) -> dict[str, str]:
    return {
        "client_id": api.CLIENT_ID,
        "client_secret": api.CLIENT_SECRET,
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": LOGIN_REDIRECT_URI,
        "include_policy": "true",
    }


def token_error(status: int, body: bytes) -> str:
    """The reason in a token endpoint error body (``errors.system.message``), or the status."""
    try:
        return printable(json.loads(body)["errors"]["system"]["message"], 200)
    except (ValueError, KeyError, TypeError):
        return f"HTTP {status}"


def parse_grant(status: int, body: bytes) -> Grant:
    """The token endpoint's answer as a :class:`Grant`; AuthError with Pixiv's reason otherwise."""
    if status != 200:
        raise AuthError(token_error(status, body))
    try:
        data = json.loads(body)
        data = data.get("response", data)
        user = data.get("user") or {}
        account = Account(int(user["id"]), user.get("name", ""), user.get("account", "")) if user.get("id") else None
        return Grant(
            access_token=str(data["access_token"]),
            expires_in=float(data["expires_in"]),
            refresh_token=str(data.get("refresh_token") or ""),
            account=account,
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise AuthError("the token endpoint answered without an access token") from None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """The token endpoint's 3xx is an answer, not a place to send the form again."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def post_token_form(auth_url: str, form: dict[str, str], *, ca_bundle: str = "", timeout: float = 30) -> Grant:
    """POST a grant to the token endpoint, synchronously (for commands run outside a crawl).

    The same trust as a crawl: https verified (system store or ``ca_bundle``),
    plain http only to loopback, and no redirect followed.
    """
    origin = Origin.of(auth_url)
    if origin is None or not origin.secure:
        raise AuthError(f"PIXIV_AUTH_URL={printable(auth_url)} is refused: only https is allowed "
                        "(plain http only to loopback, the sandbox)")
    opener = urllib.request.build_opener(
        _NoRedirect(), urllib.request.HTTPSHandler(context=ssl_context(ca_bundle))
    )
    request = urllib.request.Request(  # the URL is PIXIV_AUTH_URL
        auth_url,
        data=urlencode(form).encode(),
        method="POST",
        headers={
            "User-Agent": LOGIN_USER_AGENT,
            "Content-Type": "application/x-www-form-urlencoded",
            **client_hash_headers(),
        },
    )
    try:
        with opener.open(request, timeout=timeout) as response:
            return parse_grant(response.status, response.read())
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            raise AuthError(redirect_refused(exc.code, exc.headers.get("Location"))) from None
        return parse_grant(exc.code, exc.read())
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise AuthError(f"TLS: {origin} did not verify ({reason.verify_message}); nothing was sent "
                            "(PIXIV_CA_BUNDLE names the CAs to trust)") from None
        raise AuthError(f"cannot reach the Pixiv token endpoint {printable(auth_url)}: {printable(reason)}") from None


def redirect_refused(status: int, location: str | bytes | None) -> str:
    """The message for a token endpoint that answered with a redirect (never followed)."""
    if isinstance(location, bytes):
        location = location.decode("latin-1")
    where = f" to {Origin.of(location) or printable(location)}" if location else ""
    return f"the token endpoint answered HTTP {status} (a redirect{where}); the refresh token is never sent on"


def exchange_code(auth_url: str, code: str, verifier: str, *, ca_bundle: str = "") -> Grant:
    """Trade a PKCE authorization code for tokens (``grant_type=authorization_code``)."""
    return post_token_form(auth_url, code_form(code, verifier), ca_bundle=ca_bundle)


def verify_refresh_token(auth_url: str, refresh_token: str, *, ca_bundle: str = "") -> Grant:
    """One refresh grant, to check a refresh token and learn whose it is."""
    return post_token_form(auth_url, refresh_form(refresh_token), ca_bundle=ca_bundle)


def token_file_data(refresh_token: str, account: Account | None) -> dict[str, Any]:
    """What ``scrapy login`` stores: the refresh token and who it belongs to."""
    user = {"id": account.user_id, "name": account.name, "account": account.account} if account else {}
    return {"refresh_token": refresh_token, "user": user}


def read_token_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The token file's JSON ({} if there is none); AuthError if others may read it."""
    try:
        with open(path, encoding="utf-8") as f:
            mode = stat.S_IMODE(os.fstat(f.fileno()).st_mode)
            if mode & 0o077:
                raise AuthError(
                    f"token file {path} is readable by others (mode {mode:04o}); "
                    f"fix it with: chmod 600 {path}"
                )
            data = json.loads(f.read())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise AuthError(f"cannot read token file {path}: {exc}; run `scrapy login` again") from None
    return data if isinstance(data, dict) else {}


def write_token_file(path: str | os.PathLike[str], data: dict[str, Any]) -> None:
    """Write the token file atomically, readable by its owner only (0600).

    A symlinked token file stays a symlink: the file it points to is replaced.
    """
    target = Path(os.path.realpath(path))
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
        shared: SharedTokens | None = None,
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
        # Workers (PIXIV_REDIS_URL): refreshes serialized across processes, keyed by the first refresh token.
        self._shared = shared
        self._account_token: str | None = None
        self._stale: str | None = None

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
            self._stale = token

    def is_current(self, token: str | None) -> bool:
        return token is not None and token == self._access_token

    async def _do_refresh(self) -> str:
        # Resolved on first use, so a crawl that never calls the API needs no token.
        self._refresh_token = resolve_refresh_token(self._refresh_token, self.token_file)
        if self._shared is None:
            grant = await self._grant(self._refresh_token)
        else:
            self._account_token = self._account_token or self._refresh_token
            stale = self._access_token or self._stale
            grant = await self._shared.refresh(self._account_token, stale, self.margin, self._grant)
        self._access_token = grant.access_token
        lifetime = grant.expires_in
        self._expires_at = time.monotonic() + max(lifetime - self.margin, lifetime / 2)
        self.refreshes += 1
        if grant.account is not None:
            self.account = grant.account
        self._store_rotated(grant.refresh_token)
        logger.info("Got a Pixiv access token (valid %ds)", lifetime)
        return grant.access_token

    async def _grant(self, refresh_token: str) -> Grant:
        """One refresh grant at the token endpoint."""
        request = Request(
            self.auth_url,
            method="POST",
            body=urlencode(refresh_form(refresh_token)),
            headers={
                **api.APP_HEADERS,
                **client_hash_headers(),
                "Content-Type": "application/x-www-form-urlencoded",
            },
            meta={"download_slot": api.AUTH_SLOT, "pixiv_auth_request": True},
            dont_filter=True,
        )
        response = await self._fetch(request)
        if 300 <= response.status < 400:
            raise AuthError(redirect_refused(response.status, response.headers.get(b"Location")))
        if response.status != 200:
            raise AuthError(f"Pixiv refused the refresh token ({token_error(response.status, response.body)})")
        return parse_grant(response.status, response.body)

    def _store_rotated(self, new_refresh_token: str) -> None:
        # Pixiv usually keeps the refresh token, but rotates it after a password
        # change; keep the token file in step so the next run still logs in.
        if not new_refresh_token or new_refresh_token == self._refresh_token:
            return
        self._refresh_token = new_refresh_token
        stored = read_token_file(self.token_file)
        if stored:
            write_token_file(self.token_file, {**stored, "refresh_token": new_refresh_token})
