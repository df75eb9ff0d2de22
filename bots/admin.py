"""The control panel. Every button is a POST with CSRF that checks a permission and calls one service."""
import json
from datetime import UTC, datetime
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
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
from bots.templatetags.bots_charts import cumulative
from bots.templatetags.bots_format import abbreviated, plain_decimal, relative_time, short_pair
from bots.validators import BOT_NAME_MAX_LENGTH, validate_name
from bots import task_admin  # noqa: F401,E402  (locks django-q2's admin pages to superusers)

# The left navigation repeats the index and takes 300 of 1366 px: without it the bot and trade lists fit (issue 10).
admin.site.enable_nav_sidebar = False
admin.site.site_url = None  # "View site" led to a debug 404: the panel is the site (issue 10)
# Thresholds of the create form's sanity checks: beyond them a deploy needs the "confirm" box (never a refusal).
FAR_FROM_BOOK_PCT = Decimal(5)
WIDE_BAND_RATIO = Decimal(2)


def _connector_choices() -> tuple[list, str]:
    """Hummingbot's exchange connectors and our Gateway connectors with their network; and why the list is short."""
    gateway = [(name, f"{name} (Gateway, {network})") for name, network in sorted(strategies.GATEWAY_NETWORKS.items())]
    try:
        exchanges, problem = [(name, name) for name in services.key_connectors()], ""
    except HummingbotError as exc:
        exchanges = []
        problem = f"Hummingbot's connector list could not be read ({exc.message}): only Gateway connectors are offered."
    return [("", "---------"), ("Exchanges", exchanges), ("Gateway (DEX, volume only)", gateway)], problem


def _range_text(param) -> str:
    if not hasattr(param, "low"):
        return ""
    low, high = format(param.low, ","), format(param.high, ",")
    return f"> {low}, ≤ {high}" if param.low_open else f"{low} to {high}"


def _param_field(strategy: str, name: str, param) -> forms.Field:
    """One named field per parameter of bots/strategies.py's tables: unit, range, default, live in the help."""
    spec = strategies.STRATEGIES[strategy]
    default = param.default
    item = getattr(param, "item", None)
    unit = param_unit(name, item or param)
    facts = [f"key {name}", f"unit {unit}" if unit else "", _range_text(item or param)]
    if isinstance(default, bool):
        field = forms.BooleanField(required=False, initial=default)
    elif isinstance(default, tuple):
        field = forms.CharField(required=False, initial=", ".join(default), max_length=200)
        facts.insert(1, "comma-separated, 1-5 levels")
    else:
        required = default is not None and not isinstance(default, (str, int))
        field = forms.CharField(required=False, max_length=64, initial="" if required or default is None else default,
                                widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 14}))
        facts.append("required" if required else "blank = off" if default is None else f"default {default}")
    facts.append("changes live" if name in spec.live else "set at start")
    field.label = f"{param.label[0].upper()}{param.label[1:]}" + (f" ({unit})" if unit else "")
    field.help_text = " · ".join(fact for fact in facts if fact)
    return field


def _sanity_warnings(setup: strategies.BotSetup) -> list[str]:
    """What a desk would double-check before deploying. Units are the strategies' (bots/strategies.py).

    Not checked: the order size in quote at the current price, because the Hummingbot API documents no price
    endpoint we could read (docs/hummingbot-api.md).
    """
    params, (base, quote) = setup.params, setup.trading_pair.split("-", 1)
    warnings = []
    if isinstance(params, strategies.SpreadParams):
        levels = len(params.buy_spreads_pct)
        breakeven = params.budget_quote / (params.order_amount * levels)
        if breakeven <= 1:
            warnings.append(
                f"Order amount is in {base} (base): {levels} buy level(s) of {params.order_amount:f} {base} cost more "
                f"than the {params.budget_quote:f} {quote} budget whenever {base} trades above {breakeven:f} {quote}.")
        far = [f"{pct:f}%" for pct in (*params.buy_spreads_pct, *params.sell_spreads_pct) if pct > FAR_FROM_BOOK_PCT]
        if far:
            warnings.append(f"Spreads {', '.join(far)} are far from the book (over {FAR_FROM_BOOK_PCT}%): those orders "
                            "may never fill.")
    else:
        if params.max_price > params.min_price * WIDE_BAND_RATIO:
            warnings.append(f"The price band {params.min_price:f}-{params.max_price:f} {quote} spans more than "
                            f"×{WIDE_BAND_RATIO}: check it brackets the current {base} price closely.")
        if params.max_book_spread_pct > FAR_FROM_BOOK_PCT:
            warnings.append(f"Max book spread {params.max_book_spread_pct:f}% lets legs trade in a thin book "
                            f"(over {FAR_FROM_BOOK_PCT}%).")
    return warnings


class BotCreateForm(forms.Form):
    """One set of named fields per strategy (both on the page: switching loses nothing; bots/static/bots/
    create_form.js shows the chosen one). Parsed by strategies.parse_bot, the one parser; the preview is
    strategies.controller_config's output, the body Hummingbot receives."""

    name = forms.CharField(max_length=BOT_NAME_MAX_LENGTH, validators=[validate_name],
                           help_text="Letters, digits, '_' and '-'. Hummingbot appends a timestamp.")
    account = forms.ModelChoiceField(queryset=Account.objects.all(), to_field_name="name")
    strategy = forms.ChoiceField(choices=[("spread", "Spread: limit orders around mid (pmm_v1, exchanges)"),
                                          ("volume", "Volume: paced taker legs (volume_taker, exchanges and Gateway)")])
    connector = forms.ChoiceField(help_text="Hummingbot's connectors; Gateway connectors with their network.")
    trading_pair = forms.CharField(max_length=129, help_text="BASE-QUOTE, e.g. SHARP-USDT")
    confirm = forms.BooleanField(required=False, label="Deploy despite the warnings",
                                 help_text="Shown when a sanity check asks for a second look.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connector"].choices, self.connector_problem = _connector_choices()
        for strategy, spec in strategies.STRATEGIES.items():
            for name, param in spec.params.items():
                self.fields[f"{strategy}-{name}"] = _param_field(strategy, name, param)
        self.warnings, self.preview = [], None

    def bot_fields(self) -> list:
        return [self[name] for name in ("name", "account", "strategy", "connector", "trading_pair")]

    def strategy_fields(self) -> dict[str, list]:
        return {strategy: [self[f"{strategy}-{name}"] for name in spec.params]
                for strategy, spec in strategies.STRATEGIES.items()}

    def _params(self, strategy: str) -> dict:
        """The chosen strategy's fields as strategies.parse_params reads them; blank = its default (or off)."""
        params = {}
        for name, param in strategies.STRATEGIES[strategy].params.items():
            value = self.cleaned_data.get(f"{strategy}-{name}")
            if isinstance(value, bool):
                params[name] = value
            elif isinstance(param.default, tuple) and value:
                params[name] = [part.strip() for part in value.split(",") if part.strip()]
            elif value:
                params[name] = value.strip()
        return params

    def clean(self):
        data = super().clean()
        strategy = data.get("strategy")
        if strategy not in strategies.STRATEGIES:
            return data
        data["params"] = self._params(strategy)
        try:
            setup = strategies.parse_bot(strategy=strategy, connector=data.get("connector"),
                                         trading_pair=data.get("trading_pair"), params=data["params"])
        except strategies.ParamsError as exc:
            for key, message in exc.errors.items():
                field = key if key in self.fields and "-" not in key else f"{strategy}-{key}"
                field = field if field in self.fields else None
                if field not in self.errors:  # a field Django already refused is not reported twice
                    self.add_error(field, message)
            return data
        if self.errors:
            return data
        self.preview = json.dumps(strategies.controller_config(data["name"], setup.connector, setup.trading_pair,
                                                               setup.params), indent=2)
        self.deploy_limits = strategies.deploy_limits(setup.params)
        self.warnings = _sanity_warnings(setup)
        # A budget above what the account has available is a warning too, never a refusal.
        budget = services.new_bot_budget_warning(account=data.get("account"), connector=setup.connector,
                                                 trading_pair=setup.trading_pair, params=data["params"])
        self.warnings += [budget] if budget else []
        if self.warnings and not data.get("confirm"):
            self.add_error("confirm", "Check the warnings above, then tick this box to deploy anyway.")
        return data


class AccountCreateForm(forms.ModelForm):
    server = forms.ModelChoiceField(queryset=HummingbotServer.objects.all(), required=False, empty_label="default",
                                    help_text="The Hummingbot that holds the account and runs its bots.")

    class Meta:
        model = Account
        fields = ["name", "label", "server"]


class ConnectorChoiceForm(forms.Form):
    """The first step of the keys form: one of Hummingbot's connectors (GET /connectors/, §5)."""

    connector = forms.ChoiceField(help_text="Gateway connectors (jupiter...) take a wallet in Gateway, not keys here.")

    def __init__(self, connectors: list[str], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connector"].choices = [("", "---------")] + [(name, name) for name in connectors]


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
    add_template = "admin/bots/service_form.html"

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
                for warning in getattr(form, "warnings", []):
                    messages.warning(request, warning)
                return redirect(self._change_url(obj))
        return self._add_page(request, form)

    def _add_page(self, request, form):
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": self.add_title, "intro": self.add_intro}
        return TemplateResponse(request, self.add_template, context)

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
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/credentials/", view(self.credentials_view), name="bots_account_credentials"),
            path("<path:object_id>/recreate/", view(require_POST(self.recreate_view)), name="bots_account_recreate"),
            path("balances/refresh/", view(require_POST(self.balances_refresh_view)), name="bots_account_balances"),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The account as Hummingbot sees it (still there? keys for which connectors?) and its balances."""
        account = get_object_or_404(Account, pk=object_id)
        extra = {"may_manage_keys": self.has_change_permission(request, account)}
        try:
            extra["upstream"] = services.account_upstream(account)
            portfolio = services.portfolio(server=account.server)
            extra["balances"], extra["balances_read_at"] = sorted(portfolio.of(account).items()), portfolio.read_at
        except HummingbotError as exc:
            extra["upstream_error"] = exc.message
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def recreate_view(self, request, object_id):
        account = get_object_or_404(Account, pk=object_id)
        if not self.has_change_permission(request, account):
            raise PermissionDenied
        try:
            services.account_recreate_upstream(account=account, user=request.user)
        except HummingbotError as exc:
            _upstream_error(request, exc)
        else:
            messages.success(request, f"Account {account.name} created again in Hummingbot: enter its keys again.")
        return redirect(reverse("admin:bots_account_change", args=[account.pk]))

    def balances_refresh_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            for server in HummingbotServer.objects.all():
                services.portfolio(server=server, refresh=True)
        except HummingbotError as exc:
            _upstream_error(request, exc)
        else:
            messages.success(request, "Balances read from the exchanges through Hummingbot.")
        back = request.POST.get("next", "")
        return redirect(back if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
                        else reverse("admin:index"))

    def delete_view(self, request, object_id, extra_context=None):
        account = get_object_or_404(Account, pk=object_id)
        bots = account.bots.count()
        if bots and self.has_delete_permission(request, account):  # bots keep their trades and are never deleted (PROTECT): say so, not "no permission"
            messages.error(request, f"Account {account.name} still has {bots} bot(s): bots are archived, never "
                                    "deleted, so an account with bots cannot be deleted.")
            return redirect(reverse("admin:bots_account_change", args=[account.pk]))
        return super().delete_view(request, object_id, extra_context)

    def credentials_view(self, request, object_id):
        account = get_object_or_404(Account, pk=object_id)
        if not self.has_change_permission(request, account):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "account": account,
                   "title": f"Exchange keys for {account}"}
        try:
            choice = ConnectorChoiceForm(services.key_connectors(account.server), request.GET or None)
        except HummingbotError as exc:
            _upstream_error(request, exc)
            return redirect(reverse("admin:bots_account_change", args=[account.pk]))
        context["choice"] = choice
        connector = request.GET.get("connector", "").strip().lower()
        if connector:
            try:
                config_map = services.connector_fields(connector, server=account.server)
            except strategies.ParamsError as exc:
                messages.error(request, exc.errors["connector"])
                return TemplateResponse(request, "admin/bots/account/credentials.html",
                                        {**context, "choice": ConnectorChoiceForm(services.key_connectors(account.server))})
            except HummingbotError as exc:
                _upstream_error(request, exc)
                return TemplateResponse(request, "admin/bots/account/credentials.html", context)
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
            context.update(connector=connector, form=CredentialsForm(config_map))  # never re-render what was typed
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


def _index_with_overview(request, extra_context=None):
    """The admin index with the fleet overview (issue 10 item 3) above the model list, for whoever may see bots:
    each Hummingbot server's reachability, and the balances of every server that answers."""
    context = dict(extra_context or {})
    if request.user.has_perm("bots.view_bot"):
        servers = [(server, services.hummingbot_reachability(server)) for server in HummingbotServer.every()]
        balances, read_at, unread = [], [], []
        for server, reachable in servers:
            if not reachable["ok"]:  # a Hummingbot that is down is not asked again for balances
                unread.append(f"{server.name}: Hummingbot is unreachable.")
                continue
            try:
                portfolio = services.portfolio(server=server)
            except HummingbotError as exc:
                unread.append(f"{server.name}: {exc.message}")
                continue
            balances += portfolio.balances.items()
            read_at.append(portfolio.read_at)
        context.update(overview=selectors.fleet_overview(now=timezone.now()), hummingbots=servers,
                       balances=sorted(balances), balances_read_at=min(read_at, default=None), balances_unread=unread)
    return _site_index(request, context)


# The default site is kept (its URLs, login and permissions); only its index view gains the overview's context.
_site_index = admin.site.index
admin.site.index = _index_with_overview


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
    # The page draws its own summary (templates/admin/bots/bot/change_form.html): nothing here is editable.
    fields = ["name"]
    readonly_fields = fields

    @admin.display(description="status", ordering="status")
    def status_badge(self, bot):
        return format_html(
            '<span class="status-badge status-{}" data-bot-status="{}" data-status="{}" title="{}">{}</span>',
            bot.status, bot.name, bot.status, STATUS_MEANINGS.get(bot.status, ""), bot.get_status_display())

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
        css = {"all": ["bots/lists.css", "bots/bot_page.css"]}
        js = ["bots/live_status.js"]

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "status_meanings": STATUS_MEANINGS})

    def has_delete_permission(self, request, obj=None):
        return False  # bots are archived (trades stay), never deleted

    # --- create: through the service, so it is deployed and audited ---

    add_form = BotCreateForm
    add_template = "admin/bots/bot/add_form.html"
    add_title = "Create a bot"
    add_intro = ("Preview shows the exact controller config Hummingbot will receive; Deploy checks the parameters "
                 "here, then Hummingbot checks them and runs the bot.")

    def add_view(self, request, form_url="", extra_context=None):
        """"Preview" renders the form with its checks and the controller config, and deploys nothing."""
        if request.method == "POST" and "preview" in request.POST:
            if not self.has_add_permission(request):
                raise PermissionDenied
            form = self.add_form(request.POST)
            form.is_valid()
            return self._add_page(request, form)
        return super().add_view(request, form_url, extra_context)

    def create(self, request, data) -> Bot:
        bot = services.bot_create(user=request.user, name=data["name"], account=data["account"],
                                  strategy=data["strategy"], connector=data["connector"],
                                  trading_pair=data["trading_pair"], params=data["params"])
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
        bot = get_object_or_404(Bot.objects.select_related("account", "created_by"), pk=object_id)
        summary = selectors.bot_trade_summary(bot)
        extra = {
            "title": f"Bot {bot.name}", "subtitle": None,
            "bot": bot,
            "status_meaning": STATUS_MEANINGS.get(bot.status, ""),
            "status_meanings": STATUS_MEANINGS,
            "performance": _performance_cards(bot, summary),
            "error_logs": _error_logs(bot),
            "param_rows": _param_rows(bot),
            "raw": json.dumps({"params": bot.params, "upstream_status": bot.upstream_status}, indent=2),
            "charts": cumulative(selectors.bot_trade_buckets(bot)),
            "events": selectors.bot_recent_events(bot),
            "recent_trades": selectors.bot_trades(bot)[:20],
            "trade_summary": summary,
            "trades_url": reverse("admin:bots_trade_changelist") + f"?bot={bot.name}",
            "buttons": _buttons_for(bot) if self.has_change_permission(request, bot) else [],
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


STATUS_MEANINGS = {
    "deploying": "The bridge is saving the config and deploying it in Hummingbot.",
    "starting": "Deployed or started; waiting for Hummingbot to report the controller trading.",
    "running": "Hummingbot reports the controller trading (its report has figures).",
    "idle": "Hummingbot reports the bot up but not trading right now.",
    "stopping": "Stop sent; waiting for Hummingbot to report the controller stopped.",
    # docs/hummingbot-api.md §10: a stopped v2 bot's container still says "running", with empty reports.
    "stopped": "Not trading: the controller reports no figures (Hummingbot may still list the container as running).",
    "error": "The last action failed; the reason is below. Start again once it is fixed.",
    "archiving": "Stop-and-archive sent; waiting for the archive to appear in Hummingbot.",
    "archived": "Stopped and archived in Hummingbot; its trades stay here.",
    "not_found": "Hummingbot no longer lists this bot.",
}
# Report keys of docs/hummingbot-api.md §2 (per controller `performance`), summed over the bot's controllers.
REPORT_CARDS = [("realized_pnl_quote", "Realized PnL"), ("unrealized_pnl_quote", "Unrealized PnL"),
                ("global_pnl_quote", "Net PnL"), ("volume_traded", "Volume traded")]
PARAM_UNITS = {"order_amount": "base", "price_floor": "quote", "price_ceiling": "quote", "min_price": "quote",
               "max_price": "quote", "inventory_range_multiplier": "×", "max_empty_legs": "legs"}


def param_unit(name: str, param) -> str:
    """The unit column of the tables in bots/strategies.py, for labels and the bot page."""
    if name in PARAM_UNITS:
        return PARAM_UNITS[name]
    if name.endswith("_pct"):
        return "%"
    if name.endswith("_quote"):
        return "quote"
    return "seconds" if getattr(param, "unit", "") == " s" else ""


def _performance_cards(bot: Bot, summary: dict) -> dict:
    """Hummingbot's figures as read at the last sync, and the fees and inventory of the ledger."""
    reports = (bot.upstream_status or {}).get("performance") or {}
    figures = [report["performance"] for report in reports.values()
               if isinstance(report, dict) and isinstance(report.get("performance"), dict) and report["performance"]]
    base, quote = bot.trading_pair.split("-", 1) if "-" in bot.trading_pair else ("base", "quote")
    cards = [{"label": label, "value": sum(Decimal(str(f.get(key) or 0)) for f in figures), "unit": quote}
             for key, label in REPORT_CARDS] if figures else []
    ledger = [{"label": "Fees paid", "value": summary["fees_quote"], "unit": quote},
              {"label": "Inventory", "value": summary["bought_base"] - summary["sold_base"], "unit": base}]
    return {"report": cards, "ledger": ledger, "read_at": bot.status_synced_at}


def _error_logs(bot: Bot) -> list[dict]:
    logs = (bot.upstream_status or {}).get("error_logs") or []
    return [{"at": _log_time(log.get("timestamp")), "level": log.get("level_name", ""), "message": log.get("msg", "")}
            for log in logs if isinstance(log, dict)]


def _log_time(timestamp) -> datetime | None:
    return datetime.fromtimestamp(timestamp, UTC) if isinstance(timestamp, (int, float)) else None


def _param_rows(bot: Bot) -> list[dict]:
    spec = strategies.STRATEGIES.get(bot.strategy)
    if spec is None:
        return [{"label": name, "name": name, "value": value, "unit": "", "live": False}
                for name, value in bot.params.items()]
    rows = []
    for name, param in spec.params.items():
        value = bot.params.get(name)
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        elif isinstance(value, bool):
            value = "on" if value else "off"
        rows.append({"label": param.label, "name": name, "live": name in spec.live, "unit": param_unit(name, param),
                     "value": "off" if value is None else value})
    return rows


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
