"""Concurrent requests and syncs on one database: each fill stored once, each click answered 202 or 409."""
from collections import Counter

import pytest
from rest_framework.test import APIClient

from bots import services
from bots.models import Bot, BotEvent, Trade
from tests.concurrency import at_once

pytestmark = pytest.mark.django_db(transaction=True)
CLICKS = 50


@pytest.fixture
def stopped_bot(api, upstream_account):
    """A spread bot, deployed, then stopped (its container still up: a start restarts it)."""
    created = api.post("/bots/create", {"name": "sharp_mm", "account": "client_sharp", "strategy": "spread",
                                        "connector": "bitmart", "pair": "SHARP-USDT",
                                        "params": {"order_amount": "1000", "budget_quote": "500"}}, format="json")
    assert created.status_code == 201, created.json()
    bot = Bot.objects.get(name=created.json()["id"])
    services.bots_sync()
    assert api.post(f"/bots/{bot.name}/stop").status_code == 202
    services.bots_sync()
    bot.refresh_from_db()
    assert bot.status == "stopped"
    return bot


def test_fifty_concurrent_starts_restart_the_container_once_and_each_answer_is_202_or_409(
        hummingbot, stopped_bot, operator, monkeypatch):
    container_stops = []
    stop_container = hummingbot.state.stop_container
    monkeypatch.setattr(hummingbot.state, "stop_container",
                        lambda name: container_stops.append(name) or stop_container(name))

    def click():
        client = APIClient(raise_request_exception=False)  # a crash is a 500 answer, as a browser sees it
        client.force_authenticate(operator)
        return client.post(f"/bots/{stopped_bot.name}/start").status_code

    answers, errors = at_once(CLICKS, click)
    assert not errors
    assert Counter(answers) == {202: 1, 409: CLICKS - 1}
    assert container_stops == [stopped_bot.hummingbot_name]
    assert BotEvent.objects.filter(bot=stopped_bot, action="start").count() == 1


def test_two_concurrent_syncs_store_each_trade_once(hummingbot):
    names = hummingbot.state.spawn_bots(5, prefix="race")
    for name in names:
        hummingbot.state.inject_fills(name, 400)
    services.bots_sync()
    reports, errors = at_once(2, services.trades_sync)
    assert not errors
    assert Trade.objects.count() == 5 * 400
    assert Bot.objects.count() == 5
    assert all(not r["failed"] for r in reports)
    # each fill is new to exactly one run, known to the other
    assert sum(r["new"] for r in reports) == 5 * 400
    assert all(r["new"] + r["known"] == 5 * 400 for r in reports)
