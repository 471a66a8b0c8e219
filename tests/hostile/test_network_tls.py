"""TLS is verified on every https connection: the sandbox over HTTPS works with its CA, and a
wrong-name or self-signed certificate ends the crawl (and ``scrapy login``) before any token is sent."""

from __future__ import annotations

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.sandbox.tls import make_certificates
from tests.crawl import Archive, crawl, scrapy_command
from tests.hostile.network_server import token_answer

DATE = "2026-10-30"
REFRESH = "rt-must-never-leave-the-machine"


@deferred_f_from_coro_f
async def test_the_sandbox_over_https_is_archived_when_its_ca_is_trusted(make_sandbox, tmp_path) -> None:
    sandbox = make_sandbox(tls=True, tls_dir=str(tmp_path / "tls"), ranking_size=4, page_size=2)
    assert sandbox.server.api_url.startswith("https://") and sandbox.server.ca_bundle
    archive = Archive(tmp_path / "archive")
    crawler = await crawl("ranking", sandbox, archive, settings={"PIXIV_CA_BUNDLE": sandbox.server.ca_bundle}, date=DATE)
    assert crawler.stats.get_value("finish_reason") == "finished"
    assert archive.count("rankings") == 4
    assert archive.query("SELECT count(*) FROM illust_pages WHERE local_path IS NOT NULL")[0][0] >= 4
    assert archive.stored_files()


@pytest.mark.slow
@pytest.mark.parametrize("bad", ["wrong_name", "self_signed"])
def test_an_untrusted_certificate_ends_the_crawl_with_one_line_and_no_token(bad, hostile, trusted, tmp_path) -> None:
    # The CA in PIXIV_CA_BUNDLE is trusted; the server shows a certificate for another
    # name signed by it, or one that signed itself.
    certificates = (make_certificates(tmp_path / "bad", names=("wrong.example",)) if bad == "wrong_name"
                    else make_certificates(tmp_path / "bad", self_signed=True))
    ca = certificates.ca if bad == "wrong_name" else trusted.ca
    server = hostile(token_answer, certificates=certificates)
    root = tmp_path / "run"
    root.mkdir()
    result = scrapy_command(
        "crawl", "ranking", "-a", f"date={DATE}",
        "-s", f"PIXIV_API_URL={server.url()}", "-s", f"PIXIV_AUTH_URL={server.url('/auth/token')}",
        "-s", f"PIXIV_CA_BUNDLE={ca}", "-s", f"PIXIV_DATABASE_URL=sqlite:///{root / 'pixiv.db'}",
        "-s", f"FILES_STORE={root / 'files'}", "-s", f"PIXIV_TOKEN_FILE={root / 'token.json'}",
        "-s", "LOG_LEVEL=DEBUG", "-s", f"LOG_FILE={root / 'crawl.log'}",
        cwd=tmp_path, env={"PIXIV_REFRESH_TOKEN": REFRESH},
    )
    assert result.returncode == 1
    log = (root / "crawl.log").read_text()
    tls_lines = [line for line in log.splitlines() if "TLS:" in line and "ERROR" in line]
    assert len(tls_lines) == 1, tls_lines
    assert f"127.0.0.1:{server.port} did not verify" in tls_lines[0]
    reason = "another name" if bad == "wrong_name" else "not trusted"
    assert reason in tls_lines[0]
    assert server.requests == []  # the handshake failed: not one request line, header or body arrived
    assert server.tls_handshake_failures >= 1
    assert REFRESH not in log + result.stderr + result.stdout


def test_scrapy_login_verifies_tls_and_sends_nothing_to_a_wrong_name(hostile, tmp_path) -> None:
    certificates = make_certificates(tmp_path / "bad", names=("wrong.example",))
    server = hostile(token_answer, certificates=certificates)
    result = scrapy_command(
        "login", "--token", REFRESH, "-s", f"PIXIV_AUTH_URL={server.url('/auth/token')}",
        "-s", f"PIXIV_CA_BUNDLE={certificates.ca}", "-s", f"PIXIV_TOKEN_FILE={tmp_path / 'token.json'}",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "TLS:" in result.stderr and f"127.0.0.1:{server.port} did not verify" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert server.requests == [] and not (tmp_path / "token.json").exists()


def test_scrapy_login_works_over_https_with_the_sandbox_ca(make_sandbox, tmp_path) -> None:
    sandbox = make_sandbox(tls=True, tls_dir=str(tmp_path / "tls"))
    result = scrapy_command(
        "login", "--token", sandbox.config.refresh_token, "-s", f"PIXIV_AUTH_URL={sandbox.server.auth_url}",
        "-s", f"PIXIV_CA_BUNDLE={sandbox.server.ca_bundle}", "-s", f"PIXIV_TOKEN_FILE={tmp_path / 'token.json'}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "token.json").exists()


def test_plain_http_to_a_remote_host_is_refused_before_any_request(tmp_path) -> None:
    result = scrapy_command("crawl", "ranking", "-s", "PIXIV_API_URL=http://app-api.pixiv.net",
                            "-s", f"PIXIV_TOKEN_FILE={tmp_path / 'token.json'}", cwd=tmp_path,
                            env={"PIXIV_REFRESH_TOKEN": REFRESH})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "pixivcrawl: PIXIV_API_URL=http://app-api.pixiv.net is refused: only https is allowed "
        "(plain http only to loopback, the sandbox)"
    )
