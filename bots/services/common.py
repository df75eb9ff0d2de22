"""What every service shares: the audit record, the compare-and-set transition, the failure path."""
from __future__ import annotations

from django.utils import timezone

from bots import strategies
from bots.models import Account, Bot, BotEvent

SYSTEM = "system"


class StateConflict(Exception):
    """The bot is not in a state that allows the action (e.g. Start on a running bot)."""


# --- helpers -----------------------------------------------------------------------------------


def actor(user) -> str:
    return user.get_username() if user is not None and user.is_authenticated else SYSTEM


def record(*, action: str, ok: bool, user=None, bot: Bot | None = None, account: Account | None = None, detail=""):
    return BotEvent.objects.create(
        bot=bot, account=account or (bot.account if bot else None), actor=actor(user), action=action, ok=ok,
        detail=str(detail)[:2000],
    )


def transition(bot: Bot, *, allowed, to: str, **fields) -> bool:
    """Compare-and-set on the status: True only for the caller that won the transition."""
    changed = Bot.objects.filter(pk=bot.pk, status__in=allowed).update(status=to, updated_at=timezone.now(), **fields)
    if changed:
        bot.status = to
        for name, value in fields.items():
            setattr(bot, name, value)
    return bool(changed)


def fail(bot: Bot, reason: str, *, status: str, action: str, user) -> None:
    Bot.objects.filter(pk=bot.pk).update(status=status, last_error=reason, updated_at=timezone.now())
    bot.status, bot.last_error = status, reason
    record(action=action, ok=False, user=user, bot=bot, detail=reason)


def stored_params(bot: Bot) -> strategies.Params | None:
    """The row's typed parameters (a redeploy or a live change needs them), parsed before anything moves; None for
    an adopted bot.

    The row holds to_json() of parsed parameters, which parses back to the same values, unless the
    rules got stricter since it was stored: then the bot is not started at all.
    """
    if bot.strategy not in strategies.STRATEGIES:
        return None
    try:
        return strategies.parse_params(bot.strategy, bot.params)
    except strategies.ParamsError as exc:
        raise StateConflict(
            f"Bot '{bot.name}' was created with parameters that are no longer accepted ({exc}); "
            "create a new bot with valid ones."
        ) from None
