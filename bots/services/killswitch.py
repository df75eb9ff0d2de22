"""The kill switch: stop every bot of one account, or of all accounts."""
from __future__ import annotations

from bots.hummingbot.errors import HummingbotError
from bots.models import Account, Bot
from bots.services.common import StateConflict, record
from bots.services.lifecycle import bot_stop
from bots.states import STOPPABLE


def stop_all(*, account: Account | None = None, user=None) -> dict:
    """Kill switch: stop every running bot (of one account, or all). Reports per-bot failures."""
    bots = Bot.objects.filter(status__in=STOPPABLE).select_related("account")
    if account is not None:
        bots = bots.filter(account=account)
    result = {"stopped": [], "failed": {}}
    for bot in bots:
        try:
            bot_stop(bot=bot, user=user)
            result["stopped"].append(bot.name)
        except (HummingbotError, StateConflict) as exc:
            result["failed"][bot.name] = str(exc)
    record(
        action="stop_all", ok=not result["failed"], user=user, account=account,
        detail=f"stopped {len(result['stopped'])}, failed {len(result['failed'])}",
    )
    return result
