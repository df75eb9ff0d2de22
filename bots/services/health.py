"""Reachability of the database and of each Hummingbot server, for `check_hummingbot`, `/health` and the panel."""
from __future__ import annotations

from django.core.cache import cache
from django.db import connection

from bots.hummingbot.client import ServerInfo, get_client
from bots.hummingbot.errors import HummingbotError
from bots.models import HummingbotServer


def hummingbot_check(server: HummingbotServer | None = None) -> ServerInfo:
    """Reachable and the credentials work (None: the default server); raises HummingbotError otherwise."""
    return get_client(server).check()


REACHABILITY_CACHE_KEY, REACHABILITY_CACHE_SECONDS = "hummingbot:reachability", 30


def hummingbot_reachability(server: HummingbotServer) -> dict:
    """`{"ok", "version", "sandbox"}` or `{"ok": False, "error"}`, asked at most every 30 s: the admin index shows
    it on every load and must not wait on a Hummingbot that is down."""
    key = f"{REACHABILITY_CACHE_KEY}:{server.name}"
    report = cache.get(key)
    if report is None:
        report = _server_health(server)
        cache.set(key, report, REACHABILITY_CACHE_SECONDS)
    return report


def hummingbot_overview(server: HummingbotServer | None = None) -> dict:
    """What `check_hummingbot` prints for a server: its identity, auth ok, and how many bots it runs."""
    client = get_client(server)
    info = client.check()
    return {"name": info.name, "version": info.version, "sandbox": info.sandbox, "bots": len(client.bots_status())}


def servers_health() -> dict[str, dict]:
    """Each server's reachability by name (see _server_health)."""
    return {server.name: _server_health(server) for server in HummingbotServer.every()}


def system_health() -> dict:
    """Database and Hummingbot reachability, for load balancers and the panel's banner. `hummingbot.ok` is every
    server's; the first failing one's error and code are repeated next to it (the single-server shape)."""
    report = {"database": {"ok": True}, "hummingbot": {"ok": True, "servers": {}}}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        servers = servers_health()
    except Exception as exc:  # any driver error means "database down" for a health check
        report["database"] = {"ok": False, "error": exc.__class__.__name__}
        servers = {"default": _server_health(None)}  # the servers are rows: without the database, the default
    failed = [name for name, server in servers.items() if not server["ok"]]
    report["hummingbot"] = {"ok": not failed, "servers": servers}
    if failed:
        report["hummingbot"].update(error=servers[failed[0]]["error"], code=servers[failed[0]]["code"])
    report["ok"] = report["database"]["ok"] and report["hummingbot"]["ok"]
    return report


def _server_health(server: HummingbotServer | None) -> dict:
    """`{ok, version, sandbox}` or `{ok: False, error, code}` (None: the default server, read from settings)."""
    try:
        info = hummingbot_check(server)
    except HummingbotError as exc:
        return {"ok": False, "error": exc.message, "code": exc.code}
    return {"ok": True, "version": info.version, "sandbox": info.sandbox}
