"""Concurrent requests and syncs on one database: each fill stored once, each click answered 202 or 409."""
import threading
from collections import Counter

import pytest
from django.db import connection
from rest_framework.test import APIClient

from bots import services
from bots.hummingbot.client import get_client
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


# --- a live parameter change waiting on Hummingbot (issue 15) -----------------------------------------------------

def running_spread_bot(api) -> Bot:
    created = api.post("/bots/create", {"name": "sharp_mm", "account": "client_sharp", "strategy": "spread",
                                        "connector": "bitmart", "pair": "SHARP-USDT",
                                        "params": {"order_amount": "1000", "budget_quote": "500"}}, format="json")
    assert created.status_code == 201, created.json()
    services.bots_sync()
    bot = Bot.objects.get(name="sharp_mm")
    assert bot.status == "running"
    return bot


class ChangeInFlight:
    """A PATCH of the bot's parameters in its own thread and database connection, held by the sandbox on its first
    upstream call until `release()`. A client timeout far longer than the test keeps the change pending meanwhile
    (it only guards against a hang)."""

    def __init__(self, hummingbot, operator, bot, changes):
        self.fault = hummingbot.state.set_fault("POST", r"^/controllers/bots/", "delay", seconds=120.0, times=1)
        self.answer = None
        self.done = threading.Event()

        def patch():
            try:
                client = APIClient(raise_request_exception=False)
                client.force_authenticate(operator)
                self.answer = client.patch(f"/bots/{bot.name}", {"config": changes}, format="json")
            finally:
                connection.close()
                self.done.set()

        self.thread = threading.Thread(target=patch)
        self.thread.start()
        assert self.fault.arrived.wait(120), "the change never reached Hummingbot"

    def release(self):
        self.fault.released.set()
        self.thread.join(120)
        assert self.done.is_set()
        return self.answer


@pytest.fixture
def slow_client_timeout(settings):
    settings.HUMMINGBOT_TIMEOUT = 120.0


def held_by_hummingbot(bot: Bot) -> dict:
    return get_client().bot_controller_configs(bot.hummingbot_name)[bot.config_name]


def test_the_bot_list_answers_while_a_parameter_change_waits_on_hummingbot(
        api, hummingbot, upstream_account, operator, shared_clock, settings, slow_client_timeout):
    bot = running_spread_bot(api)
    change = ChangeInFlight(hummingbot, operator, bot, {"order_amount": "2000"})
    try:
        shared_clock.advance(settings.BOTS_SYNC_SECONDS)  # the list refreshes inline: it writes, as the throttle does
        lister = APIClient(raise_request_exception=False)
        lister.force_authenticate(operator)
        listed = lister.get("/bots")
        assert not change.done.is_set() and not change.fault.handled.is_set()  # answered while the change waits
    finally:
        answer = change.release()
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["bots"]] == [bot.name]
    assert answer.status_code == 200, answer.json()
    bot.refresh_from_db()
    assert bot.params["order_amount"] == "2000" == held_by_hummingbot(bot)["order_amount"]


def test_a_second_change_while_one_waits_on_hummingbot_is_refused_and_sends_nothing(
        api, hummingbot, upstream_account, operator, slow_client_timeout):
    bot = running_spread_bot(api)
    change = ChangeInFlight(hummingbot, operator, bot, {"order_amount": "2000"})
    try:
        second = api.patch(f"/bots/{bot.name}", {"config": {"order_amount": "3000", "sell_spreads_pct": [1]}},
                           format="json")
    finally:
        first = change.release()
    assert first.status_code == 200, first.json()
    assert second.status_code == 409 and "in flight" in second.json()["error"]["message"]
    held = held_by_hummingbot(bot)
    bot.refresh_from_db()
    assert (held["order_amount"], held["sell_spreads"]) == ("2000", ["0.005"])  # the second was never sent
    assert bot.params["order_amount"] == "2000" and bot.params["sell_spreads_pct"] == ["0.5"]
    assert list(BotEvent.objects.filter(bot=bot, action="params").values_list("ok", flat=True)) == [True]


def test_a_change_prepared_before_another_one_landed_is_refused(
        api, hummingbot, upstream_account, operator):
    bot = running_spread_bot(api)
    stale = Bot.objects.get(pk=bot.pk)
    assert api.patch(f"/bots/{bot.name}", {"config": {"order_amount": "2000"}}, format="json").status_code == 200
    with pytest.raises(services.StateConflict, match="reload it"):
        services.bot_update_params(bot=stale, changes={"sell_spreads_pct": [1]}, user=operator)
    bot.refresh_from_db()
    assert held_by_hummingbot(bot)["sell_spreads"] != ["0.01"] and bot.params["sell_spreads_pct"] != ["1"]
