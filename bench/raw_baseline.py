"""The raw baseline: the same ranking pages with http.client, json.loads and sqlite3 executemany.

No framework, no validation models, no ORM: one keep-alive connection, pages
fetched one after another, and per page the same rows pixivcrawl writes
(illusts, users, tags, illust_tags, illust_pages, rankings) upserted with
``executemany`` (one transaction per ~500 works, like PIXIV_DB_BATCH_SIZE).
What pixivcrawl costs on top of this is the price of the framework.

    python bench/raw_baseline.py --api http://127.0.0.1:PORT --db /tmp/raw.db --date 2026-10-30 [--works N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import http.client
import json
import sqlite3
import sys
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

CLIENT_ID = "MOBrBDS8blbauoSck0ZfDbtuzpyT"
CLIENT_SECRET = "lsACyCD94FhDUtGTXi3QzcFE2uU1hqtDaKeqrdwj"
HASH_SECRET = "28c1fdd170a5204386cb1313c7077b34f83e4aaf4aa829ce78c231e05b0bae2c"

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT, account TEXT, profile_image_url TEXT,
  is_followed INTEGER, first_seen_at TEXT, last_seen_at TEXT);
CREATE TABLE IF NOT EXISTS illusts (id INTEGER PRIMARY KEY, user_id INTEGER, title TEXT, type TEXT, caption TEXT,
  restrict_ INTEGER, x_restrict INTEGER, sanity_level INTEGER, ai_type INTEGER, book_style INTEGER,
  create_date TEXT, page_count INTEGER, width INTEGER, height INTEGER, total_view INTEGER, total_bookmarks INTEGER,
  is_bookmarked INTEGER, is_muted INTEGER, series_id INTEGER, tools TEXT, status TEXT,
  first_seen_at TEXT, last_seen_at TEXT);
CREATE TABLE IF NOT EXISTS tags (name TEXT PRIMARY KEY, translated_name TEXT);
CREATE TABLE IF NOT EXISTS illust_tags (illust_id INTEGER, tag TEXT, position INTEGER, PRIMARY KEY (illust_id, tag));
CREATE TABLE IF NOT EXISTS illust_pages (illust_id INTEGER, page INTEGER, original_url TEXT, square_medium_url TEXT,
  medium_url TEXT, large_url TEXT, PRIMARY KEY (illust_id, page));
CREATE TABLE IF NOT EXISTS rankings (mode TEXT, date TEXT, rank INTEGER, illust_id INTEGER, crawled_at TEXT,
  PRIMARY KEY (mode, date, rank));
"""

UPSERTS = {
    "users": "INSERT INTO users VALUES (?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET name=excluded.name, "
             "account=excluded.account, profile_image_url=excluded.profile_image_url, "
             "is_followed=excluded.is_followed, last_seen_at=excluded.last_seen_at",
    "illusts": "INSERT INTO illusts VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE "
               "SET title=excluded.title, caption=excluded.caption, total_view=excluded.total_view, "
               "total_bookmarks=excluded.total_bookmarks, status=excluded.status, last_seen_at=excluded.last_seen_at",
    "tags": "INSERT INTO tags VALUES (?,?) ON CONFLICT(name) DO UPDATE SET "
            "translated_name=coalesce(excluded.translated_name, tags.translated_name)",
    "illust_tags": "INSERT INTO illust_tags VALUES (?,?,?) ON CONFLICT DO UPDATE SET position=excluded.position",
    "illust_pages": "INSERT INTO illust_pages VALUES (?,?,?,?,?,?) ON CONFLICT DO UPDATE SET "
                    "original_url=excluded.original_url",
    "rankings": "INSERT INTO rankings VALUES (?,?,?,?,?) ON CONFLICT DO UPDATE SET illust_id=excluded.illust_id",
}


def token(conn: http.client.HTTPConnection, refresh_token: str) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Client-Time": now,
               "X-Client-Hash": hashlib.md5((now + HASH_SECRET).encode()).hexdigest()}
    body = urlencode({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "refresh_token",
                      "refresh_token": refresh_token, "get_secure_url": 1, "include_policy": "true"})
    conn.request("POST", "/auth/token", body, headers)
    response = conn.getresponse()
    data = json.loads(response.read())
    if response.status != 200:
        raise SystemExit(f"token refused: {data}")
    return data["access_token"]


def rows_of(page: list[dict[str, Any]], mode: str, date: str, first_rank: int, seen: str) -> dict[str, list[tuple]]:
    rows: dict[str, list[tuple]] = {k: [] for k in UPSERTS}
    for rank, il in enumerate(page, start=first_rank):
        user = il.get("user") or {}
        available = il.get("visible", True) and bool(il.get("title") or il.get("tags"))
        if user.get("id"):
            rows["users"].append((user["id"], user.get("name"), user.get("account"),
                                  (user.get("profile_image_urls") or {}).get("medium"),
                                  int(bool(user.get("is_followed"))), seen, seen))
        series = il.get("series") or {}
        rows["illusts"].append((il["id"], user.get("id") or None, il.get("title"), il.get("type"), il.get("caption"),
                                il.get("restrict"), il.get("x_restrict"), il.get("sanity_level"),
                                il.get("illust_ai_type"), il.get("illust_book_style"), il.get("create_date"),
                                il.get("page_count"), il.get("width"), il.get("height"), il.get("total_view"),
                                il.get("total_bookmarks"), int(bool(il.get("is_bookmarked"))),
                                int(bool(il.get("is_muted"))), series.get("id"), json.dumps(il.get("tools") or []),
                                "available" if available else "limited", seen, seen))
        rows["rankings"].append((mode, date, rank, il["id"], seen))
        if not available:
            continue
        for pos, tag in enumerate(il.get("tags") or []):
            rows["tags"].append((tag["name"], tag.get("translated_name")))
            rows["illust_tags"].append((il["id"], tag["name"], pos))
        metas = il.get("meta_pages") or []
        if metas:
            pages = [(m["image_urls"].get("original"), m["image_urls"]) for m in metas]
        else:
            pages = [((il.get("meta_single_page") or {}).get("original_image_url"), il.get("image_urls") or {})]
        for n, (original, urls) in enumerate(pages):
            rows["illust_pages"].append((il["id"], n, original, urls.get("square_medium"), urls.get("medium"),
                                         urls.get("large")))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--mode", default="day")
    parser.add_argument("--date", required=True, help="YYYY-MM-DD or START..END (one ranking per date)")
    parser.add_argument("--works", type=int, default=0, help="stop after this many works (0: the whole ranking)")
    parser.add_argument("--refresh-token", default="sandbox-refresh-token")
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args(argv)

    base = urlsplit(args.api)
    conn = http.client.HTTPConnection(base.hostname, base.port, timeout=60)
    headers = {"Authorization": f"Bearer {token(conn, args.refresh_token)}", "App-OS": "ios",
               "App-OS-Version": "16.7.2", "Accept-Language": "en",
               "User-Agent": "PixivIOSApp/7.19.1 (iOS 16.7.2; iPhone12,8)"}
    db = sqlite3.connect(args.db)
    db.executescript(SCHEMA)
    start_s, _, end_s = args.date.partition("..")
    first = dt.date.fromisoformat(start_s)
    last = dt.date.fromisoformat(end_s) if end_s else first
    dates = [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    works = requests = 0
    pending: dict[str, list[tuple]] = {k: [] for k in UPSERTS}
    pending_works = 0
    start = time.perf_counter()

    def flush() -> None:
        with db:
            for table, sql in UPSERTS.items():
                if pending[table]:
                    db.executemany(sql, pending[table])
                    pending[table].clear()

    for date in dates:
        rank = 0
        path = "/v1/illust/ranking?" + urlencode({"mode": args.mode, "filter": "for_ios", "date": date})
        if args.works and works >= args.works:
            break
        while path:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            requests += 1
            if response.status != 200:
                print(f"HTTP {response.status} on {path}: {body[:200]!r}", file=sys.stderr)
                return 1
            data = json.loads(body)
            illusts = data.get("illusts") or []
            seen = dt.datetime.now(dt.UTC).isoformat()
            for table, rows in rows_of(illusts, args.mode, date, rank + 1, seen).items():
                pending[table].extend(rows)
            works += len(illusts)
            rank += len(illusts)
            pending_works += len(illusts)
            if pending_works >= args.batch:
                flush()
                pending_works = 0
            next_url = data.get("next_url")
            if not next_url or (args.works and works >= args.works):
                break
            parts = urlsplit(next_url)
            path = f"{parts.path}?{parts.query}"
    flush()
    db.close()
    elapsed = time.perf_counter() - start
    print(json.dumps({"works": works, "requests": requests, "seconds": elapsed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
