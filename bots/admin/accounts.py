"""Client accounts: created in Hummingbot first, their keys forwarded, their balances, their kill switch, the daily
report's CSV."""
from datetime import date

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from bots import selectors, services, strategies
from bots.admin.common import ServiceAddMixin, _confirm, _run_url, _upstream_error, object_or_404
from bots.admin.forms import AccountCreateForm, ConnectorChoiceForm, CredentialsForm, DeskLimitsForm, PeriodForm
from bots.csv_export import csv_response
from bots.hummingbot.errors import HummingbotError
from bots.models import DESK_LIMITS, Account, HummingbotServer
from bots.services.report import CSV_HEADER


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
            path("<path:object_id>/desk-limits/", view(self.desk_limits_view), name="bots_account_desk_limits"),
            path("balances/refresh/", view(require_POST(self.balances_refresh_view)), name="bots_account_balances"),
            path("daily-report.csv", view(self.daily_report_csv_view), name="bots_account_daily_report"),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The account as Hummingbot sees it (still there? keys for which connectors?), its balances, and its bots'
        volume and fees over a period chosen by GET parameters (PeriodForm), from the daily rollups."""
        account = object_or_404(Account, object_id)
        period = PeriodForm.of_query(request.GET)
        since, until = period.dates(timezone.now().date())  # timezone.now() is UTC: UTC days
        extra = {"may_manage_keys": self.has_change_permission(request, account), "period_form": period,
                 "ledger_totals": selectors.ledger_totals(since=since, until=until, account=account),
                 "may_change_limits": request.user.has_perm("bots.change_desk_limits"),
                 "desk_limits": [(Account._meta.get_field(name).verbose_name.capitalize(), getattr(account, name))
                                 for name in DESK_LIMITS]}
        try:
            extra["upstream"] = services.account_upstream(account)
            portfolio = services.portfolio(server=account.server)
            extra["balances"], extra["balances_read_at"] = sorted(portfolio.of(account).items()), portfolio.read_at
        except HummingbotError as exc:
            extra["upstream_error"] = exc.message
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def desk_limits_view(self, request, object_id):
        """The account's desk limits, which the pre-trade checks enforce on every write path (audited)."""
        account = object_or_404(Account, object_id)
        if not request.user.has_perm("bots.change_desk_limits"):
            raise PermissionDenied
        form = DeskLimitsForm(account, request.POST or None)
        if request.method == "POST" and form.is_valid():
            services.account_set_desk_limits(account=account, limits=form.cleaned_data, user=request.user)
            messages.success(request, f"Desk limits of {account.name} saved.")
            return redirect(reverse("admin:bots_account_change", args=[account.pk]))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "account": account,
                   "form": form, "title": f"Desk limits of {account}"}
        return TemplateResponse(request, "admin/bots/account/desk_limits.html", context)

    def recreate_view(self, request, object_id):
        account = object_or_404(Account, object_id)
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
        # Every Hummingbot server asks every exchange again (docs/design.md §5): not a viewer's button.
        if not self.has_change_permission(request):
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

    def daily_report_csv_view(self, request):
        """The daily desk report (services.report_rows) of ?day=YYYY-MM-DD, yesterday (UTC) by default, as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        raw = request.GET.get("day", "")
        try:
            day = date.fromisoformat(raw) if raw else services.report_day(timezone.now())
        except ValueError:
            return HttpResponseBadRequest(f"day: {raw!r} is not a date; give it as YYYY-MM-DD, e.g. "
                                          f"?day={services.report_day(timezone.now()):%Y-%m-%d}.",
                                          content_type="text/plain; charset=utf-8")
        return csv_response(f"daily-report-{day:%Y-%m-%d}.csv", CSV_HEADER,
                            services.report_rows(day, selectors.daily_report(day)))

    def delete_view(self, request, object_id, extra_context=None):
        account = object_or_404(Account, object_id)
        bots = account.bots.count()
        if bots and self.has_delete_permission(request, account):  # bots keep their trades and are never deleted (PROTECT): say so, not "no permission"
            messages.error(request, f"Account {account.name} still has {bots} bot(s): bots are archived, never "
                                    "deleted, so an account with bots cannot be deleted.")
            return redirect(reverse("admin:bots_account_change", args=[account.pk]))
        return super().delete_view(request, object_id, extra_context)

    def credentials_view(self, request, object_id):
        account = object_or_404(Account, object_id)
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
                            f"Stop every bot that may trade, of {queryset.count()} account(s)?")
        runs = [services.stop_all_request(account=account, user=request.user) for account in queryset]
        if len(runs) == 1:
            return redirect(_run_url(runs[0]))
        messages.success(request, f"Kill switch queued for {len(runs)} accounts.")
        return redirect(reverse("admin:bots_killswitchrun_changelist"))
