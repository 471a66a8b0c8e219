"""python -m pixivcrawl.sandbox.loadtest: measure sandbox pages/s (bounded, 127.0.0.1 only)."""
from __future__ import annotations

import argparse
import asyncio
import time

import aiohttp

from .oauth import CLIENT_ID, CLIENT_SECRET

PATHS = ["/v1/illust/ranking?mode=day&date={d}", "/v1/illust/detail?illust_id={i}", "/v1/user/detail?user_id={u}",
         "/v1/search/illust?word=%E7%8C%AB&offset={o}", "/v1/user/illusts?user_id={u}"]


async def run(api_url: str, requests: int, concurrency: int, mix: str) -> tuple[int, float]:
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{api_url}/auth/token", data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                                                         "grant_type": "refresh_token",
                                                         "refresh_token": "sandbox-refresh-token"}) as r:
            token = (await r.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        counter = iter(range(requests))
        ok = 0

        async def worker() -> None:
            nonlocal ok
            for n in counter:
                if mix == "detail":
                    path = PATHS[1].format(i=120_000_000 + (n * 7919) % 1_000_000)
                elif mix == "ranking":
                    path = PATHS[0].format(d=f"2026-10-{1 + n % 28:02d}") + f"&offset={30 * (n // 28 % 4)}"
                else:
                    path = PATHS[n % len(PATHS)].format(d=f"2026-10-{1 + n % 28:02d}", i=120_000_000 + (n * 7919) % 1_000_000,
                                                        u=1 + n % 10_000, o=(n * 30) % 3000)
                async with s.get(api_url + path, headers=headers) as r:
                    await r.read()
                    ok += r.status == 200

        t = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return ok, time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--api-url", default="http://127.0.0.1:8700")
    p.add_argument("--requests", type=int, default=5000)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--mix", choices=["pages", "detail", "ranking"], default="pages")
    a = p.parse_args()
    if not a.api_url.startswith(("http://127.0.0.1", "http://localhost")):
        raise SystemExit("loadtest only targets a local sandbox")
    ok, dt = asyncio.run(run(a.api_url, a.requests, a.concurrency, a.mix))
    print(f"{ok}/{a.requests} OK in {dt:.2f}s = {ok / dt:.0f} pages/s")


if __name__ == "__main__":
    main()
