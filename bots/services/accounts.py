"""Accounts, their exchange keys (forwarded to Hummingbot, never stored here) and their balances."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from bots import strategies
from bots.hummingbot.client import Balance, get_client
from bots.hummingbot.errors import HummingbotError, HummingbotNotFound
from bots.models import DESK_LIMITS, Account, HummingbotServer
from bots.services.common import record

CONNECTORS_CACHE_KEY, CONNECTORS_CACHE_SECONDS = "hummingbot:connectors", 3600
PORTFOLIO_CACHE_KEY, PORTFOLIO_CACHE_SECONDS = "hummingbot:portfolio", 300  # the server refreshes every 5 min (§12)
KEYS_CACHE_KEY = "hummingbot:keys"


def account_create(*, name: str, label: str = "", server: HummingbotServer | None = None, user=None) -> Account:
    """Create the account in its server's Hummingbot first (deploy needs its credentials folder), then here."""
    account = Account(name=name, label=label, server=server or HummingbotServer.default())
    account.full_clean()
    try:
        client = get_client(account.server)
        if name not in client.list_accounts():
            client.add_account(name)
    except HummingbotError as exc:
        record(action="account_create", ok=False, user=user, detail=f"{name}: {exc.message}")
        raise
    account.save()
    record(action="account_create", ok=True, user=user, account=account, detail=name)
    return account


@dataclass(frozen=True)
class AccountUpstream:
    """What Hummingbot knows of an account: whether it still has it, and which connectors have keys there."""

    exists: bool
    connectors: list[str] = field(default_factory=list)


def account_upstream(account: Account) -> AccountUpstream:
    """Raises HummingbotError when Hummingbot cannot be asked."""
    try:
        return AccountUpstream(exists=True, connectors=sorted(get_client(account.server).list_credentials(account.name)))
    except HummingbotNotFound:  # no credentials folder: the account is gone upstream (§5)
        return AccountUpstream(exists=False)


def account_set_desk_limits(*, account: Account, limits: dict, user) -> Account:
    """Set an account's desk limits (`limits`: name -> Decimal or None for no limit), audited with before -> after.
    Only users with bots.change_desk_limits may: they bound what every write path lets through."""
    if user is None or not user.has_perm("bots.change_desk_limits"):
        raise PermissionDenied("Changing desk limits needs the 'Can change the desk limits of an account' permission.")
    changed = {name: (getattr(account, name), limits[name]) for name in DESK_LIMITS
               if name in limits and getattr(account, name) != limits[name]}
    if not changed:
        return account
    for name, (_, new) in changed.items():
        setattr(account, name, new)
    account.full_clean()
    Account.objects.filter(pk=account.pk).update(**{name: new for name, (_, new) in changed.items()})
    shown = "; ".join(f"{name} {_limit_text(old)} -> {_limit_text(new)}" for name, (old, new) in changed.items())
    record(action="desk_limits", ok=True, user=user, account=account, detail=shown)
    return account


def _limit_text(value: Decimal | None) -> str:
    return "none" if value is None else format(value.normalize(), "f")


def account_recreate_upstream(*, account: Account, user=None) -> None:
    """Create again in Hummingbot an account it lost (a reset sandbox or server); its keys must be entered again."""
    client = get_client(account.server)
    try:
        if account.name not in client.list_accounts():
            client.add_account(account.name)
    except HummingbotError as exc:
        record(action="account_recreate", ok=False, user=user, account=account, detail=exc.message)
        raise
    cache.delete(keys_cache_key(account))
    record(action="account_recreate", ok=True, user=user, account=account, detail=account.name)


def key_connectors(server: HummingbotServer | None = None) -> list[str]:
    """The connectors a server's Hummingbot accepts keys for (GET /connectors/, gateway names excluded: §5);
    cached an hour per server."""
    key = connectors_cache_key(server)
    connectors = cache.get(key)
    if connectors is None:
        connectors = sorted(get_client(server).list_connectors())
        cache.set(key, connectors, CONNECTORS_CACHE_SECONDS)
    return connectors


def clean_key_connector(connector: str, server: HummingbotServer | None = None) -> str:
    """A connector keys can be added for, else ParamsError naming the connector field (never an upstream 500:
    config-map answers an unknown connector with HTTP 500 text, §5)."""
    connector = strategies.clean_connector(connector)
    if connector in strategies.GATEWAY_NETWORKS:
        raise strategies.ParamsError({"connector": (
            f"{connector} is a Gateway connector: its wallet is added in Gateway (docs/hummingbot-strategies.md), "
            "not as exchange keys here.")})
    if connector not in key_connectors(server):
        raise strategies.ParamsError({"connector": f"'{connector}' is not one of Hummingbot's connectors."})
    return connector


def connector_fields(connector: str, *, server: HummingbotServer | None = None) -> dict:
    """The credential fields a server's Hummingbot expects for a connector (its config-map), for the keys form."""
    return get_client(server).connector_config_map(clean_key_connector(connector, server))


def account_add_credentials(*, account: Account, connector: str, fields: dict, user=None) -> None:
    """Forward exchange keys to Hummingbot; they are never stored or logged here."""
    connector = clean_key_connector(connector, account.server)
    try:
        get_client(account.server).add_credentials(account.name, connector, fields)
    except HummingbotError as exc:
        record(action="credentials", ok=False, user=user, account=account, detail=f"{connector}: {exc.message}")
        raise
    record(action="credentials", ok=True, user=user, account=account, detail=connector)
    # A new connector's balances and keys appear at the next read.
    cache.delete_many([portfolio_cache_key(account.server), keys_cache_key(account)])


@dataclass(frozen=True)
class Portfolio:
    """Every account's balances per connector, as Hummingbot last reported them, and when they were read here."""

    read_at: datetime
    balances: dict[str, dict[str, list[Balance]]]

    def of(self, account: Account) -> dict[str, list[Balance]]:
        return self.balances.get(account.name, {})

    def available(self, account: Account, connector: str, token: str) -> Decimal | None:
        """What the account has available of `token` on `connector`, None when Hummingbot does not report it."""
        for balance in self.of(account).get(connector, []):
            if balance.token.upper() == token.upper():
                return balance.available
        return None


def portfolio(*, server: HummingbotServer | None = None, refresh: bool = False) -> Portfolio:
    """A server's portfolio state (§12), kept here for 5 minutes; `refresh` makes Hummingbot query the exchanges
    now and replaces what is kept. Raises HummingbotError."""
    key = portfolio_cache_key(server)
    kept = None if refresh else cache.get(key)
    if kept is None:
        kept = read_portfolio(get_client(server), refresh=refresh)
        cache.set(key, kept, PORTFOLIO_CACHE_SECONDS)
    return kept


def read_portfolio(client, *, refresh: bool = False) -> Portfolio:
    return Portfolio(read_at=timezone.now(), balances=client.portfolio_state(refresh=refresh))


def kept_portfolio(server: HummingbotServer) -> Portfolio | None:
    """The server's portfolio as last read, if it is still kept; never asks Hummingbot (the alerts' balance rule)."""
    return cache.get(portfolio_cache_key(server))


def portfolio_cache_key(server: HummingbotServer | None) -> str:
    return f"{PORTFOLIO_CACHE_KEY}:{server.name if server else 'default'}"


def connectors_cache_key(server: HummingbotServer | None) -> str:
    return f"{CONNECTORS_CACHE_KEY}:{server.name if server else 'default'}"


def keys_cache_key(account: Account) -> str:
    """Where the pre-trade checks keep the account's key list (bots/services/pretrade.py); forgotten when keys are
    added or the account is recreated here."""
    return f"{KEYS_CACHE_KEY}:{account.pk}"


def account_available(account: Account, connector: str, token: str) -> Decimal | None:
    """What the account has available of `token` on `connector`, None when Hummingbot does not report it."""
    return portfolio(server=account.server).available(account, connector, token)
