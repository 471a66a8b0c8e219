"""Every setting of pixivcrawl and its one default.

Scrapy's own settings come first, then the ``PIXIV_*`` settings grouped by
component (alphabetical inside a group, the group's switch first). Components
read them in ``from_crawler`` with the typed getters and never repeat a default.
Every ``PIXIV_*`` setting is documented in the README (a test checks it).
"""

from __future__ import annotations

import os
from pathlib import Path

BOT_NAME = "pixivcrawl"
SPIDER_MODULES = ["pixivcrawl.spiders"]
NEWSPIDER_MODULE = "pixivcrawl.spiders"
COMMANDS_MODULE = "pixivcrawl.commands"

ADDONS = {
    "pixivcrawl.addons.SandboxAddon": 0,
    "pixivcrawl.feeds.FeedsAddon": 10,
    "pixivcrawl.workers.addon.WorkersAddon": 20,
    "pixivcrawl.disabled.DisabledComponentsAddon": 30,
}

# The App API is not a website: no robots.txt, no cookies, and the app's own
# headers (set per request by the auth middleware).
ROBOTSTXT_OBEY = False
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
USER_AGENT = "PixivIOSApp/7.19.1 (iOS 16.7.2; iPhone12,8)"

# Politeness. Pixiv's limit is per account/IP and undocumented; reports see
# "Rate Limit" after a minute or two of hammering and sometimes even at one
# request per 2 s (README "Politeness"). API calls therefore share one slot with
# one connection and 2 s (1-3 s, jittered) between calls: about 30 calls a
# minute, 30 works each, so a nightly ranking or artist run takes minutes.
# Image downloads come from a CDN and use their own slot, in parallel. The auth
# middleware puts each request in its slot (pixivcrawl.api.API_SLOT / IMAGE_SLOT).
CONCURRENT_REQUESTS = 16
# Items of one response processed at once. Scrapy's 100 kept ~80 MB more in flight
# and ran slower here (a page is 30 works); 32 still covers a whole page.
CONCURRENT_ITEMS = 32
# Bytes of responses in Scrapy's scraper (its callbacks and their items) before it fetches no
# more: Scrapy's 5 MB is ~100 API pages, each ~5x its size once parsed and made into items.
# When the store is behind, items wait in it with their pages; with 5 MB a ranking of 30 dates
# (30 listings) held ~100 such pages, 35 MB more peak RSS than one of 3 dates. A paced crawl
# (one API call at a time) never reaches it.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 250_000
# Scrapy reads each generator callback's source with ast on every response to warn about
# a `return value` in a generator; its cache is keyed by the bound method, a new object each
# time, so it re-parsed the source once per page. tests/spiders/test_callbacks.py makes the
# same check once, over every spider's callbacks.
WARN_ON_GENERATOR_RETURN_VALUE = False
DOWNLOAD_DELAY = 0
# Scrapy's downloader, holding each slot to its concurrency (Scrapy 2.19 sends a burst past it).
DOWNLOADER = "pixivcrawl.downloader.PixivDownloader"
DOWNLOAD_SLOTS = {
    "pixiv-api": {"concurrency": 1, "delay": 2.0, "jitter": 0.5},
    "pixiv-images": {"concurrency": 4, "delay": 0.0},
}
AUTOTHROTTLE_ENABLED = False
DOWNLOAD_TIMEOUT = 60
# 5xx, resets, timeouts and truncated bodies (DOWNLOAD_FAIL_ON_DATALOSS) are
# retried by Scrapy's RetryMiddleware, each retry after PIXIV_RETRY_BACKOFF.
# 429 is not listed: PixivApiErrorMiddleware owns rate limits (slot pause).
DOWNLOAD_FAIL_ON_DATALOSS = True
RETRY_ENABLED = True
RETRY_TIMES = 5
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]

# The error middleware sits between RetryMiddleware (550) and the auth
# middleware (560): responses pass auth first (token stripped, OAuth errors
# refreshed), then rate limits are caught before RetryMiddleware sees a 429.
DOWNLOADER_MIDDLEWARES = {
    "pixivcrawl.middlewares.PixivApiErrorMiddleware": 555,
    "pixivcrawl.middlewares.PixivAuthMiddleware": 560,
    "pixivcrawl.middlewares.limits.SizeLimitMiddleware": 570,
    # Redirects carry no credential and stay on their kind of origin (pixivcrawl.hosts).
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "pixivcrawl.middlewares.PixivRedirectMiddleware": 600,
}

# Each API object remembers the page it came from (the rejects table shows it).
# Scrapy's spider middlewares that have nothing to do on the App API are off: each wraps every item
# and request a callback yields in one more async generator (together 5-8% of a metadata crawl's
# CPU). Referer: the app sends none to the API (images get theirs from the auth middleware);
# URL length: next_url is Pixiv's own (related and recommended lists outgrow 2083 characters), and
# a page's size is bounded by SizeLimitMiddleware; depth: no spider limits it; meta copy: a warning
# for spiders that copy request.meta wholesale, which paging does not (listing_meta).
SPIDER_MIDDLEWARES = {
    "pixivcrawl.middlewares.source.SourceUrlMiddleware": 50,
    "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
}
# The App API has no HTML meta refresh; a hostile page must not redirect through one.
METAREFRESH_ENABLED = False

# Trust (README "Security"): TLS is verified on every https connection against
# the system store or PIXIV_CA_BUNDLE (pixivcrawl.tls), with no switch to turn it
# off; schemes other than http(s) have no handler at all (the host policy refuses
# them first, and plain http only goes to loopback).
DOWNLOAD_VERIFY_CERTIFICATES = True
DOWNLOAD_HANDLERS = {
    "http": "pixivcrawl.tls.VerifyingDownloadHandler",
    "https": "pixivcrawl.tls.VerifyingDownloadHandler",
    "file": None,
    "ftp": None,
    "s3": None,
    "data": None,
}

# -s JOBDIR=... resumes a stopped crawl; this dupefilter also makes a crawl
# that was killed (SIGKILL, OOM) start over instead of skipping lost requests.
DUPEFILTER_CLASS = "pixivcrawl.jobdir.JobdirDupeFilter"

ITEM_PIPELINES = {
    "pixivcrawl.pipelines.validate.ValidationPipeline": 100,
    "pixivcrawl.pipelines.media.PixivFilesPipeline": 300,
    "pixivcrawl.pipelines.ugoira.UgoiraPipeline": 400,
    "pixivcrawl.pipelines.store.StorePipeline": 800,
}

EXTENSIONS = {
    "pixivcrawl.gc_tuning.GarbageCollection": 0,
    "pixivcrawl.extensions.CrawlRunRecorder": 100,
    "pixivcrawl.progress.CrawlProgress": 200,
    "pixivcrawl.summary.CrawlSummary": 900,
}
# pixivcrawl's progress line and summary replace Scrapy's "Crawled N pages" lines
# (which counted image downloads as pages) and its INFO dump of the stats dict
# (logged at DEBUG by the summary, and kept in crawl_runs.counts).
LOGSTATS_INTERVAL = 0
STATS_DUMP = False
# Scrapy's in-memory stats without its per-read deprecation shim (pixivcrawl.stats).
STATS_CLASS = "pixivcrawl.stats.PixivStatsCollector"

# Feeds: every item carries its kind (item_kind); nested values are JSON. CSV
# gives one file per kind (pixivcrawl.feeds.FeedsAddon), e.g. out.illust.csv.
FEED_EXPORTERS = {
    "jsonlines": "pixivcrawl.feeds.JsonLinesExporter",
    "jsonl": "pixivcrawl.feeds.JsonLinesExporter",
    "json": "pixivcrawl.feeds.JsonExporter",
    "csv": "pixivcrawl.feeds.CsvExporter",
}

FEED_EXPORT_ENCODING = "utf-8"
FILES_STORE = "data/files"
FILES_EXPIRES = 36500
MEDIA_ALLOW_REDIRECTS = False
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"
LOG_FORMATTER = "pixivcrawl.logformatter.PixivLogFormatter"

# --- pixivcrawl: account and API -------------------------------------------
PIXIV_API_URL = "https://app-api.pixiv.net"
PIXIV_AUTH_URL = "https://oauth.secure.pixiv.net/auth/token"
PIXIV_LANGUAGE = "en"
# The `filter` parameter: for_ios (as pixivpy and gallery-dl send it), for_android, or "" (sent empty).
PIXIV_FILTER = "for_ios"
PIXIV_REFRESH_TOKEN = os.environ.get("PIXIV_REFRESH_TOKEN", "")
PIXIV_TOKEN_FILE = str(Path("~/.config/pixivcrawl/token.json").expanduser())
# Refresh the access token this many seconds before Pixiv says it expires.
PIXIV_TOKEN_REFRESH_MARGIN = 300
# A PEM file of the CAs to trust instead of the system store ("" = the system store).
PIXIV_CA_BUNDLE = os.environ.get("PIXIV_CA_BUNDLE", "")

# --- pixivcrawl: API errors and retries (PixivApiErrorMiddleware) ------------
# First pause of the API slot after a rate-limit answer without Retry-After
# (seconds); doubles per pause in a row. Reports say the limit clears in 1-2 min.
PIXIV_RATE_LIMIT_BACKOFF = 60.0
# Longest pause, also the cap on a Retry-After header (gallery-dl waits 300 s).
PIXIV_RATE_LIMIT_BACKOFF_MAX = 600.0
# How often one request is retried after rate-limit answers (about an hour of pauses).
PIXIV_RATE_LIMIT_RETRIES = 10
# Wait before the first retry of a 5xx, reset, timeout or truncated body (seconds); doubles per retry.
PIXIV_RETRY_BACKOFF = 1.0
PIXIV_RETRY_BACKOFF_MAX = 30.0

# --- pixivcrawl: size limits (SizeLimitMiddleware) ----------------------------
# Largest body read from the API and OAuth hosts (bytes). A page is ~100 KB and
# the longest novel's webview page a few MB; a JSON page takes ~10x its size in
# memory once parsed, so this also bounds that.
PIXIV_API_MAXSIZE = 16 * 1024 * 1024
# Largest file read from an image host (bytes): originals (Pixiv takes uploads up
# to 32 MB), covers, avatars and ugoira zips. Bodies are held in memory while
# they are verified, so the image slot's concurrency times this bounds that.
PIXIV_FILE_MAXSIZE = 64 * 1024 * 1024

# --- pixivcrawl: crawling ----------------------------------------------------
PIXIV_INCREMENTAL = False
# Seconds between progress lines (pages, works, files, API pace, ETA); 0 turns them off.
PIXIV_PROGRESS_INTERVAL = 30.0
# Loop guard: the most pages one listing may have (30 works a page: 300,000 works,
# past any real listing); a listing that goes further, or repeats a next_url, stops
# with a WARNING.
PIXIV_MAX_PAGES = 10_000
# Allocations between young garbage collections while a crawl runs (Python's default: 700,
# which cost 15% of a metadata crawl's CPU); startup objects are frozen out. 0: Python's settings.
PIXIV_GC_THRESHOLD = 50_000

# --- pixivcrawl: storage -----------------------------------------------------
PIXIV_DATABASE_URL = "sqlite:///data/pixiv.db"
PIXIV_DB_BATCH_SIZE = 500
# Flush a partial batch at least this often (seconds), so a slow crawl's rows appear.
PIXIV_DB_FLUSH_INTERVAL = 5.0
# A write that fails for a reason of the machine (server gone, disk full, read-only)
# is tried again this many times, after a pause that starts at PIXIV_DB_RETRY_BACKOFF
# seconds and doubles up to PIXIV_DB_RETRY_BACKOFF_MAX (about 75 s in all); then the
# crawl stops with database_failed.
PIXIV_DB_RETRY_TIMES = 8
PIXIV_DB_RETRY_BACKOFF = 1.0
PIXIV_DB_RETRY_BACKOFF_MAX = 15.0
# How often a running crawl renews its crawl_runs heartbeat (seconds); a run
# silent for five intervals, or whose process on this host is gone, is `lost`.
PIXIV_RUN_HEARTBEAT_INTERVAL = 60.0
# The archive plan job a crawl runs for (`scrapy archive` sets it); recorded in crawl_runs.job.
PIXIV_RUN_JOB = None

# --- pixivcrawl: files -------------------------------------------------------
PIXIV_DOWNLOAD_FILES = True
# Novel covers (the work's own; Pixiv's default covers never).
PIXIV_DOWNLOAD_COVERS = True
# Full-size avatars of every user seen: one more file per user, so off by default.
PIXIV_DOWNLOAD_PROFILE_IMAGES = False
# Files queued for the image slot (beyond those transferring) before the crawl stops asking
# for further listing pages: about a page's files, so the slot never waits for the next page.
PIXIV_FILES_AHEAD = 64
PIXIV_IMAGE_HOSTS = ["i.pximg.net"]
# A FILES_STORE write that fails (disk full, read-only, gone) is tried again after
# PIXIV_FILES_STORE_RETRY_BACKOFF seconds, doubling; once this many writes more than
# one failed in a row, the crawl stops with files_store_failed (exit 1, run failed).
PIXIV_FILES_STORE_RETRY_TIMES = 2
PIXIV_FILES_STORE_RETRY_BACKOFF = 1.0
# webp, gif, apng, or zip (keep the zip only). The zip is always kept.
PIXIV_UGOIRA_FORMAT = "webp"
# Limits on one ugoira zip, against decompression bombs: entries, bytes
# uncompressed, pixels of all frames together (the conversion's time) and of one
# frame. Frames are read and converted one at a time: WebP holds a few frames in
# memory (about 100 MB at the per-frame limit); GIF keeps every distinct frame at
# 1 byte a pixel and APNG at 4, so those formats hold up to MAX_PIXELS times that.
PIXIV_UGOIRA_MAX_BYTES = 1024 * 1024 * 1024
PIXIV_UGOIRA_MAX_FRAMES = 1000
PIXIV_UGOIRA_MAX_FRAME_PIXELS = 1920 * 1080 * 2
PIXIV_UGOIRA_MAX_PIXELS = 350_000_000

# --- pixivcrawl: many workers (pixivcrawl.workers) ---------------------------
# redis://host:6379/0: the crawl runs on scrapy-redis (shared queue, duplicate
# filter, API pace, token refresh, file claims). Unset: one process, as before.
PIXIV_REDIS_URL = ""
# The crawl's shared id (Redis keys, crawl_runs.crawl_id); empty: the spider and a hash of its arguments.
PIXIV_CRAWL_ID = ""
# The most responses from the shared queue one worker works on at once (with their items
# and files); it takes no more while its image slot is full, so work spreads over the workers.
PIXIV_WORKERS_PREFETCH = 8
# Once the queue is empty and no worker is busy, wait this long before stopping (seconds).
PIXIV_WORKERS_IDLE_TIMEOUT = 5.0
# A worker silent this long is dead: its requests and file claims are taken over (seconds).
PIXIV_WORKERS_TIMEOUT = 30.0

# --- pixivcrawl: browse (scrapy browse) ----------------------------------------
# Show R-18/R-18G works unblurred in the browse grids.
PIXIV_BROWSE_SHOW_EXPLICIT = False

# --- pixivcrawl: sandbox -----------------------------------------------------
PIXIV_SANDBOX = False
