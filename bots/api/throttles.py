"""API rate limits. Counts live in the default cache, which every web worker shares (settings.CACHES)."""
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class AnonThrottle(AnonRateThrottle):
    """Callers without a login, per client IP (`/health` is the only open endpoint)."""

    scope = "anon"


class ReadThrottle(UserRateThrottle):
    """Reads per user: generous, frontends poll."""

    scope = "reads"

    def allow_request(self, request, view):
        if request.method not in SAFE_METHODS or not request.user.is_authenticated:
            return True
        return super().allow_request(request, view)


class WriteThrottle(UserRateThrottle):
    """Writes per user: polling reads never count against them."""

    scope = "writes"

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)
