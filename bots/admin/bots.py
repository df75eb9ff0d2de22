"""The bot list and a bot's page: create, Start/Stop/Archive/Sync, live parameters, bulk actions."""
import json
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from bots import selectors, services, states, strategies
from bots.admin.common import ServiceAddMixin, _add_form_errors, _confirm, _named, _run_url, _upstream_error, object_or_404
from bots.admin.forms import BotCreateForm, LiveParamsForm, clone_initial
from bots.hummingbot.errors import HummingbotError
from bots.models import Bot
from bots.templatetags.bots_format import plain_decimal, relative_time, short_pair


@admin.register(Bot)
class BotAdmin(ServiceAddMixin, admin.ModelAdmin):
    list_display = ["name", "status_badge", "account", "server", "strategy", "market", "net_pnl", "volume",
                    "status_read", "trades_read"]
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

    # Hummingbot's latest report, kept on the row by the status sync (services/performance.py): no join.
    @admin.display(description="net PnL", ordering="perf_net_pnl_quote")
    def net_pnl(self, bot):
        return plain_decimal(bot.perf_net_pnl_quote)

    @admin.display(description="volume", ordering="perf_volume_quote")
    def volume(self, bot):
        return plain_decimal(bot.perf_volume_quote)

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
        may_stop_bots = self.has_change_permission(request)  # as stop_all_view asks
        extra = {"status_meanings": STATUS_MEANINGS, "live_status": _live_status(), "may_stop_bots": may_stop_bots,
                 "last_kill_switch_run": selectors.last_kill_switch_run() if may_stop_bots else None}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

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
                                  trading_pair=data["trading_pair"], params=data["params"], confirm=data["confirm"])
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
        bot = object_or_404(Bot, object_id)
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
        bot = object_or_404(Bot, object_id)
        if not self.has_change_permission(request, bot) or bot.strategy not in strategies.STRATEGIES:
            raise PermissionDenied
        form = LiveParamsForm(bot, request.POST or None)
        if request.method == "POST" and form.is_valid():
            before = dict(bot.params)
            try:
                services.bot_update_params(bot=bot, changes=form.changes(), user=request.user,
                                           confirm=form.cleaned_data["confirm"])
            except services.ConfirmationRequired as exc:
                form.warnings = [warning.message for warning in exc.warnings]
                form.add_error("confirm", "Check the warnings above, then tick this box to send anyway.")
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
        bot = object_or_404(Bot.objects.select_related("account", "created_by"), object_id)
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
            "charts": _charts(selectors.bot_performance_points(bot, now=timezone.now())),
            "events": selectors.bot_recent_events(bot),
            "alerts": selectors.bot_open_alerts(bot),
            "may_acknowledge": request.user.has_perm("bots.change_alert"),
            "recent_trades": selectors.bot_trades(bot)[:20],
            "trade_summary": summary,
            "trades_url": reverse("admin:bots_trade_changelist") + f"?bot={bot.name}",
            "live_status": _live_status(),
            **(_buttons_by_status(bot) if self.has_change_permission(request, bot) else {"buttons": []}),
            # Desks run many near-identical bots: the create form filled with this one's (an adopted bot has none).
            "clone_url": (f"{reverse('admin:bots_bot_add')}?{urlencode(clone_initial(bot))}"
                          if self.has_add_permission(request) and bot.strategy in strategies.STRATEGIES else None),
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
        done = []
        for bot in queryset.select_related("account"):
            try:
                service(bot=bot, user=request.user)
                done.append(bot.name)
            except (services.StateConflict, HummingbotError) as exc:
                messages.warning(request, f"{bot.name}: {getattr(exc, 'message', exc)}")
        messages.success(request, f"Sent to {len(done)} bot(s)" + (f": {_named(done)}." if done else "."))


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
# Hummingbot's figures as the status sync keeps them (services/performance.py), summed over the bot's controllers.
REPORT_CARDS = [("realized_pnl_quote", "Realized PnL"), ("unrealized_pnl_quote", "Unrealized PnL"),
                ("net_pnl_quote", "Net PnL"), ("volume_quote", "Volume traded")]


def _performance_cards(bot: Bot, summary: dict) -> dict:
    """Hummingbot's latest figures (the charts' last points), and the ledger's volume, fees and inventory."""
    base, quote = bot.trading_pair.split("-", 1) if "-" in bot.trading_pair else ("base", "quote")
    cards = [{"label": label, "value": getattr(bot, f"perf_{field}"), "unit": quote}
             for field, label in REPORT_CARDS] if bot.perf_read_at else []
    volume = summary["bought_quote"] + summary["sold_quote"]
    ledger = [{"label": "Volume in the ledger", "value": volume, "unit": quote},
              {"label": "Fees paid", "value": summary["fees_quote"], "unit": quote},
              {"label": "Inventory", "value": summary["bought_base"] - summary["sold_base"], "unit": base}]
    return {"report": cards, "ledger": ledger, "read_at": bot.perf_read_at,
            "volume_note": _volume_note(bot, summary, volume, quote)}


def _volume_note(bot: Bot, summary: dict, ledger_volume: Decimal, unit: str) -> str:
    """Why Hummingbot's volume and the ledger's differ, in words: its report counts fills the trade sync reads later
    (the history call, every TRADES_SYNC_MINUTES), so a running bot's report is usually a little ahead."""
    fills = f"{summary['trades']} fill{'' if summary['trades'] == 1 else 's'}"
    if bot.perf_read_at is None:
        return (f"Hummingbot has reported no volume yet; the ledger holds {plain_decimal(ledger_volume)} {unit} "
                f"from {fills}.")
    difference = bot.perf_volume_quote - ledger_volume
    # Hummingbot's report is a float rounded to 8 places (the sandbox's too); the ledger sums exact notionals.
    if abs(difference) <= max(Decimal("1e-8"), abs(ledger_volume) * Decimal("1e-9")):
        return f"Hummingbot's volume and the ledger's agree: {plain_decimal(ledger_volume)} {unit} from {fills}."
    amount = f"{plain_decimal(abs(difference).quantize(Decimal('1e-8')))} {unit}"
    if difference > 0:
        minutes = settings.TRADES_SYNC_MINUTES
        why = (f"the trade sync failed: {bot.trades_sync_error}" if bot.trades_sync_error else
               f"the trade sync reads the rest every {'minute' if minutes == 1 else f'{minutes} minutes'}")
        return f"Hummingbot reports {amount} more volume than the {fills} read so far: {why}."
    if summary["last_trade_at"] is not None and summary["last_trade_at"] > bot.perf_read_at:
        why = "fills made after that report"
    else:
        why = ("fills its report does not count, such as an earlier deployment's (a bot deployed again starts a new "
               "report)")
    return f"The ledger holds {amount} more volume than Hummingbot's last report: {why}."


def _charts(points: list[tuple]) -> dict:
    return {"net_pnl": [(at, net) for at, net, _ in points], "volume": [(at, volume) for at, _, volume in points],
            "recent_hours": int(selectors.RECENT_PERFORMANCE.total_seconds() // 3600)}


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
        rows.append({"label": param.label, "name": name, "live": name in spec.live,
                     "unit": strategies.param_unit(name, param), "value": "off" if value is None else value})
    return rows


def _buttons_for(status: str, *, archivable: bool) -> list[str]:
    if status in states.STARTABLE:
        return ["start", "archive", "sync"]
    if status in states.STOPPABLE:
        return ["stop", "archive", "sync"]
    if archivable:
        return ["archive", "sync"]
    return ["sync"]


BUTTON_ORDER = ["start", "stop", "archive", "sync"]


def _buttons_by_status(bot: Bot) -> dict:
    """Every button of the bot's page with the statuses it is drawn for: the live status script shows those of the
    status it reads (bots/static/bots/live_status.js), so which status gets which button is decided here only."""
    now = timezone.now()
    shown_for = {action: [] for action in BUTTON_ORDER}
    for status in Bot.Status.values:
        # A status the bot may turn to counts as just entered (a fresh `deploying` is not archivable yet).
        archivable = states.is_archivable(bot, now=now) if status == bot.status else status in states.ARCHIVABLE
        for action in _buttons_for(status, archivable=archivable):
            shown_for[action].append(status)
    changeable = list(states.LIVE_CHANGEABLE) if bot.strategy in strategies.STRATEGIES else []
    return {"buttons": [(action, statuses) for action, statuses in shown_for.items() if statuses],
            "params_shown_for": changeable}


# The live status script polls GET /bots this often, and at least once per status sync: an outage then shows within
# two BOTS_SYNC_SECONDS (one until GET /bots is due to refresh, one until the next poll).
LIVE_STATUS_SECONDS = 5


def _live_status() -> dict:
    return {"sync_seconds": settings.BOTS_SYNC_SECONDS,
            "period_seconds": min(LIVE_STATUS_SECONDS, settings.BOTS_SYNC_SECONDS)}
