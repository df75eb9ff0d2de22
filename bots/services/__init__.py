"""Every write and every business rule, split by concern. Callers (admin, API, commands, tasks) call one
function re-exported here, so they never depend on which module holds it."""
from bots.services.accounts import (
    AccountUpstream,
    Portfolio,
    account_add_credentials,
    account_available,
    account_create,
    account_recreate_upstream,
    account_set_desk_limits,
    account_upstream,
    clean_key_connector,
    connector_fields,
    key_connectors,
    portfolio,
)
from bots.services.alerts import alert_acknowledge, alert_deliver, alert_notices_due
from bots.services.common import StateConflict
from bots.services.health import hummingbot_check, hummingbot_overview, hummingbot_reachability, servers_health, system_health
from bots.services.killswitch import stop_all_request, stop_all_run
from bots.services.lifecycle import bot_archive, bot_create, bot_start, bot_stop
from bots.services.params import bot_update_params, params_change_summary
from bots.services.pretrade import ConfirmationRequired, Refused, new_bot_assessment
from bots.services.performance import performance_samples_thin
from bots.services.report import daily_report_send, report_day, report_rows, report_text
from bots.services.roles import desk_roles_setup
from bots.services.servers import server_clean, server_delete, server_may_be_written, server_save
from bots.services.sync import (
    ListRefresh,
    bot_upstream_detail,
    bots_refresh_if_due,
    bots_sync,
    bots_sync_all,
    map_status,
)
from bots.services.trades import BotTradesRead, rollups_rebuild, trades_sync

__all__ = [
    "StateConflict",
    "AccountUpstream", "Portfolio", "account_add_credentials", "account_available", "account_create",
    "account_recreate_upstream", "account_set_desk_limits", "account_upstream", "clean_key_connector",
    "connector_fields", "key_connectors", "portfolio",
    "ConfirmationRequired", "Refused", "new_bot_assessment",
    "hummingbot_check", "hummingbot_overview", "hummingbot_reachability", "servers_health", "system_health",
    "bot_archive", "bot_create", "bot_start", "bot_stop", "stop_all_request", "stop_all_run",
    "bot_update_params", "params_change_summary", "performance_samples_thin",
    "ListRefresh", "bot_upstream_detail", "bots_refresh_if_due", "bots_sync", "bots_sync_all", "map_status",
    "BotTradesRead", "rollups_rebuild", "trades_sync", "desk_roles_setup",
    "server_clean", "server_delete", "server_may_be_written", "server_save",
    "alert_acknowledge", "alert_deliver", "alert_notices_due",
    "daily_report_send", "report_day", "report_rows", "report_text",
]
