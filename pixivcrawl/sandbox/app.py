"""API app factory: the middleware and every route group over one shared State."""
from __future__ import annotations

from aiohttp import web

from . import routes_admin, routes_auth, routes_illust, routes_novel, routes_user
from .middleware import api_middleware
from .state import STATE, State


def make_api_app(st: State) -> web.Application:
    app = web.Application(middlewares=[api_middleware])
    app[STATE] = st
    for mod in (routes_admin, routes_auth, routes_illust, routes_user, routes_novel):
        mod.add_routes(app.router)
    return app
