"""The pixivpy3 baseline: a ranking and its originals, the way pixivpy's README does it.

Sequential ``api.illust_ranking(...)``, ``api.parse_qs(next_url)`` paging and one
``api.download()`` per original image (every page of multi-page works), no database.
pixivpy's API and auth hosts are fixed; setting ``api.hosts`` to the sandbox makes
both go there (pixivpy sends auth to ``<hosts>/auth/token`` once hosts is changed,
the same redirect pixivpy offers for API proxies).

    python bench/pixivpy_baseline.py --api http://127.0.0.1:PORT --out DIR --date 2026-10-30 [--works N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from pixivpy3 import AppPixivAPI


def originals(illust: dict) -> list[str]:
    if illust.get("meta_pages"):
        return [p["image_urls"]["original"] for p in illust["meta_pages"]]
    url = (illust.get("meta_single_page") or {}).get("original_image_url")
    return [url] if url and "/common/images/limit_" not in url else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--mode", default="day")
    parser.add_argument("--date", required=True)
    parser.add_argument("--works", type=int, default=0)
    parser.add_argument("--refresh-token", default="sandbox-refresh-token")
    args = parser.parse_args(argv)

    api = AppPixivAPI()
    api.hosts = args.api.rstrip("/")
    api.auth(refresh_token=args.refresh_token)
    os.makedirs(args.out, exist_ok=True)
    start = time.perf_counter()
    works = files = requests = 0
    qs: dict = {"mode": args.mode, "date": args.date}
    while qs:
        json_result = api.illust_ranking(**qs)
        requests += 1
        if "illusts" not in json_result:
            print(f"API error: {json_result}", file=sys.stderr)
            return 1
        for illust in json_result.illusts:
            for url in originals(illust):
                api.download(url, path=args.out)
                files += 1
            works += 1
        if args.works and works >= args.works:
            break
        qs = api.parse_qs(json_result.next_url)
    print(json.dumps({"works": works, "files": files, "requests": requests,
                      "seconds": time.perf_counter() - start}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
