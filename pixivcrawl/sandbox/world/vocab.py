"""Fixed vocabularies: tags (as arithmetic progressions over work indexes), titles, names."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# translations per language; None means Pixiv has no translation for the tag
TR = dict[str, str]


@dataclass(frozen=True, eq=False)  # identity hash: tags are singletons
class Tag:
    """Works with index % period == offset carry the tag (so searches can jump, not scan)."""
    name: str
    period: int
    offset: int
    tr: TR | None
    exclude: Callable[[int], bool] | None = None

    def has(self, idx: int) -> bool:
        return idx % self.period == self.offset and not (self.exclude and self.exclude(idx))


def _group(period: int, items: list[tuple[str, TR | None]], start: int = 0) -> list[Tag]:
    return [Tag(n, period, start + i, tr) for i, (n, tr) in enumerate(items)]


def _t(en: str, zh: str | None = None) -> TR:
    return {"en": en, "zh": zh or en}


R18G_PERIOD, R18_PERIOD, AI_PERIOD = 101, 13, 17

# Every work carries exactly one tag of each of the first three groups (CRT keeps them independent).
TAGS: list[Tag] = (
    _group(10, [("オリジナル", _t("original", "原创")), ("女の子", _t("girl", "女孩子")), ("風景", _t("scenery", "风景")),
                ("猫", _t("cat", "猫")), ("ファンタジー", _t("fantasy", "奇幻")), ("制服", _t("uniform", "制服")),
                ("落書き", _t("doodle", "涂鸦")), ("創作", None), ("男の子", _t("boy", "男孩子")), ("空", _t("sky", "天空"))])
    + _group(7, [("ポケモン", _t("Pokémon", "宝可梦")), ("原神", _t("Genshin Impact", "原神")),
                 ("ブルーアーカイブ", _t("Blue Archive", "蔚蓝档案")), ("東方Project", _t("Touhou Project", "东方Project")),
                 ("ホロライブ", _t("hololive")), ("初音ミク", _t("Hatsune Miku", "初音未来")), ("艦これ", None)])
    + [Tag("R-18", R18_PERIOD, 0, None, exclude=lambda i: i % R18G_PERIOD == 0)]
    + _group(R18_PERIOD, [("水着", _t("swimsuit", "泳装")), ("着物", _t("kimono", "和服")), ("眼鏡", _t("glasses", "眼镜")),
                          ("ケモミミ", _t("kemonomimi", "兽耳")), ("百合", _t("yuri", "百合")), ("青空", _t("blue sky", "蓝天")),
                          ("花", _t("flower", "花")), ("夜景", _t("night view", "夜景")), ("桜", _t("cherry blossoms", "樱花")),
                          ("海", _t("sea", "海")), ("魔法少女", _t("magical girl", "魔法少女")), ("ドット絵", _t("pixel art", "像素画"))],
             start=1)
    + [Tag("AI生成", AI_PERIOD, 0, _t("AI-generated", "AI生成"))]
    + [Tag("R-18G", R18G_PERIOD, 0, None)]
    + _group(R18G_PERIOD, [("切り絵", _t("paper cutting", "剪纸")), ("水墨画", _t("ink wash painting", "水墨画")),
                           ("ジオラマ", _t("diorama", "微缩模型")), ("pixivファンタジア", None)], start=1)
    + _group(997, [("sandbox-rare", None), ("幻のタグ", _t("phantom tag", "幻之标签"))])
)
TAG_BY_NAME = {t.name: t for t in TAGS}

TITLE_A = ["夏の", "夜の", "青い", "小さな", "静かな", "遠い", "秘密の", "最後の", "始まりの", "雨の", "星の"]
TITLE_B = ["約束", "記憶", "物語", "風景", "少女", "午後", "旅", "花束", "手紙", "世界", "夢", "庭", "街",
           "海辺", "空色", "光", "影", "歌", "扉"]

NAME_A = ["さくら", "ゆき", "そら", "ひなた", "みお", "りん", "かえで", "あおい", "Kei", "Mika", "Ren", "Nao", "千尋", "葵", "蒼"]
NAME_B = ["", "@お仕事募集中", "🌸", "（低浮上）", " / skeb", "_illust", "＠絵描き", " FANBOX更新中"]

TOOLS = ["CLIP STUDIO PAINT", "SAI", "Photoshop", "Procreate", "Krita", "ibisPaint", "MediBang Paint"]
BOOKMARK_TAGS = ["お気に入り", "資料", "fav", "あとで見る", "神絵"]
REGIONS = [("Japan", "JP"), ("Tokyo", "JP"), ("Osaka", "JP"), ("Taiwan", "TW"), ("United States", "US"), ("", "")]
JOBS = ["", "学生", "イラストレーター", "会社員", "漫画家", "デザイナー"]

NOVEL_SENTENCES = [
    "窓の外では、雨が静かに降り続いていた。",
    "彼女は小さく息を吐いて、ペンを置いた。",
    "「それで、本当にいいの？」と彼は尋ねた。",
    "遠くで汽笛が鳴り、街の灯りがひとつずつ消えていく。",
    "The letter said only: {\"meet me at noon\"}.",
    "記号のテスト: } ] ) \\ / \" ' < > & %s {0} — 終わり。",
    "朝の光が、机の上の古い地図を照らしていた。",
    "誰もいない教室に、チャイムの音だけが響いた。",
]
RUBY = [("漢字", "かんじ"), ("約束", "やくそく"), ("硝子", "がらす"), ("黄昏", "たそがれ"), ("蒼穹", "そうきゅう")]
