"""Many workers, one crawl: scrapy-redis wiring, the shared API pace, the cross-worker token lock.

With ``PIXIV_REDIS_URL`` set, :class:`~pixivcrawl.workers.addon.WorkersAddon` puts
the crawl on scrapy-redis (a shared request queue and duplicate filter in Redis)
and adds what one account needs across processes and machines:

- :mod:`.keys`: the crawl's id and every Redis key it uses (no secret in any);
- :mod:`.scheduler`: the scheduler (requests a worker holds, taken again if it
  dies), and when a worker may stop (the whole crawl is done);
- :mod:`.pace`: one API pace and one rate-limit pause per account;
- :mod:`.tokens`: one token refresh at a time per account, rotated tokens shared encrypted;
- :mod:`.files`: a file is downloaded by one worker, the others take its result.
"""
