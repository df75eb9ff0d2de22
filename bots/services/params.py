"""Live parameter changes on a running bot (docs/hummingbot-api.md §4.1).

Hummingbot merges whatever it is sent into the bot's own controller YAML without validating it, and the running bot
applies only the fields marked is_updatable, within 10 s. So the change is validated here with the typed parameters
(strategies.live_change refuses what is not live), sent as a delta, read back, and only then stored and audited.
"""
from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bots import strategies
from bots.hummingbot.client import get_client
from bots.hummingbot.errors import HummingbotBadResponse, HummingbotError
from bots.models import Bot
from bots.services.common import StateConflict, record, stored_params
from bots.states import LIVE_CHANGEABLE

ACTION = "params"


def bot_update_params(*, bot: Bot, changes: dict, user=None) -> Bot:
    """Change a running bot's live parameters in Hummingbot, confirm what it holds, then update the row.

    Raises ValidationError naming each refused field (nothing sent), StateConflict when the bot is not running or
    changed meanwhile, HummingbotError when Hummingbot failed or holds something else (the row is unchanged).
    """
    if bot.strategy not in strategies.STRATEGIES:
        raise StateConflict(f"Bot '{bot.name}' was adopted from Hummingbot: its parameters are not managed here.")
    if bot.status not in LIVE_CHANGEABLE:
        raise StateConflict(
            f"Bot '{bot.name}' is {bot.status}: parameters change live only on a running bot. "
            "To change a stopped bot: stop, edit, start."
        )
    before = stored_params(bot)
    try:
        change = strategies.live_change(before, changes, connector=bot.connector)
    except strategies.ParamsError as exc:
        raise ValidationError({field: [message] for field, message in exc.errors.items()}) from None
    summary = params_change_summary(before.to_json(), change.params.to_json())
    try:
        with transaction.atomic():
            # Two changes of one bot are serialised, so the row ends as Hummingbot does; other writes of this row
            # wait at most for the two calls below (HUMMINGBOT_TIMEOUT each). SQLite has no row locks.
            _lock_unchanged(bot)
            if change.config:
                _send_and_confirm(bot, change.config)
            bot.params = change.params.to_json()
            Bot.objects.filter(pk=bot.pk).update(params=bot.params, updated_at=timezone.now())
            confirmed = "confirmed by Hummingbot" if change.config else "kept here (not a Hummingbot setting)"
            record(action=ACTION, ok=True, user=user, bot=bot, detail=f"{summary}; {confirmed}")
    except HummingbotError as exc:
        maybe = " (Hummingbot may have merged it: send the change again)" if exc.outcome_unknown else ""
        record(action=ACTION, ok=False, user=user, bot=bot, detail=f"{summary}: not applied: {exc.message}{maybe}")
        raise
    return bot


def params_change_summary(before: dict, after: dict) -> str:
    """'name old -> new' for each parameter that differs between two stored (to_json) forms."""
    return "; ".join(f"{name} {json.dumps(before[name])} -> {json.dumps(after[name])}"
                     for name in before if before[name] != after[name])


def _lock_unchanged(bot: Bot) -> None:
    current = Bot.objects.select_for_update().get(pk=bot.pk)
    if current.status not in LIVE_CHANGEABLE or current.params != bot.params:
        raise StateConflict(f"Bot '{bot.name}' changed while this change was prepared: reload it and try again.")


def _send_and_confirm(bot: Bot, delta: dict) -> None:
    client = get_client(bot.server)
    client.update_bot_controller_config(bot.hummingbot_name, bot.config_name, delta)
    held = client.bot_controller_configs(bot.hummingbot_name).get(bot.config_name)
    if held is None:
        raise HummingbotBadResponse(f"Hummingbot shows no config '{bot.config_name}' for {bot.hummingbot_name} "
                                    "after the change.")
    differ = {key: held.get(key) for key, value in delta.items() if not _same(held.get(key), value)}
    if differ:
        shown = ", ".join(f"{key}={json.dumps(value)}" for key, value in differ.items())
        raise HummingbotBadResponse(f"after the change Hummingbot holds {shown} for {bot.hummingbot_name}.")


def _same(held, sent) -> bool:
    """YAML may give back a number for a decimal string: compare values, not spellings."""
    if isinstance(sent, list):
        return isinstance(held, list) and len(held) == len(sent) and all(map(_same, held, sent))
    if isinstance(sent, bool) or isinstance(held, bool) or sent is None or held is None:
        return held is sent
    try:
        return Decimal(str(held)) == Decimal(str(sent))
    except InvalidOperation:
        return False
