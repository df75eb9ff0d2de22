from django.conf import settings

from bots import selectors


def panel(request):
    """Banners for the admin: the SANDBOX label and 'Hummingbot is unreachable', per server (from its last sync)."""
    if not request.path.startswith("/admin/") or not getattr(request, "user", None) or not request.user.is_staff:
        return {}
    return {"hummingbot_sandbox": settings.HUMMINGBOT_SANDBOX, "hummingbot_down": selectors.hummingbot_outages()}
