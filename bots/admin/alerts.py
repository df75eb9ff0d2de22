"""The alerts inbox: open, acknowledged and resolved alerts, Acknowledge (a POST, audited), the channels masked and
the last delivery failure."""
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from bots import channels, selectors, services
from bots.models import Alert
from bots.templatetags.bots_format import relative_time


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [(state, state) for state in selectors.ALERT_STATES]

    def queryset(self, request, queryset):
        if self.value() not in selectors.ALERT_STATES:
            return queryset
        return queryset.filter(selectors.alert_state(self.value()))


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["severity_badge", "what", "message", "state_shown", "opened", "delivery", "acknowledge"]
    list_filter = [StateFilter, "severity", "rule"]
    list_select_related = ["bot", "server", "account"]
    search_fields = ["subject", "message"]
    fields = ["rule", "subject", "severity", "message", "details", "opened_at", "notified_at", "notifications",
              "notice_due", "delivery_error", "delivery_failed_at", "acknowledged_at", "acknowledged_by_name",
              "resolved_at", "resolution"]
    readonly_fields = fields
    change_list_template = "admin/bots/alert/change_list.html"

    class Media:
        css = {"all": ["bots/bot_page.css"]}
    change_form_template = "admin/bots/alert/change_form.html"

    def has_add_permission(self, request):
        return False  # the syncs open alerts

    def has_delete_permission(self, request, obj=None):
        return False  # the record of what the desk was told

    @admin.display(description="severity", ordering="severity")
    def severity_badge(self, alert):
        return format_html('<span class="status-badge alert-{}">{}</span>', alert.severity, alert.severity)

    @admin.display(description="alert", ordering="rule")
    def what(self, alert):
        if alert.bot_id:
            return format_html('{}<br><small><a href="{}">{}</a></small>', alert.get_rule_display(),
                               reverse("admin:bots_bot_change", args=[alert.bot_id]), alert.subject)
        return format_html("{}<br><small>{}</small>", alert.get_rule_display(), alert.subject)

    @admin.display(description="state")
    def state_shown(self, alert):
        if alert.state == "resolved":
            return format_html("resolved {}<br><small>{}</small>", relative_time(alert.resolved_at), alert.resolution)
        if alert.state == "acknowledged":
            return format_html("acknowledged by {} {}", alert.acknowledged_by_name,
                               relative_time(alert.acknowledged_at))
        return "open"

    @admin.display(description="opened", ordering="opened_at")
    def opened(self, alert):
        return relative_time(alert.opened_at)

    @admin.display(description="notified")
    def delivery(self, alert):
        if alert.delivery_error:
            return format_html('<span class="errornote">{}</span>', alert.delivery_error)
        if alert.notified_at is None:
            return "not yet" if alert.notice_due else "no channel takes its severity"
        return format_html("{} time(s), last {}", alert.notifications, relative_time(alert.notified_at))

    @admin.display(description="")
    def acknowledge(self, alert):
        if alert.state != "open":
            return ""
        # Inside the changelist's own form (forms do not nest): this button posts it, CSRF token included, here.
        return format_html('<button type="submit" class="button" formaction="{}" name="next" value="{}">Acknowledge'
                           "</button>", reverse("admin:bots_alert_acknowledge", args=[alert.pk]),
                           reverse("admin:bots_alert_changelist"))

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        return shown if self.has_change_permission(request) else [name for name in shown if name != "acknowledge"]

    def changelist_view(self, request, extra_context=None):
        try:
            configured, problem = channels.configured(), ""
        except channels.ConfigError as exc:
            configured, problem = [], str(exc)
        extra = {"title": "Alerts", "channels": configured, "channels_problem": problem,
                 "failure": selectors.last_delivery_failure()}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        alert = get_object_or_404(Alert, pk=object_id)
        extra = {"may_acknowledge": alert.state == "open" and self.has_change_permission(request), "alert": alert}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("<int:object_id>/acknowledge/", view(require_POST(self.acknowledge_view)),
                     name="bots_alert_acknowledge")] + super().get_urls()

    def acknowledge_view(self, request, object_id):
        if not self.has_change_permission(request):
            raise PermissionDenied
        alert = get_object_or_404(Alert, pk=object_id)
        try:
            services.alert_acknowledge(alert=alert, user=request.user)
        except services.StateConflict as exc:
            messages.warning(request, str(exc))
        else:
            messages.success(request, f"Alert #{alert.pk} acknowledged by {alert.acknowledged_by_name}: no more "
                                      "reminders; its resolution is still notified.")
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("admin:bots_alert_change", args=[alert.pk])
        return redirect(target)

