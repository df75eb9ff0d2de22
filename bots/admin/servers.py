"""The Hummingbot servers the bridge drives."""
from django.contrib import admin
from django.db import models
from django.utils.html import format_html

from bots import services
from bots.admin.forms import HummingbotServerForm
from bots.hummingbot.client import url_without_credentials
from bots.hummingbot.errors import HummingbotError
from bots.models import HummingbotServer


@admin.register(HummingbotServer)
class HummingbotServerAdmin(admin.ModelAdmin):
    """The Hummingbot APIs the bridge drives (docs/design.md §10). The password is never stored nor shown, nor is its
    variable chosen: it comes from the variable the server's name gives. A server's URL receives that password and
    its accounts' exchange keys, so only superusers add, repoint or remove one, through the audited service (issue
    15); other staff with the view permission see the list. Reachability is checked live when the list is shown."""

    form = HummingbotServerForm
    list_display = ["name", "url_shown", "username", "password_variable", "reachable"]
    formfield_overrides = {models.URLField: {"assume_scheme": "http"}}  # APIs on a private network

    def get_fields(self, request, obj=None):
        return ["name", "url", "username", "password_variable"] if obj else ["name", "url", "username"]

    def get_readonly_fields(self, request, obj=None):
        # The name keys its sync state, its events and its password variable.
        return ["name", "password_variable"] if obj else []

    def has_add_permission(self, request):
        return services.server_may_be_written(request.user)

    def has_change_permission(self, request, obj=None):
        return services.server_may_be_written(request.user)

    def has_delete_permission(self, request, obj=None):
        return services.server_may_be_written(request.user)

    def save_model(self, request, obj, form, change):
        services.server_save(server=obj, user=request.user)

    def delete_model(self, request, obj):
        services.server_delete(server=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for server in queryset:
            services.server_delete(server=server, user=request.user)

    @admin.display(description="URL")
    def url_shown(self, server):
        return url_without_credentials(server.url) if server.url else "(HUMMINGBOT_API_URL)"

    @admin.display(description="password variable")
    def password_variable(self, server):
        return server.password_variable

    @admin.display(description="reachable")
    def reachable(self, server):
        try:
            info = services.hummingbot_check(server)
        except HummingbotError as exc:
            return format_html('<span style="color:#cf222e">no: {}</span>', exc.message)
        return f"yes, {info.name} {info.version}{' [SANDBOX]' if info.sandbox else ''}"
