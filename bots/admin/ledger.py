"""The trade ledger and the audit trail: read-only lists."""
from django.contrib import admin

from bots.admin.common import ReadOnlyAdmin
from bots.admin.lists import (
    EXPORT_PARAMETERS,
    AccountFilter,
    BotFilter,
    DateRangeFilter,
    LookaheadPaginator,
    SideFilter,
    export_query,
)
from bots.models import BotEvent, Trade
from bots.money import plain_decimal
from bots.templatetags.bots_format import abbreviated, relative_time, short_pair


@admin.register(Trade)
class TradeAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """A million-row ledger: a constant number of cheap queries per page (admin/lists.py, bench/admin_pages.py)."""

    list_display = ["time", "bot", "pair", "side", "price_plain", "amount_plain", "fee_plain", "trade"]
    list_filter = [DateRangeFilter, SideFilter, AccountFilter, BotFilter]
    list_select_related = ["bot"]
    sortable_by = ["time"]  # on the (timestamp, id) index; sorting a million rows by price is a full sort
    show_full_result_count = False  # no COUNT(*) over the whole ledger on every page
    show_facets = admin.ShowFacets.NEVER  # facet counts aggregate the whole table per filter choice
    change_list_template = "admin/bots/trade/change_list.html"

    class Media:
        css = {"all": ["bots/lists.css"]}

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        page = request.GET.get("p", "1")
        return LookaheadPaginator(queryset, per_page, orphans=orphans, allow_empty_first_page=allow_empty_first_page,
                                  page=int(page) if page.isdigit() else 1)

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in EXPORT_PARAMETERS  # the list filters' only, so the CSV export reproduces every list

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "export_query": export_query(request)})

    @admin.display(description="time", ordering="timestamp")
    def time(self, trade):
        return relative_time(trade.timestamp)

    @admin.display(description="pair")
    def pair(self, trade):
        return short_pair(trade.trading_pair)

    @admin.display(description="trade id")
    def trade(self, trade):
        return abbreviated(trade.trade_id, keep=8)

    @admin.display(description="price")
    def price_plain(self, trade):
        return plain_decimal(trade.price)

    @admin.display(description="amount")
    def amount_plain(self, trade):
        return plain_decimal(trade.amount)

    @admin.display(description="fee (quote)")
    def fee_plain(self, trade):
        return plain_decimal(trade.fee_quote)


@admin.register(BotEvent)
class BotEventAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ["at", "actor", "action", "bot", "account", "ok", "detail"]
    list_filter = ["ok", "action"]
    search_fields = ["bot__name", "actor", "detail"]
    list_select_related = ["bot", "account"]
