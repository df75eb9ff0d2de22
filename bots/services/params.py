"""Live parameter changes on a running bot (docs/hummingbot-api.md §4.1).

Hummingbot merges whatever it is sent into the bot's own controller YAML without validating it, and the running bot
applies only the fields marked is_updatable, within 10 s. So the change is validated here with the typed parameters
(strategies.live_change refuses what is not live), sent as a delta, read back, and only then stored and audited.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bots import strategies
from bots.hummingbot.client import HummingbotClient, get_client
from bots.hummingbot.errors import HummingbotBadResponse, HummingbotError
from bots.models import Bot
from bots.services import pretrade
from bots.services.common import StateConflict, record, stored_params
from bots.states import LIVE_CHANGEABLE

ACTION = "params"


def bot_update_params(*, bot: Bot, changes: dict, user=None, confirm: bool = False) -> Bot:
    """Change a running bot's live parameters in Hummingbot, confirm what it holds, then update the row.

    Raises ValidationError naming each refused field, pretrade.ConfirmationRequired for warnings not confirmed
    (nothing sent in both), StateConflict when the bot is not running, changed meanwhile or has another change in
    flight (nothing sent), HummingbotError when Hummingbot failed or holds something else (the row is unchanged).
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
    confirmed = pretrade.enforce(pretrade.live_change_assessment(bot=bot, before=before, after=change.params),
                                 confirm=confirm)
    summary = params_change_summary(before.to_json(), change.params.to_json())
    summary += pretrade.confirmed_text(confirmed, user)
    try:
        client = get_client(bot.server)
        # No transaction spans the calls to Hummingbot: the claim lets one change at a time through, and the
        # list, syncs and other writes of the row go on meanwhile.
        with _change_claimed(bot, client) as claimed_at:
            if change.config:  # an alert threshold alone is ours, not a Hummingbot setting
                _send_and_confirm(client, bot, change.config)
            stored = _store(bot, claimed_at, change.params.to_json())
    except HummingbotError as exc:
        maybe = " (Hummingbot may have merged it: send the change again)" if exc.outcome_unknown else ""
        record(action=ACTION, ok=False, user=user, bot=bot, detail=f"{summary}: not applied: {exc.message}{maybe}")
        raise
    if not stored:
        reason = ("Hummingbot holds it, but it outlasted its claim and another change may have been sent since: "
                  "the stored parameters are left as they were; reload the bot and compare.")
        record(action=ACTION, ok=False, user=user, bot=bot, detail=f"{summary}: not stored: {reason}")
        raise StateConflict(f"Bot '{bot.name}': {reason}")
    confirmation = "confirmed by Hummingbot" if change.config else "kept here (not a Hummingbot setting)"
    record(action=ACTION, ok=True, user=user, bot=bot, detail=f"{summary}; {confirmation}")
    return bot


def params_change_summary(before: dict, after: dict) -> str:
    """'name old -> new' for each parameter that differs between two stored (to_json) forms."""
    return "; ".join(f"{name} {json.dumps(before[name])} -> {json.dumps(after[name])}"
                     for name in before if before[name] != after[name])


@contextmanager
def _change_claimed(bot: Bot, client: HummingbotClient):
    """Claim the row for one change, compared with what the change was prepared from; let it go if the change fails.

    A claim outlives the two calls (send, read back) however slow Hummingbot is, so it is not taken from a change
    still waiting; one left by a process that died is void after that time."""
    longest = timedelta(seconds=2 * (client.longest_call_seconds("POST") + client.longest_call_seconds("GET")))
    with transaction.atomic():
        current = Bot.objects.select_for_update().get(pk=bot.pk)
        now = timezone.now()
        if current.params_change_claimed_at is not None and now - current.params_change_claimed_at < longest:
            raise StateConflict(f"Bot '{bot.name}' has another parameter change in flight: wait for it to end, "
                                "reload the bot and try again.")
        if current.status not in LIVE_CHANGEABLE or current.params != bot.params:
            raise StateConflict(f"Bot '{bot.name}' changed while this change was prepared: reload it and try again.")
        Bot.objects.filter(pk=bot.pk).update(params_change_claimed_at=now)
    try:
        yield now
    except BaseException:
        Bot.objects.filter(pk=bot.pk, params_change_claimed_at=now).update(params_change_claimed_at=None)
        raise


def _store(bot: Bot, claimed_at, params: dict) -> bool:
    """Compare-and-set: the parameters Hummingbot confirmed, stored only by the change that still holds the claim."""
    stored = Bot.objects.filter(pk=bot.pk, params_change_claimed_at=claimed_at).update(
        params=params, params_change_claimed_at=None, updated_at=timezone.now())
    if stored:
        bot.params = params
    return bool(stored)


def _send_and_confirm(client: HummingbotClient, bot: Bot, delta: dict) -> None:
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
