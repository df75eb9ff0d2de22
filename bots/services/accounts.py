"""Accounts and their exchange keys (forwarded to Hummingbot, never stored here)."""
from __future__ import annotations

from bots import strategies
from bots.hummingbot.client import get_client
from bots.hummingbot.errors import HummingbotError
from bots.models import Account
from bots.services.common import record


def account_create(*, name: str, label: str = "", user=None) -> Account:
    """Create the account in Hummingbot first (deploy needs its credentials folder), then here."""
    account = Account(name=name, label=label)
    account.full_clean()
    try:
        if name not in get_client().list_accounts():
            get_client().add_account(name)
    except HummingbotError as exc:
        record(action="account_create", ok=False, user=user, detail=f"{name}: {exc.message}")
        raise
    account.save()
    record(action="account_create", ok=True, user=user, account=account, detail=name)
    return account


def connector_fields(connector: str) -> dict:
    """The credential fields Hummingbot expects for a connector (its config-map), for the keys form."""
    return get_client().connector_config_map(strategies.clean_connector(connector))


def account_add_credentials(*, account: Account, connector: str, fields: dict, user=None) -> None:
    """Forward exchange keys to Hummingbot; they are never stored or logged here."""
    connector = strategies.clean_connector(connector)
    try:
        get_client().add_credentials(account.name, connector, fields)
    except HummingbotError as exc:
        record(action="credentials", ok=False, user=user, account=account, detail=f"{connector}: {exc.message}")
        raise
    record(action="credentials", ok=True, user=user, account=account, detail=connector)
