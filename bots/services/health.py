"""Reachability of the database and of Hummingbot, for `check_hummingbot`, `/health` and the panel."""
from __future__ import annotations

from django.core.cache import cache
from django.db import connection

from bots.hummingbot.client import ServerInfo, get_client
from bots.hummingbot.errors import HummingbotError


def hummingbot_check() -> ServerInfo:
    """Reachable and the credentials work; raises HummingbotError otherwise."""
    return get_client().check()


REACHABILITY_CACHE_KEY, REACHABILITY_CACHE_SECONDS = "hummingbot:reachability", 30


def hummingbot_reachability() -> dict:
    """`{"ok", "version", "sandbox"}` or `{"ok": False, "error"}`, asked at most every 30 s: the admin index shows
    it on every load and must not wait on a Hummingbot that is down."""
    report = cache.get(REACHABILITY_CACHE_KEY)
    if report is None:
        try:
            info = hummingbot_check()
            report = {"ok": True, "version": info.version, "sandbox": info.sandbox}
        except HummingbotError as exc:
            report = {"ok": False, "error": exc.message}
        cache.set(REACHABILITY_CACHE_KEY, report, REACHABILITY_CACHE_SECONDS)
    return report


def hummingbot_overview() -> dict:
    """What `check_hummingbot` prints: server identity, auth ok, and how many bots it runs."""
    client = get_client()
    info = client.check()
    return {"name": info.name, "version": info.version, "sandbox": info.sandbox, "bots": len(client.bots_status())}


def system_health() -> dict:
    """Database and Hummingbot reachability, for load balancers and the panel's banner."""
    report = {"database": {"ok": True}, "hummingbot": {"ok": True}}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means "database down" for a health check
        report["database"] = {"ok": False, "error": exc.__class__.__name__}
    try:
        info = hummingbot_check()
        report["hummingbot"].update(version=info.version, sandbox=info.sandbox)
    except HummingbotError as exc:
        report["hummingbot"] = {"ok": False, "error": exc.message, "code": exc.code}
    report["ok"] = report["database"]["ok"] and report["hummingbot"]["ok"]
    return report
