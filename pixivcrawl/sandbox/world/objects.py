"""JSON shapes of users, illusts and novels, as the App API serves them."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from .core import WorldCore, Work, _date_path
from .rand import K_ILLUST, K_MISC, K_NOVEL, K_USER, hexhash, mix, rng
from .vocab import JOBS, NAME_A, NAME_B, REGIONS, TITLE_A, TITLE_B, TOOLS, Tag

Json = dict[str, Any]
SIZES = [(1000, 1414), (1200, 1200), (1920, 1080), (2480, 3508), (800, 600)]


@lru_cache(maxsize=1024)
def _tag_json(t: Tag, lang: str, novel: bool) -> Json:
    tr = t.tr.get(lang) if (t.tr and lang != "ja") else None
    item: Json = {"name": t.name, "translated_name": tr}
    if novel:
        item["added_by_uploaded_user"] = True
    return item
USER_EPOCH = 1_300_000_000  # users "registered" between 2011 and the world's epoch


class ObjectsMixin(WorldCore):
    def __init__(self, *a, **kw) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*a, **kw)
        self._user_obj = lru_cache(maxsize=8192)(self._user_obj_impl)

    # --- URLs -----------------------------------------------------------------------------
    def placeholder(self, name: str) -> str:
        return f"{self.static_base}/common/images/{name}"

    def user_reg_ts(self, user_id: int) -> int:
        return USER_EPOCH + mix(self.seed, K_USER, 1, user_id) % max(1, self.epoch - USER_EPOCH - 86400 * 400)

    def avatar_url(self, user_id: int, size: int = 170) -> str:
        if mix(self.seed, K_USER, 2, user_id) % 10 == 0:
            return self.placeholder("no_profile.png")
        ts = self.date_path(self.user_reg_ts(user_id))
        suffix = f"_{size}" if size else ""
        return f"{self.image_base}/user-profile/img/{ts}/{user_id}_{hexhash(self.seed, K_USER, user_id)}{suffix}.jpg"

    def illust_urls(self, w: Work, page: int) -> dict[str, str]:
        ts, b = _date_path(w.file_ts), self.image_base
        stem = f"{w.id}" if w.type == "ugoira" else f"{w.id}_p{page}"
        return {
            "square_medium": f"{b}/c/360x360_70/img-master/img/{ts}/{stem}_square1200.jpg",
            "medium": f"{b}/c/540x540_70/img-master/img/{ts}/{stem}_master1200.jpg",
            "large": f"{b}/c/600x1200_90/img-master/img/{ts}/{stem}_master1200.jpg",
        }

    def original_url(self, w: Work, page: int) -> str:
        ts = _date_path(w.file_ts)
        if w.type == "ugoira":
            return f"{self.image_base}/img-original/img/{ts}/{w.id}_ugoira0.jpg"
        return f"{self.image_base}/img-original/img/{ts}/{w.id}_p{page}.{w.ext}"

    def ugoira_zip_url(self, w: Work, big: bool = False) -> str:
        size = "1920x1080" if big else "600x600"
        return f"{self.image_base}/img-zip-ugoira/img/{self.date_path(w.file_ts)}/{w.id}_ugoira{size}.zip"

    def novel_cover_url(self, w: Work, size: str = "240x480_80") -> str:
        if w.idx % 4 == 0:
            n = 1 + w.idx % 8
            return self.placeholder(f"novel_thumb/novel_thumb_{n}_240mw.jpg")
        h = hexhash(self.seed, K_NOVEL, w.idx)
        return f"{self.image_base}/c/{size}/novel-cover-master/img/{self.date_path(w.ts)}/ci{w.id}_{h}_master1200.jpg"

    # --- users ----------------------------------------------------------------------------
    def user_name(self, user_id: int) -> tuple[str, str]:
        h = mix(self.seed, K_USER, 3, user_id)
        name = NAME_A[h % len(NAME_A)] + NAME_B[(h >> 8) % len(NAME_B)]
        return name, f"user_{hexhash(self.seed, K_USER, 4, user_id, n=6)}{user_id}"

    def user_obj(self, user_id: int, viewer: int = 0, detail: bool = False) -> Json:
        """Shared (cached) dict: callers must not mutate it."""
        return self._user_obj(user_id, viewer, detail)

    def _user_obj_impl(self, user_id: int, viewer: int = 0, detail: bool = False) -> Json:
        name, account = self.user_name(user_id)
        u: Json = {"id": user_id, "name": name, "account": account,
                   "profile_image_urls": {"medium": self.avatar_url(user_id)}}
        if detail:
            u["comment"] = f"{name}です。\r\nイラストを描いています。\r\nhttps://example.com/{account}"
        u["is_followed"] = bool(viewer) and self.is_following(viewer, user_id)
        # Users embedded in works carry neither flag: the detail has is_access_blocking_user,
        # user_previews is_accept_request (see user_preview_user).
        if detail:
            u["is_access_blocking_user"] = False
        return u

    def user_preview_user(self, user_id: int, viewer: int = 0) -> Json:
        """The ``user`` of a ``user_previews`` entry (following, follower, mypixiv, related, search)."""
        return {**self.user_obj(user_id, viewer), "is_accept_request": mix(self.seed, K_USER, 5, user_id) % 4 == 0}

    def is_muted(self, user_id: int) -> bool:
        """Whether the account muted this user (one in ten): ``is_muted`` of user_previews."""
        return mix(self.seed, K_USER, 8, user_id) % 10 == 0

    def user_detail(self, user_id: int, viewer: int = 0) -> Json:
        r = rng(self.seed, K_USER, 6, user_id)
        region, cc = r.choice(REGIONS)
        has_bg = r.random() < 0.3
        premium = r.random() < 0.2
        ts = self.date_path(self.user_reg_ts(user_id))
        counts = self.user_work_counts(user_id)
        following = self.following_ids(user_id, "public")
        profile = {
            "webpage": f"https://example.com/{user_id}" if r.random() < 0.4 else None,
            "gender": r.choice(["", "male", "female"]),
            "birth": "", "birth_day": r.choice(["", "03-14", "12-25"]), "birth_year": r.choice([0, 1995, 2001]),
            "region": region, "address_id": 13 if cc == "JP" else 0, "country_code": cc,
            "job": r.choice(JOBS), "job_id": r.randrange(0, 12),
            "total_follow_users": len(following), "total_mypixiv_users": len(self.mypixiv_ids(user_id)),
            "total_illusts": counts["illust"], "total_manga": counts["manga"], "total_novels": counts["novel"],
            "total_illust_bookmarks_public": len(self.bookmark_entries(user_id, "illust", "public")),
            "total_illust_series": counts["illust_series"], "total_novel_series": counts["novel_series"],
            "background_image_url": (f"{self.image_base}/c/1200x600_90_a2_g5/background/img/{ts}/{user_id}_"
                                     f"{hexhash(self.seed, K_USER, 7, user_id)}_master1200.jpg") if has_bg else None,
            "twitter_account": f"sb_{user_id}" if r.random() < 0.5 else "",
            "twitter_url": None, "pawoo_url": None, "is_premium": premium,
            "is_using_custom_profile_image": has_bg and premium,
        }
        if profile["twitter_account"]:
            profile["twitter_url"] = f"https://twitter.com/{profile['twitter_account']}"
        pub = lambda: r.choice(["public", "private"])  # noqa: E731
        publicity = {"gender": pub(), "region": pub(), "birth_day": pub(), "birth_year": pub(), "job": pub(),
                     "pawoo": False}
        workspace = {"pc": r.choice(["", "自作PC", "MacBook Pro"]), "monitor": r.choice(["", "27インチ"]),
                     "tool": r.choice(TOOLS), "scanner": "", "tablet": r.choice(["", "Wacom Intuos", "iPad Pro"]),
                     "mouse": "", "printer": "", "desktop": "", "music": r.choice(["", "ボカロ"]), "desk": "",
                     "chair": "", "comment": "", "workspace_image_url": None}
        return {"user": self.user_obj(user_id, viewer, detail=True), "profile": profile,
                "profile_publicity": publicity, "workspace": workspace}

    # --- works ----------------------------------------------------------------------------
    def title(self, w: Work) -> str:
        i = w.idx + (7 if w.novel else 0)
        return TITLE_A[i % len(TITLE_A)] + TITLE_B[i % len(TITLE_B)]

    def tags_json(self, w: Work, lang: str, novel: bool = False) -> list[Json]:
        return [_tag_json(t, lang, novel) for t in self.work_tags(w.idx)]

    def series_title(self, series_id: int, novel: bool) -> str:
        r = rng(self.seed, K_MISC, 1, series_id, int(novel))
        return f"{r.choice(TITLE_A)}{r.choice(TITLE_B)}シリーズ" if novel else f"{r.choice(TITLE_B)}まとめ"

    def illust_obj(self, w: Work, viewer: int = 0, lang: str = "en", detail: bool = False) -> Json:
        if w.deleted:
            return self.limited_obj(w, "unknown")
        if w.hidden:
            return self.limited_obj(w, w.hidden)
        width, height = SIZES[mix(self.seed, K_ILLUST, w.idx) % len(SIZES)]
        title = self.title(w)
        bm, views = self.counts(w)
        if w.pages == 1:
            single, metas = {"original_image_url": self.original_url(w, 0)}, []
        else:
            single = {}
            metas = [{"image_urls": {**self.illust_urls(w, p), "original": self.original_url(w, p)}}
                     for p in range(w.pages)]
        o: Json = {
            "id": w.id, "title": title, "type": w.type, "image_urls": self.illust_urls(w, 0),
            "caption": self.caption(w, title), "restrict": 0, "user": self.user_obj(w.user_id, viewer),
            "tags": self.tags_json(w, lang), "tools": [TOOLS[w.idx % len(TOOLS)]] if w.idx % 3 else [],
            "create_date": self.iso(w.ts), "page_count": w.pages, "width": width, "height": height,
            "sanity_level": 6 if w.x_restrict else (4 if w.idx % 9 == 0 else 2), "x_restrict": w.x_restrict,
            "series": {"id": w.series_id, "title": self.series_title(w.series_id, False)} if w.series_id else None,
            "meta_single_page": single, "meta_pages": metas, "total_view": views, "total_bookmarks": bm,
            "is_bookmarked": bool(viewer) and self.is_bookmarked(viewer, w), "visible": True, "is_muted": False,
            "illust_ai_type": w.ai_type, "illust_book_style": 1 if w.type == "manga" and w.idx % 2 else 0,
        }
        if detail:
            o["total_comments"] = self.comment_count(w)
            o["comment_access_control"] = 0
        if w.idx % 97 == 5:
            o["restriction_attributes"] = ["restricted_mode"]
        return o

    def caption(self, w: Work, title: str) -> str:
        k = w.idx % 4
        if k == 0:
            return ""
        if k == 1:
            return f"「{title}」です。<br />よろしくお願いします！"
        if k == 2:
            return (f"{title}<br /><br />依頼はこちら → <a href=\"https://example.com/commission\" target=\"_blank\">"
                    f"https://example.com/commission</a>")
        return f"<strong>{title}</strong> &amp; more &lt;3 #sandbox"

    def limited_obj(self, w: Work, kind: str) -> Json:
        """The hidden/deleted shape of reference §4.4 (width/height 100, empty text, placeholder URLs)."""
        ph = self.placeholder(f"limit_{kind}_360.png")
        gone = kind == "unknown"
        user = {"id": 0 if gone else w.user_id, "name": "", "account": "",
                "profile_image_urls": {"medium": self.placeholder("no_profile.png")}}
        if w.novel:
            return {"id": w.id, "title": "", "caption": "", "restrict": 1 if kind == "mypixiv" else 0,
                    "x_restrict": 0, "is_original": False,
                    "image_urls": {"square_medium": ph, "medium": ph, "large": ph},
                    "create_date": self.iso(w.ts), "tags": [], "page_count": 0, "text_length": 0, "user": user,
                    "series": {}, "is_bookmarked": False, "total_bookmarks": 0, "total_view": 0, "visible": False,
                    "total_comments": 0, "is_muted": False, "is_mypixiv_only": kind == "mypixiv",
                    "is_x_restricted": False, "novel_ai_type": 0}
        return {"id": w.id, "title": "", "type": w.type,
                "image_urls": {"square_medium": ph, "medium": ph, "large": ph}, "caption": "",
                "restrict": 1 if kind == "mypixiv" else 0, "user": user, "tags": [], "tools": [],
                "create_date": self.iso(w.ts), "page_count": 1, "width": 100, "height": 100,
                "sanity_level": 0, "x_restrict": 0, "series": None, "comment_access_control": 0,
                "meta_single_page": {"original_image_url": ph}, "meta_pages": [], "total_view": 0,
                "total_bookmarks": 0, "is_bookmarked": False, "visible": False, "is_muted": False,
                "illust_ai_type": 0, "illust_book_style": 0}

    def novel_obj(self, w: Work, viewer: int = 0, lang: str = "en") -> Json:
        if w.deleted:
            return self.limited_obj(w, "unknown")
        if w.hidden:
            return self.limited_obj(w, w.hidden)
        title = self.title(w)
        bm, views = self.counts(w)
        cover = self.novel_cover_url(w)
        return {
            "id": w.id, "title": title, "caption": self.caption(w, title), "restrict": 0,
            "x_restrict": w.x_restrict, "is_original": w.idx % 3 == 0,
            "image_urls": {"square_medium": cover.replace("240x480_80", "128x128"), "medium": cover,
                           "large": cover.replace("240x480_80", "600x600")},
            "create_date": self.iso(w.ts), "tags": self.tags_json(w, lang, novel=True), "page_count": w.pages,
            "text_length": len(self.novel_text(w)), "user": self.user_obj(w.user_id, viewer),
            "series": {"id": w.series_id, "title": self.series_title(w.series_id, True)} if w.series_id else {},
            "is_bookmarked": bool(viewer) and self.is_bookmarked(viewer, w), "total_bookmarks": bm,
            "total_view": views, "visible": True, "total_comments": self.comment_count(w), "is_muted": False,
            "is_mypixiv_only": False, "is_x_restricted": False, "novel_ai_type": w.ai_type,
        }

    # overridden by other mixins
    def is_following(self, viewer: int, user_id: int) -> bool: ...  # type: ignore[empty-body]
    def is_bookmarked(self, viewer: int, w: Work) -> bool: ...  # type: ignore[empty-body]
    def comment_count(self, w: Work) -> int: ...  # type: ignore[empty-body]
    def novel_text(self, w: Work) -> str: ...  # type: ignore[empty-body]
    def following_ids(self, user_id: int, restrict: str) -> list[int]: ...  # type: ignore[empty-body]
    def mypixiv_ids(self, user_id: int) -> list[int]: ...  # type: ignore[empty-body]
    def bookmark_entries(self, user_id: int, kind: str, restrict: str) -> list[Any]: ...  # type: ignore
    def user_work_counts(self, user_id: int) -> dict[str, int]: ...  # type: ignore[empty-body]
