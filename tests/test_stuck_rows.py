"""No row is left in a state nobody can leave: a crash after the row is saved leaves `error` with the
reason, a `deploying` row whose process died can be archived once its grace period is over, and an
adopted bot is refused a start with the reason instead of a crash."""
from datetime import timedelta

import pytest
from django.utils import timezone

from bots import services, strategies
from bots.models import Bot, BotEvent
from bots.services import StateConflict

pytestmark = pytest.mark.django_db

SPREAD = {"order_amount": "1000", "budget_quote": "500"}


def create(account, name="sharp_mm"):
    return services.bot_create(name=name, account=account, strategy="spread", connector="bitmart",
                               trading_pair="SHARP-USDT", params=SPREAD)


def test_any_exception_after_the_row_is_saved_leaves_it_error_with_the_reason(upstream_account, monkeypatch):
    def broken_rendering(*args, **kwargs):
        raise ArithmeticError("decimal overflow while rendering the config")

    monkeypatch.setattr(strategies, "controller_config", broken_rendering)
    with pytest.raises(ArithmeticError):
        create(upstream_account)
    bot = Bot.objects.get(name="sharp_mm")
    assert bot.status == "error" and bot.hummingbot_name is None
    assert bot.last_error == "create failed: ArithmeticError: decimal overflow while rendering the config"
    assert BotEvent.objects.get(bot=bot, action="create").ok is False


def test_a_row_that_failed_that_way_can_be_archived(upstream_account, monkeypatch):
    monkeypatch.setattr(strategies, "controller_config", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        create(upstream_account)
    services.bot_archive(bot=Bot.objects.get(name="sharp_mm"))
    assert Bot.objects.get(name="sharp_mm").status == "archived"


def deploying_row_left_by_a_killed_process(account, age):
    bot = Bot.objects.create(name="stuck", account=account, strategy="spread", connector="bitmart",
                             trading_pair="SHARP-USDT", params=SPREAD, status="deploying")
    Bot.objects.filter(pk=bot.pk).update(updated_at=timezone.now() - age)
    bot.refresh_from_db()
    return bot


def test_a_deploying_row_older_than_its_grace_period_can_be_archived(account):
    bot = deploying_row_left_by_a_killed_process(account, timedelta(minutes=10))
    services.bot_archive(bot=bot)
    assert Bot.objects.get(pk=bot.pk).status == "archived"


def test_a_deploying_row_within_its_grace_period_cannot_be_archived(account):
    bot = deploying_row_left_by_a_killed_process(account, timedelta(seconds=5))
    with pytest.raises(StateConflict):
        services.bot_archive(bot=bot)
    assert Bot.objects.get(pk=bot.pk).status == "deploying"


def test_starting_an_adopted_bot_is_refused_with_the_reason(hummingbot):
    name = hummingbot.state.spawn_bots(1, prefix="legacy")[0]
    services.bots_sync()
    adopted = Bot.objects.get(hummingbot_name=name)
    Bot.objects.filter(pk=adopted.pk).update(status="stopped")
    adopted.refresh_from_db()
    with pytest.raises(StateConflict, match="adopted from Hummingbot, not created here: the panel has no config to start"):
        services.bot_start(bot=adopted)
    assert Bot.objects.get(pk=adopted.pk).status == "stopped"


def test_sync_says_a_create_that_died_before_deploying_is_error_after_its_grace_period(hummingbot, account):
    fresh = deploying_row_left_by_a_killed_process(account, timedelta(seconds=5))
    services.bots_sync()
    assert Bot.objects.get(pk=fresh.pk).status == "deploying"  # may still be running in another process
    Bot.objects.filter(pk=fresh.pk).update(updated_at=timezone.now() - timedelta(minutes=3))
    services.bots_sync()
    bot = Bot.objects.get(pk=fresh.pk)
    assert (bot.status, bot.last_error) == (
        "error", "create did not finish (its process stopped before deploying); safe to start again"
    )
