from django.contrib import admin

from bots.models import Account, Bot, BotEvent, Trade


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "label", "created_at"]
    search_fields = ["name", "label"]


@admin.register(Bot)
class BotAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "account", "strategy", "connector", "trading_pair", "chain", "status_synced_at"]
    list_filter = ["status", "strategy", "connector", "account"]
    search_fields = ["name", "hummingbot_name", "trading_pair"]
    list_select_related = ["account"]
    readonly_fields = [
        "hummingbot_name",
        "status",
        "last_error",
        "upstream_status",
        "status_synced_at",
        "trades_synced_at",
        "trades_sync_error",
        "missed_syncs",
        "created_by",
        "created_at",
        "updated_at",
    ]


@admin.register(Trade)
class TradeAdmin(admin.ModelAdmin):
    list_display = ["timestamp", "bot", "trading_pair", "side", "price", "amount", "fee_quote", "trade_id"]
    list_filter = ["side", "bot__account", "bot"]
    list_select_related = ["bot"]
    date_hierarchy = "timestamp"
    search_fields = ["trade_id", "bot__name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BotEvent)
class BotEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "action", "bot", "account", "ok", "detail"]
    list_filter = ["ok", "action"]
    search_fields = ["bot__name", "actor", "detail"]
    list_select_related = ["bot", "account"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
