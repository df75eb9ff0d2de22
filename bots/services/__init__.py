"""Every write and every business rule, split by concern. Callers (admin, API, commands, tasks) call one
function re-exported here, so they never depend on which module holds it."""
from bots.services.accounts import account_add_credentials, account_create, connector_fields
from bots.services.common import StateConflict
from bots.services.health import hummingbot_check, hummingbot_overview, servers_health, system_health
from bots.services.killswitch import stop_all_request, stop_all_run
from bots.services.lifecycle import bot_archive, bot_create, bot_start, bot_stop
from bots.services.params import bot_update_params, params_change_summary
from bots.services.sync import bot_upstream_detail, bots_refresh_if_due, bots_sync, bots_sync_all, map_status
from bots.services.trades import BotTradesRead, trades_sync

__all__ = [
    "StateConflict",
    "account_add_credentials", "account_create", "connector_fields",
    "hummingbot_check", "hummingbot_overview", "servers_health", "system_health",
    "bot_archive", "bot_create", "bot_start", "bot_stop", "stop_all_request", "stop_all_run",
    "bot_update_params", "params_change_summary",
    "bot_upstream_detail", "bots_refresh_if_due", "bots_sync", "bots_sync_all", "map_status",
    "BotTradesRead", "trades_sync",
]
