"""The pre-trade checks through the panel (issue 16): the create form and "Change parameters…" refuse and ask with
the API's texts (bots/services/pretrade.py), refusals on the field they are about, warnings above the tick."""
from decimal import Decimal

import pytest
from django.urls import reverse

from bots.hummingbot.client import get_client
from bots.models import Account, Bot
from tests.conftest import give_keys
from tests.panel import create

pytestmark = pytest.mark.django_db
SANE_ETH = {"order_amount": "0.01", "budget_quote": "100"}


@pytest.fixture
def desk(hummingbot, db):
    account = Account.objects.create(name="client_desk")
    get_client().add_account(account.name)
    give_keys(hummingbot, account.name, "binance", "gate_io")
    return account


def create_eth(panel, params=SANE_ETH, confirm="", **fields):
    return create(panel, name="eth_mm", params=params, confirm=confirm,
                  **{"account": "client_desk", "connector": "binance", "trading_pair": "ETH-USDT", **fields})


def errors(response) -> dict:
    assert response.status_code == 200, "deployed"
    return {name: " ".join(messages) for name, messages in response.context["form"].errors.items()}


def test_a_sane_bot_deploys_from_the_form(panel, desk):
    assert create_eth(panel).status_code == 302


def test_a_connector_typo_cannot_be_chosen(panel, desk, hummingbot):
    assert "connector" in errors(create_eth(panel, connector="binanse"))
    assert not hummingbot.state.bots


def test_an_unlisted_pair_is_refused_on_the_pair_field(panel, desk, hummingbot):
    assert "binance does not list FOO-USDT" in errors(create_eth(panel, trading_pair="FOO-USDT"))["trading_pair"]
    assert not hummingbot.state.bots and not Bot.objects.exists()


def test_an_exchange_without_keys_is_refused_on_the_connector_field(panel, desk):
    assert "client_desk has no keys for kraken" in errors(create_eth(panel, connector="kraken"))["connector"]


def test_ten_eth_against_a_hundred_usdt_asks_then_deploys_when_ticked(panel, desk):
    big = {"order_amount": "10", "budget_quote": "100"}
    response = create_eth(panel, params=big)
    assert "over the 100 USDT budget" in response.content.decode() and "confirm" in errors(response)
    assert not Bot.objects.exists()
    assert create_eth(panel, params=big, confirm="on").status_code == 302


def test_an_order_under_the_exchange_minimum_is_refused_even_when_ticked(panel, desk):
    found = errors(create_eth(panel, params={"order_amount": "0.001", "budget_quote": "100"}, confirm="on"))
    assert "minimum order value 5 USDT" in found["spread-order_amount"]
    assert not Bot.objects.exists()


@pytest.mark.parametrize("limit, params, field, text", [
    ("max_bot_budget", {"order_amount": "0.01", "budget_quote": "100"}, "spread-budget_quote",
     "desk limit of 50 USDT per bot"),
    ("max_live_budget", {"order_amount": "0.01", "budget_quote": "100"}, "spread-budget_quote",
     "desk limit of 50 USDT for live bots"),
    ("max_order_notional", {"order_amount": "0.02", "budget_quote": "100"}, "spread-order_amount",
     "desk limit of 50 USDT per order"),
])
def test_each_desk_limit_is_a_refusal_on_its_field(panel, desk, limit, params, field, text):
    Account.objects.filter(pk=desk.pk).update(**{limit: Decimal(50)})
    assert text in errors(create_eth(panel, params=params, confirm="on"))[field]


def test_a_lost_account_is_refused_with_the_recreate_hint_not_an_error_bot(panel, desk, hummingbot):
    hummingbot.state.accounts.pop("client_desk")
    assert "Recreate in Hummingbot" in errors(create_eth(panel))["account"]
    assert not Bot.objects.exists()


def test_unreadable_prices_are_a_warning_to_tick_not_a_silent_pass(panel, desk, hummingbot):
    hummingbot.state.set_fault("POST", "^/market-data/prices$", "exchange_down")
    response = create_eth(panel)
    assert "size not checked in USDT" in response.content.decode() and "confirm" in errors(response)
    assert create_eth(panel, confirm="on").status_code == 302


def test_change_parameters_asks_before_multiplying_the_size_and_sends_nothing(panel, desk, api):
    assert create_eth(panel).status_code == 302
    api.get("/bots")
    bot = Bot.objects.get(name="eth_mm")
    url = reverse("admin:bots_bot_params", args=[bot.pk])
    form = {"order_amount": "0.04", "buy_spreads_pct": "0.5", "sell_spreads_pct": "0.5", "order_refresh_time": "30",
            "order_refresh_tolerance_pct": "0.2", "filled_order_delay": "60", "inventory_skew_enabled": "on",
            "target_base_pct": "50", "inventory_range_multiplier": "1", "price_floor": "", "price_ceiling": "",
            "no_fill_alert_minutes": "60"}
    response = panel.post(url, form)
    assert response.status_code == 200
    assert "Order amount goes from 0.01 to 0.04 (×4)" in response.content.decode()
    assert get_client().bot_controller_configs(bot.hummingbot_name)[bot.config_name]["order_amount"] == "0.01"
    assert panel.post(url, {**form, "confirm": "on"}).status_code == 302
    bot.refresh_from_db()
    assert bot.params["order_amount"] == "0.04"


def test_change_parameters_refuses_an_order_under_the_minimum_on_its_field(panel, desk, api):
    assert create_eth(panel).status_code == 302
    api.get("/bots")
    bot = Bot.objects.get(name="eth_mm")
    url = reverse("admin:bots_bot_params", args=[bot.pk])
    page = panel.get(url).context["form"]
    form = {name: field.value() if not isinstance(field.value(), bool) else "on"
            for name, field in ((f.name, f) for f in page.param_fields())}
    response = panel.post(url, {**form, "order_amount": "0.0002", "confirm": "on"})
    assert "minimum order value" in " ".join(response.context["form"].errors["order_amount"])
