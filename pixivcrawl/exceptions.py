"""pixivcrawl's exceptions.

PixivError
 +-- ArgumentError      a spider argument or setting is wrong (stops before any request)
 +-- AuthError          Pixiv refused the refresh token (or there is none)
"""

from __future__ import annotations


class PixivError(Exception):
    """Base of pixivcrawl's exceptions."""


class ArgumentError(PixivError, ValueError):
    """A bad spider argument or setting; the message names it and the fix."""


class AuthError(PixivError):
    """Pixiv refused to give an access token."""
