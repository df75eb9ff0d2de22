from django.conf import settings

from bots import selectors


def panel(request):
    """Banners for the admin: the SANDBOX label and 'Hummingbot is unreachable', per server (from its last sync); the
    count of unresolved alerts in the header (one aggregate) for whoever may see them."""
    if not request.path.startswith("/admin/") or not getattr(request, "user", None) or not request.user.is_staff:
        return {}
    counts = selectors.alert_counts() if request.user.has_perm("bots.view_alert") else None
    return {"hummingbot_sandbox": settings.HUMMINGBOT_SANDBOX, "hummingbot_down": selectors.hummingbot_outages(),
            "alert_counts": counts}
