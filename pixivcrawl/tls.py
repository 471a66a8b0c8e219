"""TLS trust: every https connection verifies its certificate, in crawls and in ``scrapy login``.

Trusted: the system trust store, or only the CAs in PIXIV_CA_BUNDLE when it is
set (a PEM file; the sandbox's ``--tls`` CA, a company proxy's CA). The name
checked is the URL's host (DNS name or IP address). There is no switch to turn
verification off: a certificate that does not verify ends the crawl before
anything (a token above all) is sent over the connection.

- :class:`VerifyingDownloadHandler` is Scrapy's HTTP/1.1 handler with a context
  factory that always verifies against that trust root;
- :func:`ssl_context` is the same trust for the standard library (``scrapy login``);
- :func:`tls_failure` recognises a verification failure among download errors.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any

from OpenSSL import SSL
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from twisted.internet import ssl as twisted_ssl
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

from pixivcrawl.exceptions import ArgumentError

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from twisted.internet.interfaces import IOpenSSLClientConnectionCreator


def load_bundle(path: str) -> list[twisted_ssl.Certificate]:
    """The CA certificates of a PEM bundle; ArgumentError naming the setting otherwise."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        with open(path, "rb") as f:
            certificates = x509.load_pem_x509_certificates(f.read())
    except (OSError, ValueError) as exc:
        raise ArgumentError(
            f"bad PIXIV_CA_BUNDLE={path!r}: {exc}; expected a PEM file of CA certificates"
        ) from None
    return [twisted_ssl.Certificate.loadPEM(c.public_bytes(Encoding.PEM)) for c in certificates]


@implementer(IPolicyForHTTPS)
class VerifyingPolicy:
    """Twisted's browser-like policy (chain and host name checked) with our trust root."""

    def __init__(self, ca_bundle: str = "") -> None:
        self.trust_root: Any = (
            twisted_ssl.trustRootFromCertificates(load_bundle(ca_bundle)) if ca_bundle else twisted_ssl.platformTrust()
        )

        # One creator (one SSL context) per host name, reused by its connections.
        self._creators: dict[bytes, IOpenSSLClientConnectionCreator] = {}

    def creatorForNetloc(self, hostname: bytes, port: int) -> IOpenSSLClientConnectionCreator:
        if hostname not in self._creators:
            self._creators[hostname] = twisted_ssl.optionsForClientTLS(hostname.decode("ascii"), trustRoot=self.trust_root)
        return self._creators[hostname]


class VerifyingDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 download handler whose https connections always verify (PIXIV_CA_BUNDLE)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        # It is an IPolicyForHTTPS by @implementer, which mypy cannot see (zope.interface has no types).
        self._contextFactory = VerifyingPolicy(crawler.settings["PIXIV_CA_BUNDLE"])  # type: ignore[assignment]
        # Scrapy keeps CONCURRENT_REQUESTS_PER_DOMAIN idle connections per host; a slot with a higher
        # concurrency (the image slot) would open a new connection for most of its requests.
        slots = crawler.settings.getdict("DOWNLOAD_SLOTS").values()
        self._pool.maxPersistentPerHost = max([self._pool.maxPersistentPerHost,
                                               *(int(s.get("concurrency", 0)) for s in slots)])


def ssl_context(ca_bundle: str = "") -> ssl.SSLContext:
    """A verifying context for the standard library: the system store or PIXIV_CA_BUNDLE."""
    if ca_bundle:
        load_bundle(ca_bundle)  # the same message for a bad file as in a crawl
        return ssl.create_default_context(cafile=ca_bundle)
    return ssl.create_default_context()


#: Words of OpenSSL's and service_identity's verification errors.
_VERIFY_WORDS = ("certificate verify failed", "verificationerror", "doesn't match", "does not match",
                 "certificate_verify_failed", "self-signed", "self signed", "unknown ca", "hostname mismatch")


def tls_failure(exception: BaseException) -> str | None:
    """The reason, if ``exception`` (or what it wraps) is a failed certificate verification."""
    seen: set[int] = set()
    todo: list[Any] = [exception]
    while todo:
        exc = todo.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        value = getattr(exc, "value", None)  # a twisted Failure
        if value is not None and value is not exc:
            todo.append(value)
        todo.extend(getattr(exc, "reasons", None) or [])  # ResponseNeverReceived and friends
        todo.extend([exc.__cause__, exc.__context__] if isinstance(exc, BaseException) else [])
        if isinstance(exc, ssl.SSLCertVerificationError):
            return str(exc.verify_message or exc)
        text = f"{type(exc).__name__} {exc}".lower()
        tls_error = isinstance(exc, SSL.Error) or "verificationerror" in text or "ssl" in type(exc).__module__.lower()
        if tls_error and any(word in text for word in _VERIFY_WORDS):
            return _short_reason(str(exc))
    return None


def _short_reason(text: str) -> str:
    lowered = text.lower()
    if "doesn't match" in lowered or "does not match" in lowered or "verificationerror" in lowered:
        return "the certificate is for another name"
    return "the certificate is not trusted (unknown or self-signed issuer)"
