"""Which Hummingbot servers the bridge drives. Adding, repointing and removing one is for superusers and audited
(issue 15, docs/design.md §10): a server's URL receives its password, and the exchange keys of its accounts."""
from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from bots.hummingbot import targets
from bots.hummingbot.client import url_without_credentials
from bots.models import DEFAULT_SERVER, SERVER_PASSWORD_KEY, HummingbotServer, password_key, password_variable
from bots.services.common import record


def server_may_be_written(user) -> bool:
    return user is not None and user.is_active and user.is_superuser


def server_clean(*, name: str, url: str, username: str, adding: bool) -> str:
    """The URL to store (no trailing '/'); ValidationError naming the field that cannot be saved."""
    url = url.rstrip("/")
    if name != DEFAULT_SERVER and not url:
        raise ValidationError({"url": "Required: only the default server takes HUMMINGBOT_API_URL."})
    if url and not username and name != DEFAULT_SERVER:
        raise ValidationError({"username": "Required: the server's HTTP Basic user (its USERNAME)."})
    if url and "@" in urlsplit(url).netloc:
        raise ValidationError({"url": f"Leave credentials out of the URL: its username is the field below and its "
                                      f"password is read from {password_variable(name)}."})
    if url and (refused := targets.refusal(url, settings.HUMMINGBOT_URL_ALLOWLIST)):
        raise ValidationError({"url": refused})
    if adding:
        same = HummingbotServer.objects.alias(key=SERVER_PASSWORD_KEY).filter(key=password_key(name)).first()
        if same is not None:
            raise ValidationError({"name": f"Server '{same.name}' already reads its password from "
                                           f"{same.password_variable}: choose a name that gives another variable."})
    return url


@transaction.atomic
def server_save(*, server: HummingbotServer, user) -> HummingbotServer:
    """Add a server (no pk yet) or store its new URL and username; the audit names who, and old → new."""
    if not server_may_be_written(user):
        raise PermissionDenied("Only a superuser adds or repoints a Hummingbot server.")
    adding = server.pk is None
    server.url = server_clean(name=server.name, url=server.url, username=server.username, adding=adding)
    server.full_clean()
    if adding:
        server.save()
        record(action="server_add", ok=True, user=user,
               detail=f"{server.name}: URL {_shown(server, 'url')}, username {_shown(server, 'username')}; "
                      f"password from {server.password_variable}")
        return server
    before = HummingbotServer.objects.select_for_update().get(pk=server.pk)
    changes = [f"{label} {_shown(before, field)} → {_shown(server, field)}"
               for field, label in (("url", "URL"), ("username", "username"))
               if getattr(before, field) != getattr(server, field)]
    if changes:
        server.save(update_fields=["url", "username"])
        record(action="server_change", ok=True, user=user, detail=f"{server.name}: {'; '.join(changes)}")
    return server


@transaction.atomic
def server_delete(*, server: HummingbotServer, user) -> None:
    """Accounts and bots protect their server (on_delete=PROTECT): only an unused one goes."""
    if not server_may_be_written(user):
        raise PermissionDenied("Only a superuser removes a Hummingbot server.")
    detail = f"{server.name}: URL {_shown(server, 'url')}"
    server.delete()
    record(action="server_delete", ok=True, user=user, detail=detail)


def _shown(server: HummingbotServer, field: str) -> str:
    """A URL without the credentials it may hold; a blank value as the setting it stands for."""
    value = getattr(server, field)
    if not value:
        return f"(HUMMINGBOT_API_{field.upper()})"
    return url_without_credentials(value) if field == "url" else value
