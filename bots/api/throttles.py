"""API rate limits, counted where every web worker sees them: Redis when REDIS_URL is set, else the database.

Fixed windows, one counter per caller and scope (a ThrottleCount row): a counted request is one statement.
DRF's own throttles keep every request's timestamp in a pickled list in the cache and rewrite it per request,
which on the database cache is six statements and a blob of up to 1,200 floats for each GET /bots.
A fixed window may let up to twice the rate through across a window's edge: fine for abuse limits.
"""
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from bots.models import ThrottleCount


class FixedWindowCounting:
    """allow_request/wait for a DRF SimpleRateThrottle (rates and callers' keys as DRF's settings give them)."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = self.timer()
        self.now, self.window_ends_at = now, (now // self.duration + 1) * self.duration
        return _counted(key, window_ends_at=self.window_ends_at, limit=self.num_requests, window=self.duration)

    def wait(self):
        return self.window_ends_at - self.now


# One statement whatever the row's state (SQLite >= 3.24 and PostgreSQL alike): a new caller's row, a count
# restarted for a new window, or one more in the current window while below the limit; at the limit nothing
# changes and the row count is 0. Atomic on its own, so workers counting at once never lose a count.
_COUNT_ONE = f"""
    INSERT INTO {ThrottleCount._meta.db_table} AS counted (key, window_ends_at, count) {{row}}
    ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN counted.window_ends_at = excluded.window_ends_at THEN counted.count + 1 ELSE 1 END,
        window_ends_at = excluded.window_ends_at
    WHERE counted.window_ends_at <> excluded.window_ends_at OR counted.count < %s
"""
COUNT_ONE = _COUNT_ONE.format(row="VALUES (%s, %s, 1)")
# PostgreSQL waits for the disk at every commit, ~4 ms of a ~10-20 ms GET /bots (bench/bots_list.py); a count
# lost in a crash does no harm, so the statement's own transaction may commit without waiting.
COUNT_ONE_NOT_WAITING_FOR_DISK = _COUNT_ONE.format(
    row="SELECT %s, %s, 1 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS lossy")


def _counted(key: str, *, window_ends_at: float, limit: int, window: float) -> bool:
    if settings.REDIS_URL:  # the cache is Redis then: one atomic INCR, no database write per request
        return _counted_in_cache(key, window_ends_at=window_ends_at, limit=limit, window=window)
    # Inside a transaction someone else opened, the setting would cover their commit too: never there.
    lossy = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute(COUNT_ONE_NOT_WAITING_FOR_DISK if lossy else COUNT_ONE, [key, window_ends_at, limit])
        return cursor.rowcount == 1


def purge_expired_counts(now: float) -> int:
    """Delete the counts whose window ended (a caller's next request starts a new one anyway): one row per caller
    and scope would otherwise stay for every address that ever called. Returns how many went."""
    deleted, _ = ThrottleCount.objects.filter(window_ends_at__lt=now).delete()
    return deleted


def _counted_in_cache(key: str, *, window_ends_at: float, limit: int, window: float) -> bool:
    """The window's end is part of the key, so a new window starts from zero; the count expires a window later."""
    window_key = f"throttle:{key}:{window_ends_at:.0f}"
    cache.add(window_key, 0, timeout=round(window) + 1)
    return cache.incr(window_key) <= limit


class AnonThrottle(FixedWindowCounting, AnonRateThrottle):
    """Callers without a login, per client IP (`/health` is the only open endpoint)."""

    scope = "anon"


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
