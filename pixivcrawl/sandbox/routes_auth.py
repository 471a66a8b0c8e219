"""OAuth routes: POST /auth/token and the PKCE web login pages."""
from __future__ import annotations

import html
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from .oauth import REDIRECT_URI
from .responses import json_response, state


def token_user(request: web.Request, user_id: int) -> dict[str, Any]:
    world = state(request).world
    name, account = world.user_name(user_id)
    avatar = world.avatar_url(user_id)
    return {"profile_image_urls": {"px_16x16": avatar.replace("_170.", "_16."),
                                   "px_50x50": avatar.replace("_170.", "_50."),
                                   "px_170x170": avatar},
            "id": str(user_id), "name": name, "account": account, "mail_address": f"{account}@example.com",
            "is_premium": False, "x_restrict": 2, "is_mail_authorized": True, "require_policy_agreement": False}


async def token(request: web.Request) -> web.Response:
    st = state(request)
    form = {k: str(v) for k, v in (await request.post()).items()}
    status, body, grant = st.oauth.token(form, request.headers, lambda uid: token_user(request, uid))
    if grant == "refresh_token":
        st.stats.inc("token_refreshes")
    elif grant == "authorization_code":
        st.stats.inc("code_exchanges")
    else:
        st.stats.inc("token_errors")
    return json_response(body, status)


async def login(request: web.Request) -> web.Response:
    """The sandbox's login page: one link that 'logs in' at once."""
    q = request.query
    if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
        return web.Response(status=400, text="code_challenge and code_challenge_method=S256 are required")
    submit = "/web/v1/login/submit?" + urlencode({"code_challenge": q["code_challenge"], "client": q.get("client", "")})
    page = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>pixiv sandbox login</title></head><body>"
            f"<form method=\"get\" action=\"/web/v1/login/submit\">"
            f"<input type=\"hidden\" name=\"code_challenge\" value=\"{html.escape(q['code_challenge'])}\">"
            f"<button type=\"submit\">Log in</button></form>"
            f"<a id=\"login\" href=\"{html.escape(submit)}\">Log in as the sandbox user</a></body></html>")
    return web.Response(text=page, content_type="text/html")


async def submit(request: web.Request) -> web.Response:
    challenge = request.query.get("code_challenge", "")
    if not challenge:
        return web.Response(status=400, text="code_challenge is required")
    code = state(request).oauth.issue_code(challenge)
    location = "/web/v1/users/auth/pixiv/callback?" + urlencode({"state": "", "code": code})
    return web.Response(status=302, headers={"Location": location})


async def callback(request: web.Request) -> web.Response:
    code = html.escape(request.query.get("code", ""))
    page = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>pixiv</title></head><body>"
            f"<p>Login complete. Authorization code (valid {state(request).config.code_lifetime} s, single use):</p>"
            f"<pre id=\"code\">{code}</pre><p>redirect_uri: {html.escape(REDIRECT_URI)}</p>"
            f"<a href=\"pixiv://account/login?code={code}&amp;via=login\">Open in app</a></body></html>")
    return web.Response(text=page, content_type="text/html")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/auth/token", token)
    router.add_get("/web/v1/login", login)
    router.add_get("/web/v1/login/submit", submit)
    router.add_get("/web/v1/users/auth/pixiv/callback", callback)
