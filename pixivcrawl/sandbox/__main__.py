"""python -m pixivcrawl.sandbox --port 8700 [flags]: run the sandbox until Ctrl-C / SIGTERM."""
from __future__ import annotations

import asyncio
import signal
import sys

from .config import SandboxConfig, build_parser
from .server import Sandbox


def standalone_config(config: SandboxConfig) -> SandboxConfig:
    # a fixed API port gets the next port for images, so URLs stay stable between runs
    if config.port and not config.image_port:
        return config.replace(image_port=config.port + 1)
    return config


async def serve(config: SandboxConfig) -> None:
    sandbox = Sandbox(standalone_config(config))
    await sandbox.start()
    print(f"pixiv sandbox: API {sandbox.api_url}  auth {sandbox.auth_url}  images {sandbox.image_url}  "
          f"refresh token {config.refresh_token!r}  login user {config.login_user_id}", flush=True)
    if sandbox.ca_bundle:
        print(f"pixiv sandbox: HTTPS with a generated CA; trust it in crawls with -s PIXIV_CA_BUNDLE={sandbox.ca_bundle}",
              flush=True)
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, done.set)
    try:
        await done.wait()
    finally:
        await sandbox.stop()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    asyncio.run(serve(SandboxConfig.from_args(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
