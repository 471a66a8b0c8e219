"""Users: names, accounts, avatars, registration times and the user object embedded in works."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from .core import WorldCore
from .rand import K_USER, hexhash, mix
from .social import Social
from .vocab import NAME_A, NAME_B

Json = dict[str, Any]
USER_EPOCH = 1_300_000_000  # users "registered" between 2011 and the world's epoch


class Users:
    """Who a user is: name, account, avatar, registration, and the user object works embed."""

    def __init__(self, core: WorldCore, social: Social) -> None:
        self.core = core
        self.social = social
        self._user_obj = lru_cache(maxsize=8192)(self._user_obj_impl)

    def user_reg_ts(self, user_id: int) -> int:
        return USER_EPOCH + mix(self.core.seed, K_USER, 1, user_id) % max(1, self.core.epoch - USER_EPOCH - 86400 * 400)

    def avatar_url(self, user_id: int, size: int = 170) -> str:
        if mix(self.core.seed, K_USER, 2, user_id) % 10 == 0:
            return self.core.placeholder("no_profile.png")
        ts = self.core.date_path(self.user_reg_ts(user_id))
        suffix = f"_{size}" if size else ""
        h = hexhash(self.core.seed, K_USER, user_id)
        return f"{self.core.image_base}/user-profile/img/{ts}/{user_id}_{h}{suffix}.jpg"

    def user_name(self, user_id: int) -> tuple[str, str]:
        h = mix(self.core.seed, K_USER, 3, user_id)
        name = NAME_A[h % len(NAME_A)] + NAME_B[(h >> 8) % len(NAME_B)]
        return name, f"user_{hexhash(self.core.seed, K_USER, 4, user_id, n=6)}{user_id}"

    def user_obj(self, user_id: int, viewer: int = 0, detail: bool = False) -> Json:
        """Shared (cached) dict: callers must not mutate it."""
        return self._user_obj(user_id, viewer, detail)

    def _user_obj_impl(self, user_id: int, viewer: int = 0, detail: bool = False) -> Json:
        name, account = self.user_name(user_id)
        u: Json = {"id": user_id, "name": name, "account": account,
                   "profile_image_urls": {"medium": self.avatar_url(user_id)}}
        if detail:
            u["comment"] = f"{name}です。\r\nイラストを描いています。\r\nhttps://example.com/{account}"
        u["is_followed"] = bool(viewer) and self.social.is_following(viewer, user_id)
        # Users embedded in works carry neither flag: the detail has is_access_blocking_user,
        # user_previews is_accept_request (see user_preview_user).
        if detail:
            u["is_access_blocking_user"] = False
        return u

    def user_preview_user(self, user_id: int, viewer: int = 0) -> Json:
        """The ``user`` of a ``user_previews`` entry (following, follower, mypixiv, related, search)."""
        return {**self.user_obj(user_id, viewer), "is_accept_request": mix(self.core.seed, K_USER, 5, user_id) % 4 == 0}

    def is_muted(self, user_id: int) -> bool:
        """Whether the account muted this user (one in ten): ``is_muted`` of user_previews."""
        return mix(self.core.seed, K_USER, 8, user_id) % 10 == 0
