"""The alert channels: Apprise URLs from ALERT_URLS (Telegram, Slack, Discord, e-mail, webhooks...). The only
module that sends notifications, as bots/hummingbot/client.py is the only one that calls Hummingbot.

A channel's URL carries its token: it is read from the environment only, never stored, logged or shown. The panel
and the database know a channel by `shown` (scheme and host) and `key` (a digest of the URL, to remember which
channels a partly failed notification still has to reach).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from django.conf import settings

# Entries are separated by spaces or commas; a comma followed by no "scheme://" belongs to the URL (e.g. the
# recipients of a mailto:// URL). "critical=URL" routes by severity: that channel gets critical alerts only.
SEPARATOR = re.compile(r"\s+|,(?=\s*(?:[a-z]+=)?[A-Za-z][A-Za-z0-9+.-]*://)")
ROUTED = re.compile(r"(?P<severity>[a-z]+)=(?P<url>[A-Za-z][A-Za-z0-9+.-]*://.*)", re.DOTALL)
SEVERITIES = ("warning", "critical")


@dataclass(frozen=True)
class Channel:
    url: str = field(repr=False)
    only: str | None = None  # a severity: this channel gets alerts of that severity only

    @property
    def key(self) -> str:
        return hashlib.sha256(self.url.encode()).hexdigest()[:16]

    @property
    def scheme(self) -> str:
        return self.url.split("://", 1)[0].lower()

    @property
    def shown(self) -> str:
        """Scheme and host: what the panel shows of a URL whose other parts may be secrets."""
        plugin = _plugin(self.url)
        if plugin is None:
            return f"{self.scheme}:// (not an Apprise URL)"
        host = getattr(plugin, "host", None) or ""
        port = getattr(plugin, "port", None)
        return f"{self.scheme}://{host}{f':{port}' if port else ''}" + (f" ({self.only} only)" if self.only else "")

    @property
    def valid(self) -> bool:
        return _plugin(self.url) is not None

    def takes(self, severity: str) -> bool:
        return self.only is None or self.only == severity


class ConfigError(ValueError):
    """ALERT_URLS holds an entry that is no channel; the message never repeats the entry (it may hold a token)."""


def configured() -> list[Channel]:
    """The channels ALERT_URLS names, in its order. Raises ConfigError for a routing prefix that is no severity."""
    channels = []
    for position, entry in enumerate(filter(None, SEPARATOR.split(settings.ALERT_URLS.strip())), start=1):
        routed = ROUTED.fullmatch(entry)
        if routed is not None:
            if routed["severity"] not in SEVERITIES:
                raise ConfigError(f"ALERT_URLS entry {position}: '{routed['severity']}=' routes to no severity; "
                                  f"use {' or '.join(f'{s}=' for s in SEVERITIES)}.")
            channels.append(Channel(routed["url"], only=routed["severity"]))
        else:
            channels.append(Channel(entry))
    return channels


def send(channel: Channel, *, title: str, body: str, failure: bool) -> str:
    """Send one notification; '' when the channel took it, else why not, with no part of the URL but its host.
    `failure` picks Apprise's failure look (red), else its success one (a resolved alert)."""
    import apprise  # here, not at the top: ~0.1 s of start-up for every process, and only deliveries send

    notifier = apprise.Apprise()
    if not notifier.add(channel.url):
        return "not an Apprise URL Apprise can use"
    kind = apprise.NotifyType.FAILURE if failure else apprise.NotifyType.SUCCESS
    result = notifier.notify(title=title, body=body, notify_type=kind)
    if result:
        return ""
    reasons = [entry.message for service in result.results for entry in service.logs()
               if entry.level in ("WARNING", "ERROR")]
    return _without_secrets(reasons[-1] if reasons else f"Apprise reports {result.status.name.lower()}", channel.url)


def _plugin(url: str):
    import apprise  # as in send()

    return apprise.Apprise.instantiate(url, suppress_exceptions=True)


def _without_secrets(text: str, url: str) -> str:
    """Apprise's messages name the host, not the token; this makes sure of it for every part of the URL but the
    scheme and host (user, password, path segments, query values)."""
    rest = url.split("://", 1)[-1]
    parts = {rest, url, *re.split(r"[/?&=@:#]", rest)}
    plugin = _plugin(url)
    host = str(getattr(plugin, "host", "") or "")
    for part in sorted(parts, key=len, reverse=True):
        if len(part) >= 4 and part != host:
            text = text.replace(part, "***").replace(unquote(part), "***")
    return text
