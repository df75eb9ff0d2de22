"""Accounts and their exchange keys (forwarded to Hummingbot, never stored here)."""
from __future__ import annotations

from bots import strategies
from bots.hummingbot.client import get_client
from bots.hummingbot.errors import HummingbotError
from bots.models import Account, HummingbotServer
from bots.services.common import record


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


def connector_fields(connector: str, *, server: HummingbotServer | None = None) -> dict:
    """The credential fields a server's Hummingbot expects for a connector (its config-map), for the keys form."""
    return get_client(server).connector_config_map(strategies.clean_connector(connector))


def account_add_credentials(*, account: Account, connector: str, fields: dict, user=None) -> None:
    """Forward exchange keys to Hummingbot; they are never stored or logged here."""
    connector = strategies.clean_connector(connector)
    try:
        get_client(account.server).add_credentials(account.name, connector, fields)
    except HummingbotError as exc:
        record(action="credentials", ok=False, user=user, account=account, detail=f"{connector}: {exc.message}")
        raise
    record(action="credentials", ok=True, user=user, account=account, detail=connector)
