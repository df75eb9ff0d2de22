"""The Hummingbot servers the bridge drives."""
from django.contrib import admin
from django.db import models
from django.utils.html import format_html

from bots import services
from bots.hummingbot.errors import HummingbotError
from bots.models import HummingbotServer


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
