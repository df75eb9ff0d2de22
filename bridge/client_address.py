"""Who is calling: the one rule for a request's client address, used by the admin login lockout (django-axes,
AXES_CLIENT_IP_CALLABLE) and the API throttles (bots/api/throttles.py), so both count the same caller.

Each proxy in front appends the address it received the request from to X-Forwarded-For. With
TRUSTED_PROXY_COUNT = N, the Nth entry from the right was written by the outermost trusted proxy: the client.
Whatever stands left of it the client wrote itself and is never read. The header is believed only from a
connection of TRUSTED_PROXY_IPS when that is set (otherwise a caller reaching the app directly could write any
address there); a missing or malformed entry means the connecting address (REMOTE_ADDR) counts.
"""
import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def proxy_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """TRUSTED_PROXY_IPS (addresses or CIDRs) parsed once at start-up; a typo stops start-up, naming the entry."""
    try:
        return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)
    except ValueError as exc:
        raise ImproperlyConfigured(f"TRUSTED_PROXY_IPS must list addresses or CIDRs: {exc}") from None


def client_address(request) -> str | None:
    """The caller as the lockout and the throttles count it: an IPv4 address, or an IPv6 client's /64 (a host
    usually holds a whole /64 and may use any address in it), None when the request carries no usable address."""
    connecting = _parsed(request.META.get("REMOTE_ADDR") or "")
    caller = connecting
    hops = settings.TRUSTED_PROXY_COUNT
    if hops and _from_trusted_proxy(connecting):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if len(forwarded) >= hops:
            caller = _parsed(forwarded[-hops]) or connecting
    if caller is None:
        return None
    if caller.version == 6:
        return str(ipaddress.IPv6Network((caller, 64), strict=False).network_address)
    return str(caller)


def _from_trusted_proxy(connecting: Address | None) -> bool:
    """No TRUSTED_PROXY_IPS: any connection (none at all is a unix socket, which only a local proxy reaches)."""
    networks = settings.TRUSTED_PROXY_IPS
    return not networks or (connecting is not None and any(connecting in network for network in networks))


def _parsed(text: str) -> Address | None:
    """The address in `text`, None if malformed; IPv4 written as IPv6 (`::ffff:a.b.c.d`, as a dual-stack socket
    gives it) is read as IPv4."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address
