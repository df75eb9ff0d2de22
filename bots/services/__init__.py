"""Every write and every business rule, split by concern. Callers (admin, API, commands, tasks) call one
function re-exported here, so they never depend on which module holds it."""
from bots.services.accounts import account_add_credentials, account_create, connector_fields
from bots.services.common import StateConflict
from bots.services.health import hummingbot_check, hummingbot_overview, system_health
from bots.services.lifecycle import bot_archive, bot_create, bot_start, bot_stop, stop_all
from bots.services.sync import bot_upstream_detail, bots_refresh_if_due, bots_sync, map_status
from bots.services.trades import trades_sync

__all__ = [
    "StateConflict",
    "account_add_credentials", "account_create", "connector_fields",
    "hummingbot_check", "hummingbot_overview", "system_health",
    "bot_archive", "bot_create", "bot_start", "bot_stop", "stop_all",
    "bot_upstream_detail", "bots_refresh_if_due", "bots_sync", "map_status",
    "trades_sync",
]
