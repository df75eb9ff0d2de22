"""Accounts, their exchange keys (forwarded to Hummingbot, never stored here) and their balances."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.cache import cache
from django.utils import timezone

from bots import strategies
from bots.hummingbot.client import Balance, get_client
from bots.hummingbot.errors import HummingbotError, HummingbotNotFound
from bots.models import Account, HummingbotServer
from bots.services.common import record

CONNECTORS_CACHE_KEY, CONNECTORS_CACHE_SECONDS = "hummingbot:connectors", 3600
PORTFOLIO_CACHE_KEY, PORTFOLIO_CACHE_SECONDS = "hummingbot:portfolio", 300  # the server refreshes every 5 min (§12)


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


def account_recreate_upstream(*, account: Account, user=None) -> None:
    """Create again in Hummingbot an account it lost (a reset sandbox or server); its keys must be entered again."""
    client = get_client(account.server)
    try:
        if account.name not in client.list_accounts():
            client.add_account(account.name)
    except HummingbotError as exc:
        record(action="account_recreate", ok=False, user=user, account=account, detail=exc.message)
        raise
    record(action="account_recreate", ok=True, user=user, account=account, detail=account.name)


def key_connectors(server: HummingbotServer | None = None) -> list[str]:
    """The connectors a server's Hummingbot accepts keys for (GET /connectors/, gateway names excluded: §5);
    cached an hour per server."""
    key = f"{CONNECTORS_CACHE_KEY}:{server.name if server else 'default'}"
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
    cache.delete(_portfolio_key(account.server))  # a new connector's balances appear at the next read


@dataclass(frozen=True)
class Portfolio:
    """Every account's balances per connector, as Hummingbot last reported them, and when they were read here."""

    read_at: datetime
    balances: dict[str, dict[str, list[Balance]]]

    def of(self, account: Account) -> dict[str, list[Balance]]:
        return self.balances.get(account.name, {})


def portfolio(*, server: HummingbotServer | None = None, refresh: bool = False) -> Portfolio:
    """A server's portfolio state (§12), kept here for 5 minutes; `refresh` makes Hummingbot query the exchanges
    now and replaces what is kept. Raises HummingbotError."""
    key = _portfolio_key(server)
    kept = None if refresh else cache.get(key)
    if kept is None:
        kept = Portfolio(read_at=timezone.now(), balances=get_client(server).portfolio_state(refresh=refresh))
        cache.set(key, kept, PORTFOLIO_CACHE_SECONDS)
    return kept


def kept_portfolio(server: HummingbotServer) -> Portfolio | None:
    """The server's portfolio as last read, if it is still kept; never asks Hummingbot (the alerts' balance rule)."""
    return cache.get(_portfolio_key(server))


def _portfolio_key(server: HummingbotServer | None) -> str:
    return f"{PORTFOLIO_CACHE_KEY}:{server.name if server else 'default'}"


def account_available(account: Account, connector: str, token: str) -> Decimal | None:
    """What the account has available of `token` on `connector`, None when Hummingbot does not report it."""
    for balance in portfolio(server=account.server).of(account).get(connector, []):
        if balance.token.upper() == token.upper():
            return balance.available
    return None


def budget_warning(*, account: Account, connector: str, token: str, budget: Decimal) -> str | None:
    """The bot form's warning when a budget exceeds what the account has available (None when it fits or when
    balances cannot be read: a warning must never block a create)."""
    try:
        available = account_available(account, connector, token)
    except HummingbotError:
        return None
    if available is None or budget <= available:
        return None
    return (f"The budget {budget} {token} exceeds what {account.name} has available on {connector}: "
            f"{available} {token}.")


BUDGET_PARAMS = ("budget_quote", "total_amount_quote")  # spread, volume (bots/strategies.py)


def new_bot_budget_warning(*, account: Account | None, connector: str, trading_pair: str, params) -> str | None:
    """The create form's hook: its raw input (checked later by bots/strategies.py), the budget in the pair's quote."""
    budget = next((params[name] for name in BUDGET_PARAMS if isinstance(params, dict) and name in params), None)
    try:
        budget = Decimal(str(budget))
    except (InvalidOperation, ValueError):
        return None
    if account is None or not budget.is_finite() or "-" not in trading_pair:
        return None
    return budget_warning(account=account, connector=connector.strip().lower(),
                          token=trading_pair.rsplit("-", 1)[1].upper(), budget=budget)
