"""The control panel. Every button is a POST with CSRF that checks a permission and calls one service."""
from django import forms
from django.contrib import admin, messages
from django.db import models
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from bots import selectors, services, states, strategies
from bots.admin_lists import (
    EXPORT_PARAMETERS,
    AccountFilter,
    BotFilter,
    DateRangeFilter,
    LookaheadPaginator,
    SideFilter,
    export_query,
)
from bots.hummingbot.errors import HummingbotError
from bots.models import Account, Bot, BotEvent, HummingbotServer, KillSwitchRun, Trade
from bots.templatetags.bots_format import abbreviated, plain_decimal, relative_time, short_pair
from bots.validators import BOT_NAME_MAX_LENGTH, validate_name
from bots import task_admin  # noqa: F401,E402  (locks django-q2's admin pages to superusers)

STATUS_COLOURS = {
    "running": "#1a7f37", "idle": "#9a6700", "stopped": "#57606a", "error": "#cf222e", "not_found": "#cf222e",
    "archived": "#8c959f",
}
# The left navigation repeats the index and takes 300 of 1366 px: without it the bot and trade lists fit (issue 10).
admin.site.enable_nav_sidebar = False
SPREAD_EXAMPLE = {"order_amount": "1000", "budget_quote": "500", "buy_spreads_pct": [0.5, 1], "sell_spreads_pct": [0.5, 1]}


class BotCreateForm(forms.Form):
    name = forms.CharField(max_length=BOT_NAME_MAX_LENGTH, validators=[validate_name],
                           help_text="Letters, digits, '_' and '-'. Hummingbot appends a timestamp.")
    account = forms.ModelChoiceField(queryset=Account.objects.all(), to_field_name="name")
    strategy = forms.ChoiceField(choices=[("spread", "Spread (pmm_v1, exchanges)"), ("volume", "Volume (volume_taker)")])
    connector = forms.CharField(max_length=64, help_text="e.g. bitmart, kucoin; jupiter for Solana (volume only)")
    trading_pair = forms.CharField(max_length=129, help_text="BASE-QUOTE, e.g. SHARP-USDT")
    params = forms.JSONField(initial=SPREAD_EXAMPLE, help_text="Strategy parameters; see the table in bots/strategies.py.")


class AccountCreateForm(forms.ModelForm):
    server = forms.ModelChoiceField(queryset=HummingbotServer.objects.all(), required=False, empty_label="default",
                                    help_text="The Hummingbot that holds the account and runs its bots.")

    class Meta:
        model = Account
        fields = ["name", "label", "server"]


class CredentialsForm(forms.Form):
    """One password field per config-map field of the connector; values are never rendered back."""

    def __init__(self, config_map: dict, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, spec in config_map.items():
            self.fields[name] = forms.CharField(
                required=bool(spec.get("required", True)), widget=forms.PasswordInput(render_value=False),
                strip=True, max_length=1024,
            )


class LiveParamsForm(forms.Form):
    """The bot's live parameters (bots/strategies.py, column "live") with their current values; lists are typed
    comma-separated, an optional one left blank is off. Only the fields that differ are sent."""

    def __init__(self, bot: Bot, *args, **kwargs):
        super().__init__(*args, **kwargs)
        spec = strategies.STRATEGIES[bot.strategy]
        self.current = {name: bot.params.get(name) for name in spec.params if name in spec.live}
        for name, value in self.current.items():
            label = f"{spec.params[name].label} ({name})"
            if isinstance(value, bool):
                self.fields[name] = forms.BooleanField(label=label, required=False, initial=value)
            elif isinstance(value, list):
                self.fields[name] = forms.CharField(label=label, initial=", ".join(value), help_text="comma-separated")
            else:
                optional = spec.params[name].default is None
                self.fields[name] = forms.CharField(label=label, required=not optional, initial=value or "",
                                                    help_text="blank = off" if optional else "")

    def changes(self) -> dict:
        typed = {}
        for name, value in self.cleaned_data.items():
            if isinstance(self.current[name], list):
                value = [part.strip() for part in value.split(",") if part.strip()]
            elif isinstance(value, str):
                value = value.strip() or None
            typed[name] = value
        return {name: value for name, value in typed.items() if value != self.current[name]}


def _upstream_error(request, exc: HummingbotError):
    messages.error(request, f"Hummingbot: {exc.message}")


class ServiceAddMixin:
    """The add page calls one service (which talks to Hummingbot and audits) instead of saving a form."""

    add_form = add_title = add_intro = None

    def create(self, request, data):
        raise NotImplementedError

    def created_message(self, obj) -> str:
        raise NotImplementedError

    def kept_after_failure(self, data):
        """An object the service keeps despite an upstream failure, to show instead of the form."""
        return None

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = self.add_form(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                obj = self.create(request, form.cleaned_data)
            except ValidationError as exc:
                _add_form_errors(form, exc)
            except HummingbotError as exc:
                _upstream_error(request, exc)
                obj = self.kept_after_failure(form.cleaned_data)
                if obj is not None:
                    return redirect(self._change_url(obj))
            else:
                messages.success(request, self.created_message(obj))
                return redirect(self._change_url(obj))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": self.add_title, "intro": self.add_intro}
        return TemplateResponse(request, "admin/bots/service_form.html", context)

    def _change_url(self, obj) -> str:
        return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


@admin.register(HummingbotServer)
class HummingbotServerAdmin(admin.ModelAdmin):
    """The Hummingbot APIs the bridge drives (docs/design.md §10). The password is never stored nor shown: the
    server names the environment variable that holds it. Reachability is checked live when the list is shown."""

    list_display = ["name", "url_shown", "username", "password_env", "reachable"]
    fields = ["name", "url", "username", "password_env"]
    formfield_overrides = {models.URLField: {"assume_scheme": "http"}}  # APIs on a private network

    def get_readonly_fields(self, request, obj=None):
        return ["name"] if obj else []  # the name keys its sync state and its events

    @admin.display(description="URL")
    def url_shown(self, server):
        return server.url or "(HUMMINGBOT_API_URL)"

    @admin.display(description="reachable")
    def reachable(self, server):
        try:
            info = services.hummingbot_check(server)
        except HummingbotError as exc:
            return format_html('<span style="color:#cf222e">no: {}</span>', exc.message)
        return f"yes, {info.name} {info.version}{' [SANDBOX]' if info.sandbox else ''}"


@admin.register(Account)
class AccountAdmin(ServiceAddMixin, admin.ModelAdmin):
    list_display = ["name", "label", "server", "bot_count", "created_at"]
    list_filter = ["server"]
    search_fields = ["name", "label"]
    fields = ["name", "label", "server", "created_at"]
    # The name is the Hummingbot account, on its server: both fixed once created.
    readonly_fields = ["name", "server", "created_at"]
    actions = ["stop_all_bots"]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).select_related("server").annotate(bot_total=Count("bots"))

    @admin.display(description="bots", ordering="bot_total")
    def bot_count(self, account):
        return account.bot_total

    add_form = AccountCreateForm
    add_title = "Add an account"
    add_intro = "The account is created in Hummingbot first, then here, when you press Save."

    def create(self, request, data) -> Account:
        return services.account_create(user=request.user, **data)

    def created_message(self, account) -> str:
        return f"Account {account.name} created in Hummingbot and here."

    def get_urls(self):
        return [
            path("<path:object_id>/credentials/", self.admin_site.admin_view(self.credentials_view), name="bots_account_credentials"),
        ] + super().get_urls()

    def credentials_view(self, request, object_id):
        account = get_object_or_404(Account, pk=object_id)
        if not self.has_change_permission(request, account):
            raise PermissionDenied
        connector = request.GET.get("connector", "").strip().lower()
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "account": account,
                   "connector": connector, "title": f"Exchange keys for {account}"}
        if connector:
            try:
                config_map = services.connector_fields(connector, server=account.server)
            except (HummingbotError, strategies.ParamsError) as exc:
                messages.error(request, f"Cannot load the fields of '{connector}': {getattr(exc, 'message', exc)}")
                return redirect(request.path)
            form = CredentialsForm(config_map, request.POST or None)
            if request.method == "POST" and form.is_valid():
                try:
                    services.account_add_credentials(account=account, connector=connector, fields=form.cleaned_data,
                                                     user=request.user)
                except HummingbotError as exc:
                    _upstream_error(request, exc)
                else:
                    messages.success(request, f"Keys for {connector} sent to Hummingbot (not stored here).")
                    return redirect(reverse("admin:bots_account_change", args=[account.pk]))
            context["form"] = CredentialsForm(config_map)  # never re-render what was typed
        return TemplateResponse(request, "admin/bots/account/credentials.html", context)

    @admin.action(description="Stop all bots of the selected accounts (kill switch)", permissions=["change"])
    def stop_all_bots(self, request, queryset):
        if request.POST.get("confirmed") != "yes":
            return _confirm(self, request, queryset, "stop_all_bots",
                            f"Stop every bot of {', '.join(a.name for a in queryset)} that may trade?")
        runs = [services.stop_all_request(account=account, user=request.user) for account in queryset]
        if len(runs) == 1:
            return redirect(_run_url(runs[0]))
        messages.success(request, f"Kill switch queued for {len(runs)} accounts.")
        return redirect(reverse("admin:bots_killswitchrun_changelist"))


def _confirm(model_admin, request, queryset, action, question):
    context = {**model_admin.admin_site.each_context(request), "opts": model_admin.model._meta, "queryset": queryset,
               "action": action, "question": question, "title": "Please confirm",
               "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME}
    return TemplateResponse(request, "admin/bots/confirm_action.html", context)


def _run_url(run) -> str:
    return reverse("admin:bots_killswitchrun_change", args=[run.pk])


@admin.register(Bot)
class BotAdmin(ServiceAddMixin, admin.ModelAdmin):
    list_display = ["name", "status_badge", "account", "server", "strategy", "market", "status_read", "trades_read"]
    list_filter = ["status", "strategy", "connector", "account", "server"]
    search_fields = ["name", "hummingbot_name", "trading_pair"]
    list_select_related = ["account", "server"]
    actions = ["start_bots", "stop_bots"]
    change_form_template = "admin/bots/bot/change_form.html"
    change_list_template = "admin/bots/bot/change_list.html"
    fields = ["name", "status", "last_error", "account", "strategy", "connector", "trading_pair", "chain", "venue",
              "network", "params", "hummingbot_name", "upstream_status", "status_synced_at", "trades_synced_at",
              "trades_sync_error", "created_by", "created_at", "updated_at"]
    readonly_fields = fields

    @admin.display(description="status", ordering="status")
    def status_badge(self, bot):
        colour = STATUS_COLOURS.get(bot.status, "#0969da")
        return format_html('<b style="color:{}">{}</b>', colour, bot.get_status_display())

    @admin.display(description="market", ordering="trading_pair")
    def market(self, bot):
        return format_html("{}<br><small>{} · {}</small>", short_pair(bot.trading_pair), bot.connector, bot.chain or "")

    @admin.display(description="status read", ordering="status_synced_at")
    def status_read(self, bot):
        return relative_time(bot.status_synced_at)

    @admin.display(description="trades read", ordering="trades_synced_at")
    def trades_read(self, bot):
        return relative_time(bot.trades_synced_at)

    class Media:
        css = {"all": ["bots/lists.css"]}

    def has_delete_permission(self, request, obj=None):
        return False  # bots are archived (trades stay), never deleted

    # --- create: through the service, so it is deployed and audited ---

    add_form = BotCreateForm
    add_title = "Create a bot"
    add_intro = "The bot is deployed in Hummingbot when you press Save: its parameters are checked here, then by Hummingbot."

    def create(self, request, data) -> Bot:
        bot = services.bot_create(user=request.user, **data)
        for warning in selectors.bot_market_warnings(bot):
            messages.warning(request, warning)
        return bot

    def kept_after_failure(self, data):
        return Bot.objects.filter(name=data["name"]).first()  # kept as `error` with the reason: show it

    def created_message(self, bot) -> str:
        return f"Bot {bot.name} deployed as {bot.hummingbot_name}; it is starting."

    # --- buttons on the change page ---

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/do/<str:action>/", view(self.action_view), name="bots_bot_action"),
            path("stop-all/", view(self.stop_all_view), name="bots_bot_stop_all"),
            path("<path:object_id>/params/", view(self.params_view), name="bots_bot_params"),
        ] + super().get_urls()

    BUTTONS = {"start": services.bot_start, "stop": services.bot_stop, "archive": services.bot_archive}
    CONFIRM = {"stop": "Stop this bot? Its open orders are cancelled.",
               "archive": "Archive this bot? It is stopped, its orders cancelled and its container removed."}

    def action_view(self, request, object_id, action):
        bot = get_object_or_404(Bot, pk=object_id)
        if not self.has_change_permission(request, bot) or action not in {*self.BUTTONS, "sync"}:
            raise PermissionDenied
        if action in self.CONFIRM and request.method != "POST":
            return self._confirm_button(request, bot, self.CONFIRM[action], f"{action.title()} {bot.name}")
        return require_POST(self._run_action)(request, bot, action)

    def _run_action(self, request, bot, action):
        try:
            if action == "sync":
                services.bots_sync(server=bot.server)
                failed = services.trades_sync(bot_names=[bot.name])["failed"]
                if failed:
                    messages.warning(request, f"Status read; trades not read: {failed[bot.name]}")
                else:
                    messages.success(request, "Status and trades read from Hummingbot.")
            else:
                self.BUTTONS[action](bot=bot, user=request.user)
                messages.success(request, f"{action.title()} sent; the bot is now {bot.status}.")
        except services.StateConflict as exc:
            messages.warning(request, str(exc))
        except HummingbotError as exc:
            _upstream_error(request, exc)
        return redirect(reverse("admin:bots_bot_change", args=[bot.pk]))

    def _confirm_button(self, request, bot, question: str, title: str):
        """A page whose form POSTs back to the same URL: the button's action runs only after 'Yes'."""
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "object": bot,
                   "question": question, "title": title}
        return TemplateResponse(request, "admin/bots/confirm_button.html", context)

    def stop_all_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return self._confirm_button(request, None, "Stop EVERY bot that may trade, of every account?", "Kill switch")
        return redirect(_run_url(services.stop_all_request(user=request.user)))

    def params_view(self, request, object_id):
        """Change a running bot's live parameters: Hummingbot gets the change, the page shows what it confirmed."""
        bot = get_object_or_404(Bot, pk=object_id)
        if not self.has_change_permission(request, bot) or bot.strategy not in strategies.STRATEGIES:
            raise PermissionDenied
        form = LiveParamsForm(bot, request.POST or None)
        if request.method == "POST" and form.is_valid():
            before = dict(bot.params)
            try:
                services.bot_update_params(bot=bot, changes=form.changes(), user=request.user)
            except ValidationError as exc:
                _add_form_errors(form, exc)
            except services.StateConflict as exc:
                messages.warning(request, str(exc))
            except HummingbotError as exc:
                _upstream_error(request, exc)
            else:
                messages.success(request, "Hummingbot holds the new values: "
                                          + services.params_change_summary(before, bot.params))
                return redirect(reverse("admin:bots_bot_change", args=[bot.pk]))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "bot": bot, "form": form,
                   "title": f"Change parameters of {bot.name}"}
        return TemplateResponse(request, "admin/bots/bot/params.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        bot = get_object_or_404(Bot, pk=object_id)
        extra = {
            "events": selectors.bot_recent_events(bot),
            "recent_trades": selectors.bot_trades(bot)[:20],
            "trade_summary": selectors.bot_trade_summary(bot),
            "trades_url": reverse("admin:bots_trade_changelist") + f"?bot={bot.name}",
            "buttons": _buttons_for(bot),
            "params_changeable": bot.status in states.LIVE_CHANGEABLE and bot.strategy in strategies.STRATEGIES,
        }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    # --- bulk actions ---

    @admin.action(description="Start selected bots", permissions=["change"])
    def start_bots(self, request, queryset):
        self._bulk(request, queryset, services.bot_start)

    @admin.action(description="Stop selected bots", permissions=["change"])
    def stop_bots(self, request, queryset):
        if request.POST.get("confirmed") != "yes":
            return _confirm(self, request, queryset, "stop_bots", f"Stop {queryset.count()} bot(s)? Open orders are cancelled.")
        self._bulk(request, queryset, services.bot_stop)

    def _bulk(self, request, queryset, service):
        done = 0
        for bot in queryset.select_related("account"):
            try:
                service(bot=bot, user=request.user)
                done += 1
            except (services.StateConflict, HummingbotError) as exc:
                messages.warning(request, f"{bot.name}: {getattr(exc, 'message', exc)}")
        messages.success(request, f"Sent to {done} bot(s).")


def _buttons_for(bot: Bot) -> list[str]:
    if bot.status in states.STARTABLE:
        return ["start", "archive", "sync"]
    if bot.status in states.STOPPABLE:
        return ["stop", "archive", "sync"]
    if states.is_archivable(bot, now=timezone.now()):
        return ["archive", "sync"]
    return ["sync"]


def _add_form_errors(form, exc: ValidationError):
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@admin.register(Trade)
class TradeAdmin(admin.ModelAdmin):
    """A million-row ledger: a constant number of cheap queries per page (admin_lists, bench/admin_pages.py)."""

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


@admin.register(KillSwitchRun)
class KillSwitchRunAdmin(admin.ModelAdmin):
    """Past kill-switch runs, read-only; a run's page is its progress page (refreshes itself while it runs)."""

    list_display = ["__str__", "created_at", "actor", "state", "total", "sent", "confirmed"]
    list_filter = ["state", "account"]
    list_select_related = ["account"]
    fields = ["actor", "account", "state", "error", "created_at", "started_at", "finished_at", "task_id"]
    readonly_fields = fields
    change_form_template = "admin/bots/killswitchrun/change_form.html"

    def has_view_permission(self, request, obj=None):
        # Whoever may press the kill switch sees what it did.
        return super().has_view_permission(request, obj) or request.user.has_perm("bots.change_bot")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = get_object_or_404(KillSwitchRun, pk=object_id)
        extra = {"run": run, "results": sorted(run.results.items()),
                 "finished": run.state in (KillSwitchRun.State.DONE, KillSwitchRun.State.FAILED)}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})
