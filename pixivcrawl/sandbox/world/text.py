"""Novel text (Pixiv markup) and the webview page's embedded novel object."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from .core import JST, WorldCore, Work
from .rand import K_NOVEL, hexhash, rng
from .vocab import NOVEL_SENTENCES, RUBY


class TextMixin(WorldCore):
    def __init__(self, *a, **kw) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*a, **kw)
        self._text = lru_cache(maxsize=512)(self._text_impl)

    def novel_text(self, w: Work) -> str:
        return self._text(w.idx)

    def _text_impl(self, idx: int) -> str:
        w = self.novel(idx)
        r = rng(self.seed, K_NOVEL, 9, idx)
        pages = []
        for p in range(w.pages):
            lines = [f"[chapter:第{p + 1}章 {r.choice(['はじまり', '雨の日', '約束 {仮}', '終わり'])}]", ""]
            for _ in range(r.randint(8, 30)):
                k = r.random()
                if k > 0.97 and idx % 2 == 0:  # images the author uploaded into the text
                    lines.append(f"[uploadedimage:{self.novel_image_id(w, len(pages))}]")
                    lines.append("")
                    continue
                if k < 0.1:
                    kanji, kana = r.choice(RUBY)
                    lines.append(f"その[[rb:{kanji}>{kana}]]は、まだ覚えている。")
                elif k < 0.13:
                    lines.append("[[jumpuri:サンドボックス > https://www.pixiv.net/]]")
                elif k < 0.15:
                    lines.append(f"[pixivimage:{120_000_000 + (idx * 31) % max(1, self.n_illusts)}-1]")
                else:
                    lines.append("".join(r.choice(NOVEL_SENTENCES) for _ in range(r.randint(1, 4))))
                lines.append("")
            pages.append("\n".join(lines))
        return "\n[newpage]\n".join(pages)

    #: Uploaded images of one novel at most: one per page, ids novel id * 100 + page.
    MAX_NOVEL_IMAGES = 100

    def novel_image_id(self, w: Work, page: int) -> int:
        return w.id * self.MAX_NOVEL_IMAGES + page % self.MAX_NOVEL_IMAGES

    def novel_image_url(self, w: Work, image_id: int, size: str | None) -> str:
        """An uploaded image's URL: ``tei<id>_<hash>`` under novel-cover-original (or -master in ``size``)."""
        h = hexhash(self.seed, K_NOVEL, 5, image_id)
        if size is None:
            return f"{self.image_base}/novel-cover-original/img/{self.date_path(w.ts)}/tei{image_id}_{h}.jpg"
        return f"{self.image_base}/c/{size}/novel-cover-master/img/{self.date_path(w.ts)}/tei{image_id}_{h}_master1200.jpg"

    def novel_images(self, w: Work, text: str) -> dict[str, Any]:
        """The webview ``images`` map of the ``[uploadedimage:N]`` in ``text`` (real shape: sl and urls as strings)."""
        images: dict[str, Any] = {}
        for page in range(w.pages):
            image_id = self.novel_image_id(w, page)
            if f"[uploadedimage:{image_id}]" in text:
                sizes = {"240mw": "240x480_80", "480mw": "480x960", "1200x1200": "1200x1200_80", "128x128": "128x128"}
                urls = {k: self.novel_image_url(w, image_id, v) for k, v in sizes.items()}
                images[str(image_id)] = {"novelImageId": str(image_id), "sl": "2",
                                         "urls": {**urls, "original": self.novel_image_url(w, image_id, None)}}
        return images

    def webview_novel(self, w: Work, viewer: int = 0) -> dict[str, Any]:
        """The object embedded as `novel: {...}` in /webview/v2/novel (camelCase keys)."""
        bm, views = self.counts(w)
        members = self.series_members(w.series_id, True) if w.series_id else []
        members = [i for i in members if not self.novel(i).deleted]
        nav: dict[str, Any] = {"prevNovel": None, "nextNovel": None}
        if w.idx in members:
            pos = members.index(w.idx)
            for key, j in (("prevNovel", pos - 1), ("nextNovel", pos + 1)):
                if 0 <= j < len(members):
                    other = self.novel(members[j])
                    nav[key] = {"id": other.id, "viewable": True, "contentOrder": str(j + 1),
                                "title": self.title(other), "coverUrl": self.novel_cover_url(other), "viewableMessage": None}
        illusts = {}
        text = self.novel_text(w)
        ref = f"{120_000_000 + (w.idx * 31) % max(1, self.n_illusts)}-1"
        if f"[pixivimage:{ref}]" in text:
            iw = self.illust((w.idx * 31) % max(1, self.n_illusts))
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
            "tags": [t.name for t in self.work_tags(w.idx)], "caption": self.caption(w, self.title(w)),
            "cdate": datetime.fromtimestamp(w.ts, JST).strftime("%Y-%m-%d"),
            "rating": {"like": bm // 2, "bookmark": bm, "view": views}, "text": text, "marker": None,
            "illusts": illusts or [], "images": self.novel_images(w, text) or [], "seriesNavigation": nav, "glossaryItems": [],
            "replaceableItemIds": [], "aiType": w.ai_type, "isOriginal": w.idx % 3 == 0,
        }
