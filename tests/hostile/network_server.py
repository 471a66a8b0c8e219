"""A small hostile fake Pixiv on 127.0.0.1 for the network tests: it records everything it receives.

One listener speaks plain HTTP and TLS on the same port (it looks at the first
byte), so ``https://127.0.0.1:P`` and ``http://127.0.0.1:P`` are the same host
and port with different schemes: exactly the downgrade a host check by
host:port alone would miss. Each request is answered by a handler
``(Seen) -> Answer`` and recorded, with its scheme, headers and body, so tests
can assert that no token ever reached it in clear, or at all.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pixivcrawl.sandbox.tls import Certificates, make_certificates

HOST = "127.0.0.1"
#: Access tokens the fake token endpoint hands out start with this.
ACCESS_PREFIX = "hostile-access-"


@dataclass
class Seen:
    """One request the server received."""

    scheme: str
    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def raw(self) -> bytes:
        head = f"{self.method} {self.target}\n" + "\n".join(f"{k}: {v}" for k, v in self.headers.items())
        return head.encode("latin-1", "replace") + b"\n\n" + self.body


@dataclass
class Answer:
    status: int = 200
    body: bytes | str | dict[str, Any] = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        body = self.body
        headers = dict(self.headers)
        if isinstance(body, dict):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        headers["Content-Length"] = str(len(body))
        headers["Connection"] = "close"
        head = f"HTTP/1.1 {self.status} X\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        return head.encode("latin-1") + b"\r\n" + body


def listing(illusts: list[dict[str, Any]] | None = None, next_url: str | None = None) -> Answer:
    """One App API listing page."""
    return Answer(200, {"illusts": illusts or [], "next_url": next_url})


def token_answer(seen: Seen) -> Answer:
    """What a healthy token endpoint answers to a refresh grant."""
    return Answer(200, {"access_token": f"{ACCESS_PREFIX}{len(seen.body)}", "expires_in": 3600,
                        "refresh_token": "", "user": {"id": "1", "name": "n", "account": "a"}})


class HostileServer:
    """Plain HTTP and (with ``certificates``) TLS on one port of 127.0.0.1, in a thread."""

    def __init__(self, handler: Callable[[Seen], Answer] | None = None, *,
                 certificates: Certificates | None = None) -> None:
        self.handler = handler or (lambda seen: Answer(404, b"nothing here"))
        self.context = certificates.server_context() if certificates else None
        self.requests: list[Seen] = []
        self.tls_handshake_failures = 0
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                outer._serve(self.request)

        self.server = socketserver.ThreadingTCPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "", scheme: str | None = None) -> str:
        return f"{scheme or ('https' if self.context else 'http')}://{HOST}:{self.port}{path}"

    @property
    def received(self) -> bytes:
        """Everything any request carried (request lines, headers, bodies)."""
        return b"\n".join(seen.raw for seen in self.requests)

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(5)
        scheme = "http"
        try:
            first = sock.recv(1, socket.MSG_PEEK)
            if first == b"\x16" and self.context is not None:
                scheme = "https"
                try:
                    sock = self.context.wrap_socket(sock, server_side=True)
                except (ssl.SSLError, OSError):
                    self.tls_handshake_failures += 1
                    return
            seen = self._read(sock, scheme)
            if seen is None:
                return
            self.requests.append(seen)
            sock.sendall(self.handler(seen).encode())
        except (OSError, ssl.SSLError):
            return
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    @staticmethod
    def _read(sock: socket.socket, scheme: str) -> Seen | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return None if not data else Seen(scheme, "?", "?", {}, data)
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, *_ = [*lines[0].split(" "), "", ""]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return Seen(scheme, method, target, headers, body)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


__all__ = ["ACCESS_PREFIX", "Answer", "HostileServer", "Seen", "listing", "make_certificates", "token_answer"]


# --- running crawls against these servers ----------------------------------------------------

def hostile_settings(root: Any, api_url: str, *, auth_url: str | None = None, image_hosts: list[str] | None = None,
                     refresh_token: str = "hostile-refresh-token", **overrides: Any) -> dict[str, Any]:
    """Project settings aimed at a hostile API (its token endpoint at ``/auth/token`` unless given)."""
    from tests.crawl import project_settings

    values = {
        "PIXIV_API_URL": api_url,
        "PIXIV_AUTH_URL": auth_url or f"{api_url}/auth/token",
        "PIXIV_IMAGE_HOSTS": image_hosts or ["i.pximg.net"],
        "PIXIV_REFRESH_TOKEN": refresh_token,
        "PIXIV_TOKEN_FILE": str(root / "token.json"),
        "PIXIV_DATABASE_URL": f"sqlite:///{root / 'pixiv.db'}",
        "FILES_STORE": str(root / "files"),
        "PIXIV_RETRY_BACKOFF": 0.01,
        "PIXIV_RETRY_BACKOFF_MAX": 0.02,
    }
    return project_settings(**{**values, **overrides})


async def crawl_with(settings: dict[str, Any], spider: str = "ranking", *, scheduled: list[Any] | None = None,
                     **args: Any) -> Any:
    """Run a spider in-process with ``settings``; returns the crawler.

    ``scheduled`` collects every request the scheduler took (what JOBDIR would store).
    """
    from scrapy.settings import Settings
    from scrapy.spiderloader import SpiderLoader
    from scrapy.utils.test import get_crawler

    spidercls = SpiderLoader.from_settings(Settings(settings)).load(spider)
    crawler = get_crawler(spidercls, settings)
    if scheduled is not None:
        from scrapy import signals

        crawler.signals.connect(lambda request, **_: scheduled.append(request),
                                signal=signals.request_scheduled, weak=False)
    await crawler.crawl_async(**args)
    return crawler


def files_text(root: Any) -> bytes:
    """The bytes of every file under ``root`` (SQLite databases also as their SQL dump)."""
    import sqlite3
    from pathlib import Path

    out = []
    for path in sorted(Path(root).rglob("*")):
        if path.is_file():
            out.append(path.read_bytes())
            if path.suffix == ".db":
                with sqlite3.connect(path) as db:
                    out.append("\n".join(db.iterdump()).encode())
    return b"\n".join(out)
