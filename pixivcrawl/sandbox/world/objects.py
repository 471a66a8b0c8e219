"""JSON shapes of illusts, novels, user details and the novel webview page, as the App API serves them."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from .core import JST, Work, WorldCore, _date_path
from .listings import Listings
from .rand import K_ILLUST, K_MISC, K_NOVEL, K_USER, hexhash, mix, rng
from .social import Social
from .text import NovelText
from .users import Users
from .vocab import JOBS, REGIONS, TITLE_A, TITLE_B, TOOLS, Tag

Json = dict[str, Any]
SIZES = [(1000, 1414), (1200, 1200), (1920, 1080), (2480, 3508), (800, 600)]


@lru_cache(maxsize=1024)
def _tag_json(t: Tag, lang: str, novel: bool) -> Json:
    tr = t.tr.get(lang) if (t.tr and lang != "ja") else None
    item: Json = {"name": t.name, "translated_name": tr}
    if novel:
        item["added_by_uploaded_user"] = True
    return item


class Objects:
    """JSON shapes of works, user details and the novel webview, built from the other parts."""

    def __init__(self, core: WorldCore, social: Social, users: Users, listings: Listings, text: NovelText) -> None:
        self.core = core
        self.social = social
        self.users = users
        self.listings = listings
        self.text = text

    def illust_urls(self, w: Work, page: int) -> dict[str, str]:
        ts, b = _date_path(w.file_ts), self.core.image_base
        stem = f"{w.id}" if w.type == "ugoira" else f"{w.id}_p{page}"
        return {
            "square_medium": f"{b}/c/360x360_70/img-master/img/{ts}/{stem}_square1200.jpg",
            "medium": f"{b}/c/540x540_70/img-master/img/{ts}/{stem}_master1200.jpg",
            "large": f"{b}/c/600x1200_90/img-master/img/{ts}/{stem}_master1200.jpg",
        }

    def original_url(self, w: Work, page: int) -> str:
        ts = _date_path(w.file_ts)
        if w.type == "ugoira":
            return f"{self.core.image_base}/img-original/img/{ts}/{w.id}_ugoira0.jpg"
        return f"{self.core.image_base}/img-original/img/{ts}/{w.id}_p{page}.{w.ext}"

    def ugoira_zip_url(self, w: Work, big: bool = False) -> str:
        size = "1920x1080" if big else "600x600"
        return f"{self.core.image_base}/img-zip-ugoira/img/{self.core.date_path(w.file_ts)}/{w.id}_ugoira{size}.zip"

    def novel_cover_url(self, w: Work, size: str = "240x480_80") -> str:
        if w.idx % 4 == 0:
            n = 1 + w.idx % 8
            return self.core.placeholder(f"novel_thumb/novel_thumb_{n}_240mw.jpg")
        h = hexhash(self.core.seed, K_NOVEL, w.idx)
        path = f"novel-cover-master/img/{self.core.date_path(w.ts)}/ci{w.id}_{h}_master1200.jpg"
        return f"{self.core.image_base}/c/{size}/{path}"

    def user_detail(self, user_id: int, viewer: int = 0) -> Json:
        r = rng(self.core.seed, K_USER, 6, user_id)
        region, cc = r.choice(REGIONS)
        has_bg = r.random() < 0.3
        premium = r.random() < 0.2
        ts = self.core.date_path(self.users.user_reg_ts(user_id))
        counts = self.listings.user_work_counts(user_id)
        following = self.social.following_ids(user_id, "public")
        profile = {
            "webpage": f"https://example.com/{user_id}" if r.random() < 0.4 else None,
            "gender": r.choice(["", "male", "female"]),
            "birth": "", "birth_day": r.choice(["", "03-14", "12-25"]), "birth_year": r.choice([0, 1995, 2001]),
            "region": region, "address_id": 13 if cc == "JP" else 0, "country_code": cc,
            "job": r.choice(JOBS), "job_id": r.randrange(0, 12),
            "total_follow_users": len(following), "total_mypixiv_users": len(self.social.mypixiv_ids(user_id)),
            "total_illusts": counts["illust"], "total_manga": counts["manga"], "total_novels": counts["novel"],
            "total_illust_bookmarks_public": len(self.social.bookmark_entries(user_id, "illust", "public")),
            "total_illust_series": counts["illust_series"], "total_novel_series": counts["novel_series"],
            "background_image_url": (f"{self.core.image_base}/c/1200x600_90_a2_g5/background/img/{ts}/{user_id}_"
                                     f"{hexhash(self.core.seed, K_USER, 7, user_id)}_master1200.jpg")
            if has_bg else None,
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
        return {"user": self.users.user_obj(user_id, viewer, detail=True), "profile": profile,
                "profile_publicity": publicity, "workspace": workspace}

    # --- works ----------------------------------------------------------------------------
    def title(self, w: Work) -> str:
        i = w.idx + (7 if w.novel else 0)
        return TITLE_A[i % len(TITLE_A)] + TITLE_B[i % len(TITLE_B)]

    def tags_json(self, w: Work, lang: str, novel: bool = False) -> list[Json]:
        return [_tag_json(t, lang, novel) for t in self.core.work_tags(w.idx)]

    def series_title(self, series_id: int, novel: bool) -> str:
        r = rng(self.core.seed, K_MISC, 1, series_id, int(novel))
        return f"{r.choice(TITLE_A)}{r.choice(TITLE_B)}シリーズ" if novel else f"{r.choice(TITLE_B)}まとめ"

    def illust_obj(self, w: Work, viewer: int = 0, lang: str = "en", detail: bool = False) -> Json:
        if w.deleted:
            return self.limited_obj(w, "unknown")
        if w.hidden:
            return self.limited_obj(w, w.hidden)
        width, height = SIZES[mix(self.core.seed, K_ILLUST, w.idx) % len(SIZES)]
        title = self.title(w)
        bm, views = self.core.counts(w)
        if w.pages == 1:
            single, metas = {"original_image_url": self.original_url(w, 0)}, []
        else:
            single = {}
            metas = [{"image_urls": {**self.illust_urls(w, p), "original": self.original_url(w, p)}}
                     for p in range(w.pages)]
        o: Json = {
            "id": w.id, "title": title, "type": w.type, "image_urls": self.illust_urls(w, 0),
            "caption": self.caption(w, title), "restrict": 0, "user": self.users.user_obj(w.user_id, viewer),
            "tags": self.tags_json(w, lang), "tools": [TOOLS[w.idx % len(TOOLS)]] if w.idx % 3 else [],
            "create_date": self.core.iso(w.ts), "page_count": w.pages, "width": width, "height": height,
            "sanity_level": 6 if w.x_restrict else (4 if w.idx % 9 == 0 else 2), "x_restrict": w.x_restrict,
            "series": {"id": w.series_id, "title": self.series_title(w.series_id, False)} if w.series_id else None,
            "meta_single_page": single, "meta_pages": metas, "total_view": views, "total_bookmarks": bm,
            "is_bookmarked": bool(viewer) and self.social.is_bookmarked(viewer, w), "visible": True, "is_muted": False,
            "illust_ai_type": w.ai_type, "illust_book_style": 1 if w.type == "manga" and w.idx % 2 else 0,
        }
        if detail:
            o["total_comments"] = self.social.comment_count(w)
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
        ph = self.core.placeholder(f"limit_{kind}_360.png")
        gone = kind == "unknown"
        user = {"id": 0 if gone else w.user_id, "name": "", "account": "",
                "profile_image_urls": {"medium": self.core.placeholder("no_profile.png")}}
        if w.novel:
            return {"id": w.id, "title": "", "caption": "", "restrict": 1 if kind == "mypixiv" else 0,
                    "x_restrict": 0, "is_original": False,
                    "image_urls": {"square_medium": ph, "medium": ph, "large": ph},
                    "create_date": self.core.iso(w.ts), "tags": [], "page_count": 0, "text_length": 0, "user": user,
                    "series": {}, "is_bookmarked": False, "total_bookmarks": 0, "total_view": 0, "visible": False,
                    "total_comments": 0, "is_muted": False, "is_mypixiv_only": kind == "mypixiv",
                    "is_x_restricted": False, "novel_ai_type": 0}
        return {"id": w.id, "title": "", "type": w.type,
                "image_urls": {"square_medium": ph, "medium": ph, "large": ph}, "caption": "",
                "restrict": 1 if kind == "mypixiv" else 0, "user": user, "tags": [], "tools": [],
                "create_date": self.core.iso(w.ts), "page_count": 1, "width": 100, "height": 100,
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
        bm, views = self.core.counts(w)
        cover = self.novel_cover_url(w)
        return {
            "id": w.id, "title": title, "caption": self.caption(w, title), "restrict": 0,
            "x_restrict": w.x_restrict, "is_original": w.idx % 3 == 0,
            "image_urls": {"square_medium": cover.replace("240x480_80", "128x128"), "medium": cover,
                           "large": cover.replace("240x480_80", "600x600")},
            "create_date": self.core.iso(w.ts), "tags": self.tags_json(w, lang, novel=True), "page_count": w.pages,
            "text_length": len(self.text.novel_text(w)), "user": self.users.user_obj(w.user_id, viewer),
            "series": {"id": w.series_id, "title": self.series_title(w.series_id, True)} if w.series_id else {},
            "is_bookmarked": bool(viewer) and self.social.is_bookmarked(viewer, w), "total_bookmarks": bm,
            "total_view": views, "visible": True, "total_comments": self.social.comment_count(w), "is_muted": False,
            "is_mypixiv_only": False, "is_x_restricted": False, "novel_ai_type": w.ai_type,
        }

    def webview_novel(self, w: Work, viewer: int = 0) -> dict[str, Any]:
        """The object embedded as `novel: {...}` in /webview/v2/novel (camelCase keys)."""
        bm, views = self.core.counts(w)
        members = self.core.series_members(w.series_id, True) if w.series_id else []
        members = [i for i in members if not self.core.novel(i).deleted]
        nav: dict[str, Any] = {"prevNovel": None, "nextNovel": None}
        if w.idx in members:
            pos = members.index(w.idx)
            for key, j in (("prevNovel", pos - 1), ("nextNovel", pos + 1)):
                if 0 <= j < len(members):
                    other = self.core.novel(members[j])
                    nav[key] = {"id": other.id, "viewable": True, "contentOrder": str(j + 1),
                                "title": self.title(other), "coverUrl": self.novel_cover_url(other),
                                "viewableMessage": None}
        illusts = {}
        text = self.text.novel_text(w)
        ref = f"{120_000_000 + (w.idx * 31) % max(1, self.core.n_illusts)}-1"
        if f"[pixivimage:{ref}]" in text:
            iw = self.core.illust((w.idx * 31) % max(1, self.core.n_illusts))
            # shape of this entry is a best guess: only `illusts` being a map keyed "<id>-<page>" is known
            illusts[ref] = {"illust": {"images": {"small": self.illust_urls(iw, 0)["square_medium"],
                                                  "medium": self.illust_urls(iw, 0)["medium"],
                                                  "original": self.original_url(iw, 0)}},
                            "id": str(iw.id), "page": 1, "visible": not (iw.deleted or iw.hidden)}
        return {
            "id": str(w.id), "title": self.title(w),
            "seriesId": str(w.series_id) if w.series_id else None,
            "seriesTitle": self.series_title(w.series_id, True) if w.series_id else None,
            "seriesIsWatched": False, "userId": str(w.user_id), "coverUrl": self.novel_cover_url(w),
            "tags": [t.name for t in self.core.work_tags(w.idx)], "caption": self.caption(w, self.title(w)),
            "cdate": datetime.fromtimestamp(w.ts, JST).strftime("%Y-%m-%d"),
            "rating": {"like": bm // 2, "bookmark": bm, "view": views}, "text": text, "marker": None,
            "illusts": illusts or [], "images": self.text.novel_images(w, text) or [], "seriesNavigation": nav,
            "glossaryItems": [],
            "replaceableItemIds": [], "aiType": w.ai_type, "isOriginal": w.idx % 3 == 0,
        }
