"""Downloader middlewares: authentication (auth.py) and App API errors (errors.py)."""

from pixivcrawl.middlewares.auth import PixivAuthMiddleware
from pixivcrawl.middlewares.errors import PixivApiErrorMiddleware

__all__ = ["PixivApiErrorMiddleware", "PixivAuthMiddleware"]
