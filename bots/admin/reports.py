"""The daily reports sent (bots/services/report.py): which day, when, to how many channels, and what failed."""
from django.contrib import admin

from bots.models import DailyReport


@admin.register(DailyReport)
class DailyReportAdmin(admin.ModelAdmin):
    list_display = ["day", "sent_at", "channels", "delivery_error"]
    fields = list_display
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # written by the daily task only

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
