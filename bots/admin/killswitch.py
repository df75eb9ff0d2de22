"""Past kill-switch runs and their progress pages."""
from django.contrib import admin

from bots.admin.common import ReadOnlyAdmin, object_or_404
from bots.models import KillSwitchRun


@admin.register(KillSwitchRun)
class KillSwitchRunAdmin(ReadOnlyAdmin, admin.ModelAdmin):
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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = object_or_404(KillSwitchRun, object_id)
        extra = {"run": run, "results": sorted(run.results.items()),
                 "finished": run.state in (KillSwitchRun.State.DONE, KillSwitchRun.State.FAILED)}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})
