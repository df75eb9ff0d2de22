"""API rate limits, counted where every web worker sees them: Redis when REDIS_URL is set, else the database.

Fixed windows, one counter per caller and scope (a ThrottleCount row): a counted request is one statement.
DRF's own throttles keep every request's timestamp in a pickled list in the cache and rewrite it per request,
which on the database cache is six statements and a blob of up to 1,200 floats for each GET /bots.
A fixed window may let up to twice the rate through across a window's edge: fine for abuse limits.
Callers without a login are told apart by bridge/client_address.py, the rule the login lockout uses too.
"""
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from bots.models import ThrottleCount
from bridge.client_address import client_address


class FixedWindowCounting:
    """allow_request/wait for a DRF SimpleRateThrottle (rates as DRF's settings give them, callers' addresses as
    bridge/client_address.py reads them)."""

    # Past this many rows in the table, a caller that has none yet is counted under the scope's one shared key.
    max_callers = None

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = self.timer()
        self.now, self.window_ends_at = now, (now // self.duration + 1) * self.duration
        past_the_cap = None
        if self.max_callers:
            past_the_cap = (self.max_callers, self.cache_format % {"scope": self.scope, "ident": "past-the-cap"})
        return _counted(key, window_ends_at=self.window_ends_at, limit=self.num_requests, window=self.duration,
                        past_the_cap=past_the_cap)

    def wait(self):
        return self.window_ends_at - self.now

    def get_ident(self, request):
        return client_address(request)


TABLE = ThrottleCount._meta.db_table
# One statement whatever the row's state (SQLite >= 3.24 and PostgreSQL alike): a new caller's row, a count
# restarted for a new window, or one more in the current window while below the limit; at the limit nothing
# changes and the row count is 0. Atomic on its own, so workers counting at once never lose a count.
_COUNT_ONE = f"""
    INSERT INTO {TABLE} AS counted (key, window_ends_at, count) {{row}}
    ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN counted.window_ends_at = excluded.window_ends_at THEN counted.count + 1 ELSE 1 END,
        window_ends_at = excluded.window_ends_at
    WHERE counted.window_ends_at <> excluded.window_ends_at OR counted.count < %s
"""
# The table must not grow with every address a caller can make up (issue 15: behind a proxy whose addresses
# TRUSTED_PROXY_IPS does not name, X-Forwarded-For is the caller's to write; IPv6 gives anyone many /64s). The
# hourly purge only drops ended windows, so a flood would still add a row per made-up address each hour. With a
# cap, a caller keeps its own key once it has a row or while the table has room; otherwise it counts under the
# scope's shared key: a flood gets one caller's rate and adds one row. Reading "room" looks at most at `cap` rows
# whatever the table holds. Two fresh callers at once may both see room: the cap is a bound, not an exact figure.
_KEY_WITHIN_CAP = f"""CASE WHEN EXISTS (SELECT 1 FROM {TABLE} WHERE key = %s)
    OR (SELECT count(*) FROM (SELECT 1 FROM {TABLE} LIMIT %s) AS first_rows) < %s THEN %s ELSE %s END"""


def _count_one(*, capped: bool, lossy: bool) -> str:
    key = _KEY_WITHIN_CAP if capped else "%s"
    # PostgreSQL waits for the disk at every commit, ~4 ms of a ~10-20 ms GET /bots (bench/bots_list.py); a count
    # lost in a crash does no harm, so the statement's own transaction may commit without waiting.
    if lossy:
        not_waiting = "(SELECT set_config('synchronous_commit', 'off', true)) AS lossy"
        return _COUNT_ONE.format(row=f"SELECT {key}, %s, 1 FROM {not_waiting}")
    return _COUNT_ONE.format(row=f"VALUES ({key}, %s, 1)")


COUNT_ONE = {(capped, lossy): _count_one(capped=capped, lossy=lossy) for capped in (False, True)
             for lossy in (False, True)}


def _counted(key: str, *, window_ends_at: float, limit: int, window: float,
             past_the_cap: tuple[int, str] | None = None) -> bool:
    """`past_the_cap`: (cap, shared key) to bound the table, see _KEY_WITHIN_CAP."""
    if settings.REDIS_URL:  # the cache is Redis then: one atomic INCR, no database write per request
        return _counted_in_cache(key, window_ends_at=window_ends_at, limit=limit, window=window)
    # Inside a transaction someone else opened, the setting would cover their commit too: never there.
    lossy = connection.vendor == "postgresql" and not connection.in_atomic_block
    key_params = [key]
    if past_the_cap:
        cap, shared_key = past_the_cap
        key_params = [key, cap, cap, key, shared_key]
    with connection.cursor() as cursor:
        cursor.execute(COUNT_ONE[bool(past_the_cap), lossy], [*key_params, window_ends_at, limit])
        return cursor.rowcount == 1


def purge_expired_counts(now: float) -> int:
    """Delete the counts whose window ended (a caller's next request starts a new one anyway): one row per caller
    and scope would otherwise stay for every address that ever called. Returns how many went."""
    deleted, _ = ThrottleCount.objects.filter(window_ends_at__lt=now).delete()
    return deleted


def _counted_in_cache(key: str, *, window_ends_at: float, limit: int, window: float) -> bool:
    """The window's end is part of the key, so a new window starts from zero; the count expires a window later
    (so Redis holds only the current window's counts: no cap needed there)."""
    window_key = f"throttle:{key}:{window_ends_at:.0f}"
    cache.add(window_key, 0, timeout=round(window) + 1)
    return cache.incr(window_key) <= limit


class AnonThrottle(FixedWindowCounting, AnonRateThrottle):
    """Callers without a login, per client address (`/health` is the only open endpoint): probes, a few addresses."""

    scope = "anon"
    max_callers = 1000


class ReadThrottle(FixedWindowCounting, UserRateThrottle):
    """Reads per user: generous, frontends poll."""

    scope = "reads"

    def allow_request(self, request, view):
        if request.method not in SAFE_METHODS or not request.user.is_authenticated:
            return True
        return super().allow_request(request, view)


class WriteThrottle(FixedWindowCounting, UserRateThrottle):
    """Writes per user: polling reads never count against them."""

    scope = "writes"

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)
