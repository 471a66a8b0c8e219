"""OAuth server: refresh grant, PKCE authorization-code grant, access-token checks."""
from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

from .config import SandboxConfig

CLIENT_ID = "MOBrBDS8blbauoSck0ZfDbtuzpyT"
CLIENT_SECRET = "lsACyCD94FhDUtGTXi3QzcFE2uU1hqtDaKeqrdwj"
HASH_SECRET = "28c1fdd170a5204386cb1313c7077b34f83e4aaf4aa829ce78c231e05b0bae2c"
REDIRECT_URI = "https://app-api.pixiv.net/web/v1/users/auth/pixiv/callback"


def oauth_error(message: str, error: str = "invalid_grant") -> dict[str, Any]:
    return {"has_error": True, "errors": {"system": {"message": message, "code": 1508}}, "error": error}


def api_oauth_error(kind: str) -> dict[str, Any]:
    """The app-api body for a missing (invalid_request) or bad/expired (invalid_grant) bearer."""
    return {"error": {"user_message": "", "message": "Error occurred at the OAuth process. Please check your Access "
                      f"Token to fix this. Error Message: {kind}", "reason": "", "user_message_details": {}}}


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@dataclass
class Code:
    challenge: str
    user_id: int
    expires: float
    used: bool = False


class OAuthServer:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.refresh_tokens: dict[str, int] = {config.refresh_token: config.login_user_id}
        self.access_tokens: dict[str, tuple[int, float]] = {}
        self.codes: dict[str, Code] = {}

    # --- API side -------------------------------------------------------------------------
    def check_bearer(self, header: str | None) -> tuple[int | None, str | None]:
        """(user id, None) or (None, 'invalid_request'|'invalid_grant')."""
        if not header or not header.startswith("Bearer ") or not header[7:].strip():
            return None, "invalid_request"
        entry = self.access_tokens.get(header[7:].strip())
        if entry is None or entry[1] <= time.monotonic():
            return None, "invalid_grant"
        return entry[0], None

    # --- login ----------------------------------------------------------------------------
    def issue_code(self, challenge: str, user_id: int | None = None) -> str:
        code = secrets.token_urlsafe(32)
        self.codes[code] = Code(challenge, user_id or self.config.login_user_id,
                                time.monotonic() + self.config.code_lifetime)
        return code

    # --- token endpoint -------------------------------------------------------------------
    def token(self, form: dict[str, str], headers: Any, user_json: Any) -> tuple[int, dict[str, Any], str]:
        """Answer POST /auth/token: (status, body, grant kind or '' when refused)."""
        t, h = headers.get("X-Client-Time"), headers.get("X-Client-Hash")
        if t is not None and h is not None and hashlib.md5((t + HASH_SECRET).encode()).hexdigest() != h.lower():
            return 400, oauth_error("Invalid X-Client-Hash", "invalid_request"), ""
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 400, oauth_error("Invalid client", "invalid_client"), ""
        grant = form.get("grant_type")
        if grant == "refresh_token":
            user_id = self.refresh_tokens.get(form.get("refresh_token", ""))
            if user_id is None:
                return 400, oauth_error("Invalid refresh token"), ""
            refresh = form["refresh_token"]
        elif grant == "authorization_code":
            code = self.codes.get(form.get("code", ""))
            if code is None or code.used or code.expires <= time.monotonic():
                # Pixiv says "expired" for unknown and reused codes alike (gallery-dl#1582)
                return 400, oauth_error("The authorization code has expired"), ""
            if form.get("redirect_uri") != REDIRECT_URI:
                return 400, oauth_error("Invalid redirect_uri", "invalid_request"), ""
            if s256(form.get("code_verifier", "")) != code.challenge:
                return 400, oauth_error("Invalid code_verifier"), ""
            code.used = True
            user_id = code.user_id
            refresh = secrets.token_urlsafe(32)
            self.refresh_tokens[refresh] = user_id
        else:
            return 400, oauth_error("Invalid grant_type parameter or parameter missing"), ""
        access = secrets.token_urlsafe(32)
        self.access_tokens[access] = (user_id, time.monotonic() + self.config.token_lifetime)
        if len(self.access_tokens) > 10_000:
            now = time.monotonic()
            self.access_tokens = {k: v for k, v in self.access_tokens.items() if v[1] > now}
        body = {"access_token": access, "expires_in": self.config.token_lifetime, "token_type": "bearer",
                "scope": "", "refresh_token": refresh, "user": user_json(user_id)}
        return 200, {**body, "response": dict(body)}, grant
