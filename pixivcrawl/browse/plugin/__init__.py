"""pixivcrawl's Datasette plugin: thumbnails in cells, files from FILES_STORE, pages per work and user.

Configured under ``plugins.pixivcrawl`` in the metadata that ``scrapy browse`` builds:
``files_store`` (a local FILES_STORE) and ``show_explicit`` (R-18/R-18G unblurred in grids).
"""

from __future__ import annotations

import asyncio
import functools
import html
import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from datasette import hookimpl
from datasette.utils.asgi import Response, asgi_send_file
from markupsafe import Markup, escape

from pixivcrawl.browse.chart import stats_chart
from pixivcrawl.browse.cookbook import canned_queries as cookbook_queries
from pixivcrawl.browse.files import IMAGE_SUFFIXES, FileStore, media_type
from pixivcrawl.novel_text import reading_pages

if TYPE_CHECKING:
    from datasette.app import Datasette
    from datasette.utils.asgi import Request

NAME = "pixivcrawl"
#: Works on one grid page.
GRID_SIZE = 100
PATH_COLUMN = re.compile(r"(^|_)local_path$")

GRID_SQL = """
SELECT i.id, i.title, i.type, i.x_restrict, i.ai_type, i.status, i.page_count, i.user_id,
       u.name AS user_name, coalesce(g.animation_local_path, p.local_path) AS picture{extra}
FROM {source}
LEFT JOIN users u ON u.id = i.user_id
LEFT JOIN illust_pages p ON p.illust_id = i.id AND p.page = 0
LEFT JOIN ugoira g ON g.illust_id = i.id
WHERE {where}
ORDER BY {order}
LIMIT {limit} OFFSET :offset
"""

#: The same cells for novels (``source`` names them ``i`` too): the cover as the picture.
NOVEL_GRID_SQL = """
SELECT i.id, i.title, 'novel' AS type, i.x_restrict, i.ai_type, i.status, i.page_count, i.user_id,
       u.name AS user_name, i.cover_local_path AS picture{extra}
FROM {source}
LEFT JOIN users u ON u.id = i.user_id
WHERE {where}
ORDER BY {order}
LIMIT {limit} OFFSET :offset
"""


def config(datasette: Datasette) -> dict[str, Any]:
    return datasette.plugin_config(NAME) or {}


@functools.cache
def _store(root: str) -> FileStore:
    return FileStore(root)


def file_store(datasette: Datasette) -> FileStore | None:
    """The local FILES_STORE, or None when pixivcrawl has none to show (a remote store)."""
    root = config(datasette).get("files_store")
    return _store(root) if root else None


def file_url(datasette: Datasette, relative: str) -> str:
    return datasette.urls.path(f"/-/pixiv/files/{quote(relative)}")


def thumb_url(datasette: Datasette, relative: str) -> str:
    return datasette.urls.path(f"/-/pixiv/thumbs/{quote(relative)}")


def picture(datasette: Datasette, relative: str | None, *, explicit: bool = False, alt: str = "",
            full: bool = False) -> Markup:
    """A thumbnail (``full``: the file itself) linking to the full file; a plain link for files that are not pictures."""
    if not relative:
        return Markup("")
    if not relative.lower().endswith(tuple(IMAGE_SUFFIXES)):
        return Markup('<a href="{}">{}</a>').format(file_url(datasette, relative), relative)
    blur = explicit and not config(datasette).get("show_explicit")
    return Markup(
        '<a class="pixiv-thumb{}" href="{}"><img src="{}" alt="{}" title="{}" loading="lazy"></a>'
    ).format(" pixiv-explicit" if blur else "", file_url(datasette, relative),
             file_url(datasette, relative) if full else thumb_url(datasette, relative), alt or relative, relative)


@hookimpl
def extra_css_urls(datasette: Datasette) -> list[str]:
    return [datasette.urls.static_plugins(__name__, "pixiv.css")]


@hookimpl
def menu_links(datasette: Datasette) -> list[dict[str, str]]:
    return [{"href": datasette.urls.path("/-/pixiv/ranking"), "label": "Rankings (pictures)"},
            {"href": datasette.urls.path("/-/pixiv/ranking?kind=novel"), "label": "Rankings (novels)"}]


@hookimpl
def canned_queries(datasette: Datasette, database: str) -> dict[str, Any]:
    return cookbook_queries()


#: (table, column) whose value is an id with a page of its own -> that page.
PAGE_LINKS = {
    ("illusts", "id"): "works", ("illust_overview", "illust_id"): "works",
    ("novels", "id"): "novels", ("novel_overview", "novel_id"): "novels",
    ("users", "id"): "users",
}


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str, datasette: Datasette) -> Any:
    """``local_path``, ``*_local_path`` and ``local_paths`` (a JSON list) cells become thumbnails;
    work, novel and user ids link to their pages."""
    page = PAGE_LINKS.get((table or "", column))
    if page and isinstance(value, int):
        return Markup('<a href="{}">{}</a>').format(datasette.urls.path(f"/-/pixiv/{page}/{value}"), value)
    if not isinstance(value, str) or not value or file_store(datasette) is None:
        return None
    if PATH_COLUMN.search(column):
        paths = [value]
    elif column == "local_paths" and value.startswith("["):
        paths = [p for p in json.loads(value) if isinstance(p, str)]
    else:
        return None
    keys = row.keys() if hasattr(row, "keys") else []

    async def render() -> Markup:
        explicit = False
        if "x_restrict" in keys:
            explicit = bool(row["x_restrict"])
        elif "illust_id" in keys:
            illust_id = row["illust_id"]
            if isinstance(illust_id, dict):  # a foreign key Datasette has labelled
                illust_id = illust_id.get("value")
            found = (await datasette.get_database(database).execute(
                "SELECT x_restrict FROM illusts WHERE id = ?", [illust_id])).first()
            explicit = bool(found and found[0])
        return Markup("").join(picture(datasette, p, explicit=explicit) for p in paths)

    return render


# --- files ---------------------------------------------------------------------------------------

async def serve_file(datasette: Datasette, request: Request, send: Any) -> Response | None:
    store = file_store(datasette)
    path = store.resolve(unquote(request.url_vars["path"])) if store else None
    if path is None:
        return Response.text("Not found", status=404)
    await asgi_send_file(send, path, content_type=media_type(path), chunk_size=65536,
                         headers={"Cache-Control": "max-age=86400"})
    return None


async def serve_thumb(datasette: Datasette, request: Request, send: Any) -> Response | None:
    store = file_store(datasette)
    relative = unquote(request.url_vars["path"])
    path = await asyncio.to_thread(store.thumbnail, relative) if store else None
    if path is None:
        return Response.text("Not found", status=404)
    await asgi_send_file(send, path, content_type="image/webp", chunk_size=65536,
                         headers={"Cache-Control": "max-age=86400"})
    return None


# --- pages ---------------------------------------------------------------------------------------

async def rows(datasette: Datasette, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    result = await datasette.get_database().execute(sql, params or {})
    return [dict(r) for r in result.rows]


async def grid(datasette: Datasette, request: Request, *, source: str, where: str, order: str,
               params: dict[str, Any], extra: str = "", kind: str = "illust") -> tuple[list[dict[str, Any]], str | None]:
    """One page of works (``kind`` illust or novel) as grid cells, and the URL of the next page (or None).

    ``source`` is the FROM clause; it names the illusts (novels) ``i``."""
    given = request.args.get("offset") or "0"
    offset = int(given) if given.isdigit() else 0
    sql = (GRID_SQL if kind == "illust" else NOVEL_GRID_SQL).format(source=source, where=where, order=order, limit=GRID_SIZE + 1, extra=extra)
    works = await rows(datasette, sql, {**params, "offset": offset})
    for work in works:
        work["href"] = datasette.urls.path(f"/-/pixiv/{'works' if kind == 'illust' else 'novels'}/{work['id']}")
        work["picture_html"] = picture(datasette, work["picture"], explicit=bool(work["x_restrict"]),
                                       alt=work["title"])
    more = None
    if len(works) > GRID_SIZE:
        works = works[:GRID_SIZE]
        args = {k: v for k, v in request.args.items() if k != "offset"}
        args["offset"] = str(offset + GRID_SIZE)
        more = request.path + "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in args.items())
    return works, more


async def render(datasette: Datasette, request: Request, template: str, **context: Any) -> Response:
    context.setdefault("database", datasette.get_database().name)
    return Response.html(await datasette.render_template(f"pixiv_{template}.html", context, request=request))


def not_found(what: str) -> Response:
    return Response.html(f"<p>{escape(what)} is not in the archive.</p>", status=404)


async def ranking_page(datasette: Datasette, request: Request) -> Response:
    choices = await rows(datasette, "SELECT kind, mode, date, count(*) AS works FROM rankings "
                                    "GROUP BY kind, mode, date ORDER BY date DESC, kind, mode LIMIT 400")
    kind = "novel" if request.args.get("kind") == "novel" else "illust"
    mine = [c for c in choices if c["kind"] == kind]
    mode, date = request.args.get("mode"), request.args.get("date")
    if mine and mode not in {c["mode"] for c in mine}:  # none asked, or the other kind's mode
        mode, date = mine[0]["mode"], None
    mode = mode or "day"
    date = date or next((c["date"] for c in mine if c["mode"] == mode), "")
    works, more = await grid(datasette, request, source=f"rankings r JOIN {kind}s i ON i.id = r.work_id",
                             where="r.kind = :kind AND r.mode = :mode AND r.date = :date", order="r.rank",
                             params={"kind": kind, "mode": mode, "date": date}, extra=", r.rank", kind=kind)
    return await render(datasette, request, "grid", title=f"{'Novel ranking' if kind == 'novel' else 'Ranking'} "
                        f"{mode} {date}", works=works, more=more, choices=mine, mode=mode, date=date, kind=kind,
                        kinds=sorted({c["kind"] for c in choices}))


async def tag_page(datasette: Datasette, request: Request) -> Response:
    tag = unquote(request.url_vars["tag"])
    found = await rows(datasette, "SELECT name, translated_name FROM tags WHERE name = :tag", {"tag": tag})
    if not found:
        return not_found(f"Tag {tag}")
    works, more = await grid(datasette, request, source="illust_tags t JOIN illusts i ON i.id = t.illust_id",
                             where="t.tag = :tag", order="i.total_bookmarks DESC, i.id DESC", params={"tag": tag})
    translated = found[0]["translated_name"]
    return await render(datasette, request, "grid", title=f"#{tag}" + (f" ({translated})" if translated else ""),
                        works=works, more=more)


async def user_page(datasette: Datasette, request: Request) -> Response:
    user_id = int(request.url_vars["user_id"])
    found = await rows(datasette, "SELECT * FROM users WHERE id = :id", {"id": user_id})
    if not found:
        return not_found(f"User {user_id}")
    works, more = await grid(datasette, request, source="illusts i", where="i.user_id = :id",
                             order="i.create_date DESC, i.id DESC", params={"id": user_id})
    novels = await rows(datasette, "SELECT id, title, x_restrict, status, text_length, create_date FROM novels "
                                   "WHERE user_id = :id ORDER BY create_date DESC, id DESC", {"id": user_id})
    user = found[0]
    return await render(datasette, request, "user", title=user["name"] or f"user {user_id}", user=user,
                        avatar=picture(datasette, user["profile_image_local_path"], alt=user["name"]),
                        works=works, more=more, novels=novels)


def caption_text(caption: str | None) -> str:
    """Pixiv's caption HTML as plain text with its line breaks (never rendered as HTML)."""
    text = re.sub(r"<br\s*/?>", "\n", caption or "", flags=re.IGNORECASE)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


async def stats(datasette: Datasette, kind: str, work_id: int) -> Markup:
    history = await rows(datasette, "SELECT captured_at, total_view, total_bookmarks FROM work_stats "
                                    "WHERE kind = :kind AND work_id = :id ORDER BY captured_at",
                         {"kind": kind, "id": work_id})
    return stats_chart([(r["captured_at"], r["total_view"], r["total_bookmarks"]) for r in history])


async def tags_of(datasette: Datasette, kind: str, work_id: int) -> list[dict[str, Any]]:
    """A work's tags in Pixiv's order, with their translations."""
    table = "illust_tags" if kind == "illust" else "novel_tags"
    return await rows(datasette, f"SELECT w.tag, t.translated_name FROM {table} w LEFT JOIN tags t ON t.name = w.tag "
                                 f"WHERE w.{kind}_id = :id ORDER BY w.position", {"id": work_id})


async def with_artist(datasette: Datasette, kind: str, work_id: int) -> dict[str, Any] | None:
    """The illust's or novel's row with its artist's name and account, or None."""
    found = await rows(datasette, f"SELECT w.*, u.name AS user_name, u.account AS user_account FROM {kind}s w "
                                  "LEFT JOIN users u ON u.id = w.user_id WHERE w.id = :id", {"id": work_id})
    return found[0] if found else None


async def work_page(datasette: Datasette, request: Request) -> Response:
    illust_id = int(request.url_vars["illust_id"])
    work = await with_artist(datasette, "illust", illust_id)
    if work is None:
        return not_found(f"Work {illust_id}")
    pages = await rows(datasette, "SELECT page, local_path, width, height FROM illust_pages WHERE illust_id = :id "
                                  "ORDER BY page", {"id": illust_id})
    for page in pages:
        page["picture_html"] = picture(datasette, page["local_path"], alt=f"page {page['page'] + 1}", full=True)
    ugoira = await rows(datasette, "SELECT * FROM ugoira WHERE illust_id = :id", {"id": illust_id})
    rankings = await rows(datasette, "SELECT mode, date, rank FROM rankings WHERE kind = 'illust' AND work_id = :id "
                                     "ORDER BY date DESC, mode LIMIT 50", {"id": illust_id})
    animation = ugoira[0] if ugoira else None
    return await render(
        datasette, request, "work", title=work["title"] or f"work {illust_id}", work=work, pages=pages,
        animation=animation, animation_url=file_url(datasette, animation["animation_local_path"])
        if animation and animation["animation_local_path"] else None,
        tags=await tags_of(datasette, "illust", illust_id), rankings=rankings, caption=caption_text(work["caption"]),
        chart=await stats(datasette, "illust", illust_id),
    )


def novel_text_html(datasette: Datasette, text: str, images: dict[tuple[str, str], dict[str, Any]],
                    explicit: bool) -> list[Markup]:
    """A novel's pages as HTML: its text (escaped) with the images it embeds in their places, the
    archived file where there is one, else a note naming the image."""
    pages = []
    for runs in reading_pages(text):
        parts = []
        for run in runs:
            if isinstance(run, str):
                parts.append(escape(run))
                continue
            image = images.get(run) or {}
            label = f"[{'uploadedimage' if run[0] == 'uploaded' else 'pixivimage'}:{run[1]}]"
            parts.append(
                Markup('<span class="pixiv-novel-image">{}</span>').format(
                    picture(datasette, image["local_path"], explicit=explicit, alt=label)
                    if image.get("local_path") else Markup('<span class="pixiv-nofile">{} not archived</span>').format(label)
                )
            )
        pages.append(Markup("").join(parts).strip("\n"))
    return pages


async def novel_page(datasette: Datasette, request: Request) -> Response:
    novel_id = int(request.url_vars["novel_id"])
    novel = await with_artist(datasette, "novel", novel_id)
    if novel is None:
        return not_found(f"Novel {novel_id}")
    text = await rows(datasette, "SELECT text FROM novel_texts WHERE novel_id = :id", {"id": novel_id})
    images = {(i["kind"], i["image_key"]): i for i in await rows(
        datasette, "SELECT kind, image_key, local_path FROM novel_images WHERE novel_id = :id", {"id": novel_id})}
    return await render(
        datasette, request, "novel", title=novel["title"] or f"novel {novel_id}", novel=novel,
        tags=await tags_of(datasette, "novel", novel_id),
        cover=picture(datasette, novel["cover_local_path"], alt=novel["title"]),
        text_pages=novel_text_html(datasette, text[0]["text"], images, bool(novel["x_restrict"])) if text else [],
        caption=caption_text(novel["caption"]), chart=await stats(datasette, "novel", novel_id),
    )


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [
        (r"^/-/pixiv/files/(?P<path>.+)$", serve_file),
        (r"^/-/pixiv/thumbs/(?P<path>.+)$", serve_thumb),
        (r"^/-/pixiv/ranking$", ranking_page),
        (r"^/-/pixiv/tags/(?P<tag>[^/]+)$", tag_page),
        (r"^/-/pixiv/users/(?P<user_id>\d+)$", user_page),
        (r"^/-/pixiv/works/(?P<illust_id>\d+)$", work_page),
        (r"^/-/pixiv/novels/(?P<novel_id>\d+)$", novel_page),
    ]
