"""The raw file floor: a ranking's originals with a plain thread pool, http.client, hashlib and os.replace.

No framework, no database, no image decoding: the main thread reads the
ranking pages one after another by ``next_url`` and hands every file to
``--threads`` download threads (the crawl's image slot concurrency), each with
its own keep-alive connections. A file is fetched with the Referer, its length
checked against Content-Length, hashed with sha256 and written atomically the
way pixivcrawl writes (a temporary file in a staging folder, fsync, rename).
Files are the ones the crawl stores with ``PIXIV_UGOIRA_FORMAT=zip``: the
original of every page, and for an ugoira its ``/v1/ugoira/metadata`` and the
1920x1080 zip (the 600x600 one when the large is missing).

    python bench/raw_files_baseline.py --api http://127.0.0.1:PORT --out DIR --date 2026-10-30 [--threads 8]
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import queue
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from raw_baseline import token  # type: ignore[import-not-found]  # run as a script, beside it

REFERER = "https://app-api.pixiv.net/"
COMMON_IMAGES = "/common/images/"


class Client:
    """Keep-alive connections of one thread, one per host:port."""

    def __init__(self, headers: dict[str, str] | None = None) -> None:
        self.headers = headers or {}
        self.connections: dict[tuple[str, int], http.client.HTTPConnection] = {}
        self.requests = 0

    def get(self, url: str, headers: dict[str, str]) -> tuple[int, bytes, str | None]:
        parts = urlsplit(url)
        key = (parts.hostname or "", parts.port or 80)
        path = f"{parts.path}?{parts.query}" if parts.query else parts.path
        for attempt in range(2):  # once more on a connection the server closed while idle
            conn = self.connections.get(key)
            if conn is None:
                conn = self.connections[key] = http.client.HTTPConnection(*key, timeout=60)
            try:
                conn.request("GET", path, headers={**self.headers, **headers})
                response = conn.getresponse()
                body = response.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                del self.connections[key]
                if attempt:
                    raise
                continue
            self.requests += 1
            return response.status, body, response.getheader("Content-Length")
        raise AssertionError("unreachable")


class Archive:
    """Where files go: ``<out>/<user_id>/<illust_id>_p<N>.<ext>``, staged in ``<out>/.incoming``."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.staging = out / ".incoming"
        self.staging.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.files = self.bytes = self.failed = 0

    def write(self, relative: str, body: bytes) -> None:
        path = self.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.staging / f"{path.name}.{threading.get_ident()}.tmp"
        with tmp.open("wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)

    def done(self, size: int | None) -> None:
        with self.lock:
            if size is None:
                self.failed += 1
            else:
                self.files += 1
                self.bytes += size


def fetch_file(client: Client, archive: Archive, url: str, relative: str) -> int:
    """The file's HTTP status; stored (hashed, written) when it is a whole 200."""
    status, body, length = client.get(url, {"Referer": REFERER})
    if status != 200:
        return status
    if length is not None and int(length) != len(body):
        raise OSError(f"{url}: {len(body)} of {length} bytes")
    hashlib.sha256(body).hexdigest()
    archive.write(relative, body)
    archive.done(len(body))
    return status


def suffix(url: str) -> str:
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    return "." + name.rsplit(".", 1)[1].lower() if "." in name else ".bin"


def download(job: tuple[Any, ...], client: Client, archive: Archive, api: str, api_headers: dict[str, str]) -> None:
    kind = job[0]
    if kind == "file":
        _, url, relative = job
        if fetch_file(client, archive, url, relative) != 200:
            archive.done(None)
        return
    # An ugoira: its metadata (an API call), then the big zip, else the small one.
    _, illust_id, user_id = job
    status, body, _ = client.get(f"{api}/v1/ugoira/metadata?{urlencode({'illust_id': illust_id})}", api_headers)
    if status != 200:
        archive.done(None)
        return
    small = json.loads(body)["ugoira_metadata"]["zip_urls"]["medium"]
    for url in (small.replace("_ugoira600x600.zip", "_ugoira1920x1080.zip"), small):
        size = "1920x1080" if "1920x1080" in url else "600x600"
        if fetch_file(client, archive, url, f"{user_id}/{illust_id}_ugoira{size}.zip") == 200:
            return
    archive.done(None)


def jobs_of(illust: dict[str, Any]) -> list[tuple[Any, ...]]:
    if not illust.get("visible", True) or not (illust.get("title") or illust.get("tags")):
        return []
    user_id = (illust.get("user") or {}).get("id")
    metas = illust.get("meta_pages") or []
    urls = [m["image_urls"].get("original") for m in metas] if metas else [
        (illust.get("meta_single_page") or {}).get("original_image_url")]
    jobs: list[tuple[Any, ...]] = [("file", url, f"{user_id}/{illust['id']}_p{n}{suffix(url)}")
                                   for n, url in enumerate(urls) if url and COMMON_IMAGES not in url]
    if illust.get("type") == "ugoira":
        jobs.append(("ugoira", illust["id"], user_id))
    return jobs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--mode", default="day")
    parser.add_argument("--date", required=True)
    parser.add_argument("--works", type=int, default=0, help="stop after this many works (0: the whole ranking)")
    parser.add_argument("--threads", type=int, default=8, help="download threads (the crawl's image concurrency)")
    parser.add_argument("--refresh-token", default="sandbox-refresh-token")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    base = urlsplit(args.api)
    api = f"{base.scheme}://{base.netloc}"
    auth = http.client.HTTPConnection(base.hostname, base.port, timeout=60)
    headers = {"Authorization": f"Bearer {token(auth, args.refresh_token)}", "App-OS": "ios",
               "App-OS-Version": "16.7.2", "Accept-Language": "en",
               "User-Agent": "PixivIOSApp/7.19.1 (iOS 16.7.2; iPhone12,8)"}
    auth.close()
    archive = Archive(Path(args.out))
    work: queue.Queue[tuple[Any, ...] | None] = queue.Queue()
    errors: list[BaseException] = []
    clients: list[Client] = []

    def worker() -> None:
        client = Client({"User-Agent": headers["User-Agent"]})
        clients.append(client)
        while (job := work.get()) is not None:
            try:
                download(job, client, archive, api, headers)
            except Exception as exc:  # counted, reported at the end
                errors.append(exc)
                archive.done(None)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    pages = Client(headers)
    works = 0
    url: str | None = f"{api}/v1/illust/ranking?" + urlencode({"mode": args.mode, "filter": "for_ios",
                                                                "date": args.date})
    while url:
        status, body, _ = pages.get(url, {})
        if status != 200:
            print(f"HTTP {status} on {url}: {body[:200]!r}", file=sys.stderr)
            return 1
        data = json.loads(body)
        for illust in data.get("illusts") or []:
            for job in jobs_of(illust):
                work.put(job)
            works += 1
        url = data.get("next_url")
        if args.works and works >= args.works:
            break
    for _ in threads:
        work.put(None)
    for thread in threads:
        thread.join()
    archive.staging.rmdir()
    elapsed = time.perf_counter() - start
    print(json.dumps({"works": works, "files": archive.files, "bytes": archive.bytes, "failed": archive.failed,
                      "requests": pages.requests + sum(c.requests for c in clients), "seconds": elapsed,
                      "errors": [str(e)[:200] for e in errors[:5]]}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
