"""Live parameter changes end to end (issue 11, item 3): PATCH /bots/{name} merges the change into the running bot's
controller config in Hummingbot (the sandbox over real HTTP), reads back what Hummingbot holds, then updates the row
and audits before/after. What a running bot cannot apply is refused before anything is sent."""
import pytest
import responses

from bots import services
from bots.hummingbot.client import get_client
from bots.hummingbot.errors import HummingbotNotFound
from bots.models import Bot, BotEvent

pytestmark = pytest.mark.django_db

SPREAD = {"order_amount": "1000", "budget_quote": "500", "buy_spreads_pct": [0.5, 1], "sell_spreads_pct": [0.5, 1]}
VOLUME = {"total_amount_quote": "2000", "order_amount_quote": "20", "min_price": "0.004", "max_price": "0.006"}


def running_bot(api, name="sharp_bot", strategy="spread", params=SPREAD) -> Bot:
    created = api.post("/bots/create", {"name": name, "account": "client_sharp", "strategy": strategy,
                                        "connector": "bitmart", "pair": "SHARP-USDT", "params": params}, format="json")
    assert created.status_code == 201, created.json()
    api.get("/bots")  # the sync reads `running` from Hummingbot
    bot = Bot.objects.get(name=name)
    assert bot.status == "running"
    return bot


def held_by_hummingbot(bot: Bot) -> dict:
    return get_client().bot_controller_configs(bot.hummingbot_name)[bot.config_name]


def params_events(bot: Bot):
    return list(BotEvent.objects.filter(bot=bot, action="params").values_list("ok", "actor", "detail"))


def test_live_spread_change_is_held_by_hummingbot_stored_and_audited(api, hummingbot, upstream_account):
    bot = running_bot(api)
    response = api.patch(f"/bots/{bot.name}", {"config": {"buy_spreads_pct": [0.3, 0.8], "sell_spreads_pct": [0.4]}},
                         format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["name"] == bot.name
    held = held_by_hummingbot(bot)
    assert held["buy_spreads"] == ["0.003", "0.008"] and held["sell_spreads"] == ["0.004"]
    assert held["connector_name"] == "bitmart" and held["order_amount"] == "1000"  # the rest untouched
    bot.refresh_from_db()
    assert bot.params["buy_spreads_pct"] == ["0.3", "0.8"] and bot.params["sell_spreads_pct"] == ["0.4"]
    assert params_events(bot) == [(True, "desk", ('buy_spreads_pct ["0.5", "1"] -> ["0.3", "0.8"]; '
                                                   'sell_spreads_pct ["0.5", "1"] -> ["0.4"]; confirmed by Hummingbot'))]


def test_params_is_a_synonym_of_config_and_volume_pacing_changes_live(api, hummingbot, upstream_account):
    bot = running_bot(api, strategy="volume", params=VOLUME)
    response = api.patch(f"/bots/{bot.name}", {"params": {"order_interval": 120, "max_price": "0.007"}}, format="json")
    assert response.status_code == 200, response.json()
    held = held_by_hummingbot(bot)
    assert (held["order_interval"], held["max_price"]) == (120, "0.007")


@pytest.mark.parametrize("changes, field", [
    ({"connector": "kucoin"}, "connector"),
    ({"trading_pair": "BTC-USDT"}, "trading_pair"),
    ({"budget_quote": "900"}, "budget_quote"),
    ({"order_refresh_time": 1}, "order_refresh_time"),
    ({"bogus": 1}, "bogus"),
])
def test_refused_changes_are_400s_naming_the_field_and_send_nothing(api, hummingbot, upstream_account, changes, field):
    bot = running_bot(api)
    before = held_by_hummingbot(bot)
    response = api.patch(f"/bots/{bot.name}", {"config": changes}, format="json")
    assert response.status_code == 400
    assert f"config.{field}" in response.json()["error"]["details"]  # inside the object sent
    assert held_by_hummingbot(bot) == before
    bot.refresh_from_db()
    assert bot.params["order_refresh_time"] == 30 and params_events(bot) == []


@pytest.mark.parametrize("body", [{}, {"config": {"order_amount": "2"}, "params": {"order_amount": "2"}},
                                  {"config": "x"}, []])
def test_body_needs_exactly_one_object_of_changes(api, hummingbot, upstream_account, body):
    bot = running_bot(api)
    assert api.patch(f"/bots/{bot.name}", body, format="json").status_code == 400


def test_an_unknown_key_beside_the_changes_is_a_400_naming_it_and_nothing_is_sent(api, hummingbot, upstream_account):
    bot = running_bot(api)
    response = api.patch(f"/bots/{bot.name}", {"config": {"order_amount": "2000"}, "extra": 1}, format="json")
    assert response.status_code == 400
    assert "Unknown field" in response.json()["error"]["details"]["extra"][0]
    assert held_by_hummingbot(bot)["order_amount"] == "1000" and params_events(bot) == []


def test_a_stopped_bot_is_refused_with_the_way(api, hummingbot, upstream_account):
    bot = running_bot(api)
    api.post(f"/bots/{bot.name}/stop")
    response = api.patch(f"/bots/{bot.name}", {"config": {"order_amount": "2"}}, format="json")
    assert response.status_code == 409
    assert "stop" in response.json()["error"]["message"] and "start" in response.json()["error"]["message"]


def test_an_adopted_bot_is_refused(api, hummingbot, upstream_account):
    bot = running_bot(api)
    Bot.objects.filter(pk=bot.pk).update(strategy="external")
    assert api.patch(f"/bots/{bot.name}", {"config": {"order_amount": "2"}}, format="json").status_code == 409


@pytest.mark.parametrize("kind, status", [("500", 502), ("refuse", 503)])
def test_upstream_failure_leaves_the_row_unchanged_and_is_audited(api, hummingbot, upstream_account, kind, status):
    bot = running_bot(api)
    hummingbot.state.set_fault("POST", r"^/controllers/bots/", kind)
    response = api.patch(f"/bots/{bot.name}", {"config": {"order_amount": "2000"}}, format="json")
    assert response.status_code == status
    bot.refresh_from_db()
    assert bot.params["order_amount"] == "1000"
    [(ok, _, detail)] = params_events(bot)
    assert not ok and detail.startswith('order_amount "1000" -> "2000": not applied')


def test_a_change_hummingbot_does_not_hold_afterwards_is_not_stored(hummingbot, upstream_account, api, operator):
    """The merge answered 200 but the read-back shows other values (another writer, a lost write): the row keeps
    what it had and the event says what Hummingbot holds."""
    bot = running_bot(api)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.add_passthru(hummingbot.url)
        mock.post(f"{hummingbot.url}/controllers/bots/{bot.hummingbot_name}/{bot.config_name}/config",
                  json={"message": "ok"})
        response = api.patch(f"/bots/{bot.name}", {"config": {"order_amount": "2000"}}, format="json")
    assert response.status_code == 502
    bot.refresh_from_db()
    assert bot.params["order_amount"] == "1000"
    [(ok, _, detail)] = params_events(bot)
    assert not ok and 'Hummingbot holds order_amount="1000"' in detail


def test_the_service_refuses_when_the_instance_is_gone_upstream(hummingbot, upstream_account, api, operator):
    bot = running_bot(api)
    Bot.objects.filter(pk=bot.pk).update(hummingbot_name="gone-20260101-000000")
    bot.refresh_from_db()
    with pytest.raises(HummingbotNotFound):
        services.bot_update_params(bot=bot, changes={"order_amount": "2000"}, user=operator)
    bot.refresh_from_db()
    assert bot.params["order_amount"] == "1000"


def test_changing_parameters_needs_the_change_permission(api, hummingbot, upstream_account, django_user_model):
    from django.contrib.auth.models import Permission
    from rest_framework.test import APIClient

    bot = running_bot(api)
    viewer = django_user_model.objects.create_user("viewer", password="pw-view-123", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_bot"))
    client = APIClient()
    client.force_authenticate(viewer)
    assert client.patch(f"/bots/{bot.name}", {"config": {"order_amount": "2"}}, format="json").status_code == 403
    assert api.patch("/bots/nosuchbot", {"config": {"order_amount": "2"}}, format="json").status_code == 404


def test_a_claim_left_by_a_change_whose_process_died_is_void_once_its_calls_would_have_ended(
        api, hummingbot, upstream_account):
    """A change holds a claim on the row while it waits on Hummingbot (tests/test_races.py); a claim left behind
    blocks the next change only as long as the two calls could have taken."""
    from datetime import timedelta

    from django.utils import timezone

    bot = running_bot(api)
    client = get_client()
    longest = timedelta(seconds=client.longest_call_seconds("POST") + client.longest_call_seconds("GET"))
    Bot.objects.filter(pk=bot.pk).update(params_change_claimed_at=timezone.now() - longest)
    refused = api.patch(f"/bots/{bot.name}", {"config": {"order_amount": "2000"}}, format="json")
    assert refused.status_code == 409 and "in flight" in refused.json()["error"]["message"]
    assert held_by_hummingbot(bot)["order_amount"] == "1000"
    Bot.objects.filter(pk=bot.pk).update(params_change_claimed_at=timezone.now() - 2 * longest)
    assert api.patch(f"/bots/{bot.name}", {"config": {"order_amount": "2000"}}, format="json").status_code == 200
    bot.refresh_from_db()
    assert bot.params_change_claimed_at is None and held_by_hummingbot(bot)["order_amount"] == "2000"


def test_a_failed_change_lets_the_next_one_through(api, hummingbot, upstream_account):
    bot = running_bot(api)
    hummingbot.state.set_fault("POST", r"^/controllers/bots/", "500", times=1)
    assert api.patch(f"/bots/{bot.name}", {"config": {"order_amount": "2000"}}, format="json").status_code == 502
    assert api.patch(f"/bots/{bot.name}", {"config": {"order_amount": "2000"}}, format="json").status_code == 200
