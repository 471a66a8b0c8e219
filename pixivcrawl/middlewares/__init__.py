"""Downloader middlewares: authentication (auth.py) and App API errors."""

from pixivcrawl.middlewares.auth import PixivAuthMiddleware

__all__ = ["PixivAuthMiddleware"]
