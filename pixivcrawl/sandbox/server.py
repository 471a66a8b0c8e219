"""Sandbox: runs the API/OAuth listener and the image listener on 127.0.0.1 (asyncio or a thread)."""
from __future__ import annotations

import asyncio
import threading
from typing import Any

from aiohttp import web

from .app import make_api_app
from .config import SandboxConfig
from .image_host import make_image_app
from .oauth import s256
from .state import State
from .tls import Certificates, make_certificates
from .world import World

HOST = "127.0.0.1"


class Sandbox:
    """The fake Pixiv. ``await start()``/``await stop()`` inside a loop, or ``start_in_thread()``/``stop()``."""

    def __init__(self, config: SandboxConfig | None = None, **overrides: Any) -> None:
        self.config = (config or SandboxConfig()).replace(**overrides) if overrides else (config or SandboxConfig())
        self.world = World(self.config)
        self.state = State(self.config, self.world)
        self.stats = self.state.stats
        self.port = 0
        self.image_port = 0
        # With the ``tls`` knob: the CA (``certificates.ca``) and certificate it serves.
        self.certificates: Certificates | None = None
        self._runners: list[web.AppRunner] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # --- addresses ------------------------------------------------------------------------
    @property
    def scheme(self) -> str:
        return "https" if self.config.tls else "http"

    @property
    def ca_bundle(self) -> str:
        """The CA file a crawl trusts (PIXIV_CA_BUNDLE) with the ``tls`` knob, else ""."""
        return str(self.certificates.ca) if self.certificates else ""

    @property
    def api_url(self) -> str:
        return f"{self.scheme}://{HOST}:{self.port}"

    @property
    def auth_url(self) -> str:
        return f"{self.api_url}/auth/token"

    @property
    def image_host(self) -> str:
        return f"{HOST}:{self.image_port}"

    @property
    def image_url(self) -> str:
        return f"{self.scheme}://{self.image_host}"

    # --- lifecycle ------------------------------------------------------------------------
    def apps(self) -> tuple[web.Application, web.Application]:
        """The API + OAuth app and the image app (tests wrap them with faults of their own)."""
        return make_api_app(self.state), make_image_app(self.state)

    async def start(self) -> None:
        api_app, image_app = self.apps()
        api_runner = web.AppRunner(api_app, access_log=None)
        img_runner = web.AppRunner(image_app, access_log=None)
        for r in (api_runner, img_runner):
            await r.setup()
            self._runners.append(r)
        if self.config.tls and self.certificates is None:
            self.certificates = make_certificates(self.config.tls_dir or None)
        context = self.certificates.server_context() if self.certificates else None
        self.port = await _bind(api_runner, self.config.port, context)
        self.image_port = await _bind(img_runner, self.config.image_port, context)
        self.world.image_base = self.world.static_base = self.image_url
        self.world.api_base = self.state.api_base = self.api_url

    def stop(self) -> Any:
        """Coroutine after ``start()``; after ``start_in_thread()`` it stops synchronously (returns None)."""
        if self._thread is not None:
            self.stop_thread()
            return None
        return self._stop()

    async def _stop(self) -> None:
        for r in reversed(self._runners):
            await r.cleanup()
        self._runners.clear()

    def start_in_thread(self) -> Sandbox:
        """Run in a daemon thread with its own event loop; returns once both listeners listen."""
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.start())
            except BaseException as e:  # reported to the caller
                errors.append(e)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._stop())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name="pixiv-sandbox", daemon=True)
        self._thread.start()
        ready.wait()
        if errors:
            raise errors[0]
        return self

    def stop_thread(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._thread = self._loop = None

    # --- helpers for tests ----------------------------------------------------------------
    def issue_login_code(self, code_challenge: str, user_id: int | None = None) -> str:
        """What a browser login would yield: an authorization code bound to an S256 challenge."""
        return self.state.oauth.issue_code(code_challenge, user_id)

    def advance_clock(self, seconds: int) -> None:
        self.world.clock_advance += seconds

    def __enter__(self) -> Sandbox:
        return self.start_in_thread()

    def __exit__(self, *exc: object) -> None:
        self.stop_thread()


async def _bind(runner: web.AppRunner, port: int, ssl_context: Any = None) -> int:
    site = web.TCPSite(runner, HOST, port, reuse_address=True, ssl_context=ssl_context)
    await site.start()
    server = site._server  # aiohttp exposes no public accessor for the bound port
    return server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


__all__ = ["Sandbox", "SandboxConfig", "s256"]
