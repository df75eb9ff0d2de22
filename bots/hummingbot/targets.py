"""Which hosts a Hummingbot server's URL may name: HUMMINGBOT_URL_ALLOWLIST (issue 15, docs/design.md §10).

An entry is a host name, allowed as written, or an address or CIDR network, which allows a host whose every resolved
address lies in a listed network. Empty: every host. Checked when a server is saved and again when its client is
built, so a row edited in the database cannot point the bridge elsewhere."""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

SETTING = "HUMMINGBOT_URL_ALLOWLIST"


def refusal(url: str, allowlist: list[str] | tuple[str, ...]) -> str | None:
    """None when `url` may be called; otherwise why not, in words a person can act on."""
    if not allowlist:
        return None
    names, networks = _entries(allowlist)
    host = (urlsplit(url).hostname or "").lower()
    if host in names:
        return None
    try:
        addresses = sorted({info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})
    except (socket.gaierror, UnicodeError):
        return f"{host or url!r} does not resolve, so it cannot be checked against {SETTING}."
    outside = [address for address in addresses
               if not any(ipaddress.ip_address(address.split("%")[0]) in network for network in networks)]
    if outside:
        return f"{host} ({', '.join(outside)}) is outside {SETTING}; ask whoever deploys the bridge to add it."
    return None


def _entries(allowlist) -> tuple[set[str], list]:
    names, networks = set(), []
    for entry in (entry.strip() for entry in allowlist):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            if "/" in entry:
                raise ImproperlyConfigured(f"{SETTING}: {entry!r} is neither a host name nor a CIDR network.") from None
            names.add(entry.lower())
    return names, networks
