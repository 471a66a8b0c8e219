"""A hostile Pixiv for the data tests: the sandbox with answers rewritten, replaced or made huge.

``DataSandbox`` is the real sandbox (OAuth, API, images) plus an aiohttp
middleware on each listener: ``rewrite_json(path, edit)`` edits an API answer
before it leaves; ``serve_image(match, handler)`` answers image paths itself.
Big bodies are streamed (``stream_zeros``) and bombs are made once, cheaply,
so no test builds hundreds of MB in memory.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Awaitable, Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from PIL import Image

from pixivcrawl.sandbox.config import SandboxConfig
from pixivcrawl.sandbox.server import Sandbox
from tests.crawl import FAST, REPO, Archive, RunningSandbox

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MB = 1024 * 1024


class DataSandbox(Sandbox):
    """The sandbox, with per-path rewrites of API answers and image answers of the test's own."""

    def __init__(self, config: SandboxConfig) -> None:
        super().__init__(config)
        self.json_edits: list[tuple[str, Callable[[web.Request, Any], Any]]] = []
        self.image_handlers: list[tuple[Callable[[str], bool], Handler]] = []

    def apps(self) -> tuple[web.Application, web.Application]:
        api_app, image_app = super().apps()
        api_app.middlewares.append(self._edit_json)
        image_app.middlewares.append(self._serve_image)
        return api_app, image_app

    @web.middleware
    async def _edit_json(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        for path, edit in self.json_edits:
            if request.path == path:
                response = await handler(request)
                if response.status != 200 or not isinstance(response, web.Response) or response.body is None:
                    return response
                data = edit(request, json.loads(bytes(response.body)))  # type: ignore[arg-type]
                if isinstance(data, web.StreamResponse):
                    return data
                return web.Response(body=json.dumps(data).encode(), content_type="application/json")
        return await handler(request)

    @web.middleware
    async def _serve_image(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        for match, own in self.image_handlers:
            if match(request.path):
                self.stats.inc("hostile_image_requests")
                return await own(request)
        return await handler(request)


class RunningDataSandbox(RunningSandbox):
    """:class:`DataSandbox` in a thread, with the helpers of :class:`RunningSandbox`."""

    def __init__(self, **knobs: Any) -> None:
        self.config = SandboxConfig(**knobs)
        self.server = DataSandbox(self.config)
        self.server.start_in_thread()

    def rewrite_json(self, path: str, edit: Callable[[web.Request, Any], Any]) -> None:
        self.server.json_edits.append((path, edit))

    def serve_image(self, match: Callable[[str], bool], handler: Handler) -> None:
        self.server.image_handlers.append((match, handler))

    def requests_served(self) -> int:
        return int(self.stats().get("hostile_image_requests", 0))


@pytest.fixture
def make_data_sandbox() -> Iterator[Callable[..., RunningDataSandbox]]:
    """Start :class:`RunningDataSandbox` es with the given knobs; stopped after the test."""
    started: list[RunningDataSandbox] = []

    def make(**knobs: Any) -> RunningDataSandbox:
        started.append(RunningDataSandbox(**knobs))
        return started[-1]

    yield make
    for sandbox in started:
        sandbox.stop()


async def stream_zeros(request: web.Request, size: int, head: bytes = b"", content_type: str = "image/jpeg",
                       declare: bool = True) -> web.StreamResponse:
    """``head`` then zeros up to ``size`` bytes, written in 1 MB blocks (never built in memory)."""
    response = web.StreamResponse(headers={"Content-Type": content_type})
    if declare:
        response.content_length = size
    await response.prepare(request)
    await response.write(head)
    block = bytes(MB)
    sent = len(head)
    try:
        while sent < size:
            chunk = block[: min(MB, size - sent)]
            await response.write(chunk)
            sent += len(chunk)
    except (ConnectionError, RuntimeError):
        pass  # the client gave up, as it should
    return response


def jpeg(size: tuple[int, int], colour: tuple[int, int, int] = (200, 30, 90), quality: int = 60) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@cache
def inflating_zip(inflated: int) -> bytes:
    """An ugoira zip of one JPEG frame followed by zeros: ~1/1000 of ``inflated`` on the wire."""
    buf = io.BytesIO()
    frame = jpeg((64, 64))
    with (zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
          archive.open("000000.jpg", "w", force_zip64=True) as entry):
        entry.write(frame)
        block = bytes(MB)
        for _ in range((inflated - len(frame)) // MB):
            entry.write(block)
    return buf.getvalue()


@cache
def big_frames_zip(count: int, size: tuple[int, int]) -> bytes:
    """An ugoira zip of ``count`` flat frames of ``size`` (tiny JPEGs, large once decoded)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for index in range(count):
            archive.writestr(f"{index:06d}.jpg", jpeg(size, ((index * 37) % 256, 90, 160)))
    return buf.getvalue()


# --- crawls in a child process, for exit status, logs and peak memory ----------------------------

CHILD = """
import atexit, resource, signal, sys
limit, rss_file = int(sys.argv[1]), sys.argv[2]
if limit:
    # Writes past `limit` bytes fail with EFBIG instead of killing the process: a full disk.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
def peak():
    with open(rss_file, "w") as f:
        f.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024))
atexit.register(peak)
sys.argv = ["scrapy", *sys.argv[3:]]
from scrapy.cmdline import execute
execute()
"""


def child_settings(sandbox: RunningSandbox, archive: Archive, **extra: Any) -> dict[str, Any]:
    """The settings a crawl in a child process needs on top of the project's: the sandbox, the archive, fast."""
    return {
        **FAST, **sandbox.settings, **archive.settings,
        "PIXIV_RETRY_BACKOFF": 0.01, "PIXIV_RETRY_BACKOFF_MAX": 0.05,
        "PIXIV_TOKEN_FILE": str(archive.root / "token.json"), **extra,
    }


def crawl_command(args: list[str], settings: dict[str, Any], cwd: Path, *,
                  file_size_limit: int = 0) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of ``scrapy crawl <args>`` in a child process.

    The child writes its peak RSS (bytes) to ``cwd/peak_rss`` when it exits;
    with ``file_size_limit`` it cannot write a file past that size (a full disk).
    """
    env = {k: v for k, v in os.environ.items() if k != "PIXIV_REFRESH_TOKEN"}
    env["SCRAPY_SETTINGS_MODULE"] = "pixivcrawl.settings"
    env["PYTHONPATH"] = str(REPO)
    flags = [part for k, v in settings.items() for part in ("-s", f"{k}={_flag(v)}")]
    command = [sys.executable, "-c", CHILD, str(file_size_limit), str(cwd / "peak_rss"), "crawl", *args, *flags]
    return command, env


def run_crawl(args: list[str], settings: dict[str, Any], cwd: Path, *, file_size_limit: int = 0,
              timeout: float = 240) -> tuple[subprocess.CompletedProcess[str], int]:
    """``scrapy crawl <args>`` in a child process; returns it and the child's peak RSS in bytes."""
    command, env = crawl_command(args, settings, cwd, file_size_limit=file_size_limit)
    process = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                             check=False)
    rss_file = cwd / "peak_rss"
    return process, int(rss_file.read_text()) if rss_file.exists() else 0


def _flag(value: Any) -> str:
    """A setting as ``-s`` takes it: lists comma-separated (getlist), dicts as JSON (getdict)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join(map(str, value))
    return json.dumps(value)
