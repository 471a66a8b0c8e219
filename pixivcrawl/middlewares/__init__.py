"""Downloader middlewares: authentication (auth.py), App API errors (errors.py), redirects (redirect.py)."""

from pixivcrawl.middlewares.auth import PixivAuthMiddleware
from pixivcrawl.middlewares.errors import PixivApiErrorMiddleware
from pixivcrawl.middlewares.redirect import PixivRedirectMiddleware

__all__ = ["PixivApiErrorMiddleware", "PixivAuthMiddleware", "PixivRedirectMiddleware"]
