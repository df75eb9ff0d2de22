"""API rate limits, counted in the database every web worker shares.

Fixed windows, one counter per caller and scope (a ThrottleCount row): a counted request is one conditional
UPDATE. DRF's own throttles keep every request's timestamp in a pickled list in the cache and rewrite it per
request, which on the database cache is six statements and a blob of up to 1,200 floats for each GET /bots.
A fixed window may let up to twice the rate through across a window's edge: fine for abuse limits.
"""
from django.db import IntegrityError, transaction
from django.db.models import F
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
        return _counted(key, now=now, window_ends_at=self.window_ends_at, limit=self.num_requests)

    def wait(self):
        return self.window_ends_at - self.now


def _counted(key: str, *, now: float, window_ends_at: float, limit: int) -> bool:
    """One more request in the caller's window, if it has room. Each step is a single atomic statement,
    so workers counting at once never lose a count; the common case is the first UPDATE alone."""
    caller = ThrottleCount.objects.filter(key=key)
    in_window = caller.filter(window_ends_at=window_ends_at, count__lt=limit)
    if in_window.update(count=F("count") + 1):
        return True
    if caller.filter(window_ends_at__lt=window_ends_at).update(window_ends_at=window_ends_at, count=1):
        return True
    try:
        with transaction.atomic():
            ThrottleCount.objects.create(key=key, window_ends_at=window_ends_at, count=1)
    except IntegrityError:  # at the limit already, or another worker created it a moment ago
        return bool(in_window.update(count=F("count") + 1))
    # A new caller: drop the rows of closed windows (a count there no longer matters), so callers gone by
    # (addresses) don't pile up.
    ThrottleCount.objects.filter(window_ends_at__lte=now).delete()
    return True


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
