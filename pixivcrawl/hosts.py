"""The one host policy: which origins a request may go to, and what it may carry there.

Every destination is an *origin*: scheme + host + port, compared case-insensitively
(``https://I.PXIMG.NET`` is ``https://i.pximg.net:443``). The rules:

- ``https`` only, except to loopback addresses (``127.0.0.0/8``, ``::1``,
  ``localhost``: the sandbox), which may also use plain ``http``; every other
  scheme (``file``, ``ftp``, ``data``, ``s3`` ...) is refused;
- the Bearer token goes only to the API origin (PIXIV_API_URL), the refresh
  token only to the token endpoint (PIXIV_AUTH_URL, which follows no redirect);
- ``next_url`` is followed only on the API origin; files come only from the
  image origins (PIXIV_IMAGE_HOSTS: ``host``, ``host:port`` or ``scheme://host:port``);
- a redirect carries no credential and stays on its kind of origin (an API
  answer never comes from an image host, nor the reverse).

The auth middleware, the redirect middleware, the files pipeline, the spiders'
paging and ``scrapy login`` all ask :class:`HostPolicy`; none checks hosts itself.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self
from urllib.parse import SplitResult, urlsplit

if TYPE_CHECKING:
    from collections.abc import Iterable

    from scrapy.settings import BaseSettings

DEFAULT_PORTS = {"http": 80, "https": 443}
#: The most origins :class:`HostPolicy` remembers verdicts for (then it starts over).
_VERDICTS_KEPT = 4096


@functools.lru_cache(maxsize=256)
def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an IP literal, without brackets) is this machine.

    Cached: every plain-http request asks (each file from the sandbox: about 5% of the reactor's time
    went to parsing the same address again).
    """
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Origin:
    """``scheme://host:port``, lower-cased, with the scheme's default port filled in."""

    scheme: str
    host: str
    port: int | None

    @classmethod
    def of(cls, url: str | None) -> Origin | None:
        """The origin of ``url``, or None if it has no usable scheme and host."""
        try:
            parts = urlsplit((url or "").strip())
            port = parts.port
        except ValueError:
            return None
        return cls._from_parts(parts, port)

    @classmethod
    def _from_parts(cls, parts: SplitResult, port: int | None) -> Origin | None:
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        if not scheme or not host:
            return None
        return cls(scheme, host, port if port is not None else DEFAULT_PORTS.get(scheme))

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def secure(self) -> bool:
        """Whether a request may go to this origin at all: https, or http to loopback."""
        return self.scheme == "https" or (self.scheme == "http" and self.loopback)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = DEFAULT_PORTS.get(self.scheme)
        return f"{self.scheme}://{host}" + ("" if self.port == default else f":{self.port}")


def image_origins(entry: str) -> set[Origin]:
    """The origins one PIXIV_IMAGE_HOSTS entry allows.

    ``scheme://host[:port]`` is that origin; a bare ``host[:port]`` is https, and
    for a loopback host (the sandbox) http too.
    """
    entry = entry.strip()
    if "://" in entry:
        origin = Origin.of(entry)
        return {origin} if origin is not None else set()
    https = Origin.of(f"https://{entry}")
    if https is None:
        return set()
    origins = {https}
    if https.loopback:
        http = Origin.of(f"http://{entry}")
        assert http is not None
        origins.add(http)
    return origins


def same_url(a: str, b: str) -> bool:
    """Whether two URLs are the same, host case and default ports aside."""
    pa, pb = urlsplit(a), urlsplit(b)
    return Origin.of(a) == Origin.of(b) and (pa.path, pa.query) == (pb.path, pb.query)


class Destination(enum.Enum):
    """What a URL is to pixivcrawl."""

    API = "api"
    AUTH = "auth"
    IMAGE = "image"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Where a URL goes, and if refused, why (``scheme`` or ``host``, and a sentence)."""

    destination: Destination
    reason: str = ""
    detail: str = ""

    @property
    def refused(self) -> bool:
        return self.destination is Destination.REFUSED


class HostPolicy:
    """The API origin, the token endpoint and the image origins, and what may go where."""

    def __init__(self, *, api_url: str, auth_url: str, image_hosts: Iterable[str]) -> None:
        self.api = Origin.of(api_url)
        self.auth_url = auth_url or ""
        self.auth = Origin.of(auth_url)
        self.images: frozenset[Origin] = frozenset(o for entry in image_hosts for o in image_origins(entry))
        # Verdicts by origin: the rules depend on nothing else (but for the refresh token's own URL).
        # By URL, a long crawl kept thousands of page URLs alive, one per page it went through.
        self._verdicts: dict[Origin, Verdict] = {}

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        return cls(
            api_url=settings["PIXIV_API_URL"],
            auth_url=settings["PIXIV_AUTH_URL"],
            image_hosts=settings.getlist("PIXIV_IMAGE_HOSTS"),
        )

    def classify(self, url: str, *, auth_request: bool = False) -> Verdict:
        """Where ``url`` goes. ``auth_request``: the request carries the refresh token."""
        origin = Origin.of(url)
        if origin is None:
            return Verdict(Destination.REFUSED, "scheme", f"{url!r} has no scheme and host")
        if auth_request:
            return self._classify_auth(url, origin)
        verdict = self._verdicts.get(origin)
        if verdict is None:
            if len(self._verdicts) >= _VERDICTS_KEPT:
                self._verdicts.clear()
            verdict = self._verdicts[origin] = self._classify(origin)
        return verdict

    def _classify_auth(self, url: str, origin: Origin) -> Verdict:
        if not origin.secure:
            return self._classify(origin)
        # The refresh token goes to the token endpoint itself, nowhere else on its host.
        if origin == self.auth and same_url(url, self.auth_url):
            return Verdict(Destination.AUTH)
        return Verdict(Destination.REFUSED, "host", f"{origin} is not the token endpoint {self.auth}")

    def _classify(self, origin: Origin) -> Verdict:
        if not origin.secure:
            why = "plain http is allowed only to loopback" if origin.scheme == "http" else "only https is allowed"
            return Verdict(Destination.REFUSED, "scheme", f"{origin}: {why}")
        if origin == self.api:
            return Verdict(Destination.API)
        if origin in self.images:
            return Verdict(Destination.IMAGE)
        return Verdict(Destination.REFUSED, "host", f"{origin} is not the API origin or in PIXIV_IMAGE_HOSTS")

    def is_api(self, url: str) -> bool:
        return self.classify(url).destination is Destination.API

    def is_image(self, url: str) -> bool:
        return self.classify(url).destination is Destination.IMAGE

    def redirect_allowed(self, source: str, target: str) -> Verdict:
        """Whether a redirect from ``source`` to ``target`` may be followed (without credentials).

        Never from the token endpoint; otherwise only to an allowed origin of the
        same kind (API to the API origin, an image to an image origin).
        """
        was = self.classify(source).destination
        verdict = self.classify(target)
        if verdict.refused:
            return verdict
        if was is Destination.API and verdict.destination is Destination.API:
            return verdict
        if was is Destination.IMAGE and verdict.destination is Destination.IMAGE:
            return verdict
        return Verdict(Destination.REFUSED, "redirect", f"a redirect from {Origin.of(source)} to {Origin.of(target)}")

    def setting_problems(self) -> list[str]:
        """One sentence per PIXIV_API_URL / PIXIV_AUTH_URL / PIXIV_IMAGE_HOSTS value that cannot work."""
        problems = []
        for name, origin in (("PIXIV_API_URL", self.api), ("PIXIV_AUTH_URL", self.auth)):
            if origin is None:
                problems.append(f"{name} is not a URL; expected https://host")
            elif not origin.secure:
                problems.append(
                    f"{name}={origin} is refused: only https is allowed (plain http only to loopback, the sandbox)"
                )
        for origin in self.images:
            if not origin.secure:
                problems.append(
                    f"PIXIV_IMAGE_HOSTS entry {origin} is refused: only https is allowed "
                    "(plain http only to loopback, the sandbox)"
                )
        return problems
