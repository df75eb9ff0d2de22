"""Pre-trade checks through the API (issue 16; issue 15 Medium 3), against the sandbox's market data
(docs/hummingbot-api.md §13). Refused: 400 naming the request's field, nothing sent to Hummingbot, no row. Asked:
409 confirmation_required with the warnings, nothing sent, until the same body comes with "confirm": true."""
from decimal import Decimal

import pytest

from bots.hummingbot.client import get_client
from bots.models import Account, Bot, BotEvent
from tests.conftest import give_keys

pytestmark = pytest.mark.django_db

SANE_ETH = {"order_amount": "0.01", "budget_quote": "100"}  # ETH near 3000: 0.01 ETH ≈ 30 USDT, 2 orders ≈ 60


@pytest.fixture
def desk(hummingbot, db):
    """`client_desk`: keys for binance and gate_io only, as in the issue."""
    account = Account.objects.create(name="client_desk")
    get_client().add_account(account.name)
    give_keys(hummingbot, account.name, "binance", "gate_io")
    return account


def body(**overrides):
    return {"name": "eth_mm", "account": "client_desk", "strategy": "spread", "connector": "binance",
            "pair": "ETH-USDT", "config": SANE_ETH, **overrides}


def nothing_sent(hummingbot):
    return not hummingbot.state.controller_configs and not hummingbot.state.bots and not Bot.objects.exists()


def refused(response, field):
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["details"], error
    return " ".join(error["details"][field])


def asked(response):
    assert response.status_code == 409, response.json()
    error = response.json()["error"]
    assert error["code"] == "confirmation_required", error
    return {warning["code"]: warning for warning in error["details"]["warnings"]}


def test_a_sane_bot_deploys_without_a_question(api, desk):
    response = api.post("/bots/create", body(), format="json")
    assert response.status_code == 201, response.json()


def test_a_connector_typo_is_refused_with_the_closest_name(api, desk, hummingbot):
    message = refused(api.post("/bots/create", body(connector="binanse"), format="json"), "connector")
    assert "did you mean binance?" in message
    assert nothing_sent(hummingbot)


def test_a_pair_the_connector_does_not_list_is_refused(api, desk, hummingbot):
    message = refused(api.post("/bots/create", body(pair="FOO-USDT"), format="json"), "pair")
    assert "binance does not list FOO-USDT" in message
    assert nothing_sent(hummingbot)


def test_an_exchange_the_account_has_no_keys_for_is_refused(api, desk, hummingbot):
    message = refused(api.post("/bots/create", body(connector="kraken"), format="json"), "connector")
    assert "client_desk has no keys for kraken" in message
    assert nothing_sent(hummingbot)


def test_an_order_worth_far_more_than_the_budget_asks_then_deploys_when_confirmed(api, desk, hummingbot):
    big = body(config={"order_amount": "10", "budget_quote": "100"})
    warnings = asked(api.post("/bots/create", big, format="json"))
    assert warnings["size_over_budget"]["field"] == "config.order_amount"
    assert "over the 100 USDT budget" in warnings["size_over_budget"]["message"]
    assert nothing_sent(hummingbot)
    response = api.post("/bots/create", {**big, "confirm": True}, format="json")
    assert response.status_code == 201, response.json()
    event = BotEvent.objects.get(bot__name="eth_mm", action="create", ok=True)
    assert event.actor == "desk" and "warnings confirmed by desk: size_over_budget" in event.detail


def test_an_order_under_the_exchange_minimum_is_refused_even_when_confirmed(api, desk, hummingbot):
    tiny = body(config={"order_amount": "0.001", "budget_quote": "100"}, confirm=True)  # ≈3 USDT, binance wants 5
    message = refused(api.post("/bots/create", tiny, format="json"), "config.order_amount")
    assert "minimum order value 5 USDT" in message
    assert nothing_sent(hummingbot)


def test_an_order_under_the_minimum_size_is_refused(api, desk, hummingbot):
    tiny = body(config={"order_amount": "0.00001", "budget_quote": "100"})
    assert "minimum order size 0.0001 ETH" in refused(api.post("/bots/create", tiny, format="json"),
                                                       "config.order_amount")


def test_an_account_hummingbot_has_lost_is_refused_with_the_recreate_hint(api, hummingbot, db):
    Account.objects.create(name="client_gone")
    message = refused(api.post("/bots/create", body(account="client_gone"), format="json"), "account")
    assert "Recreate in Hummingbot" in message
    assert nothing_sent(hummingbot)


def test_unreadable_prices_are_said_and_asked_never_passed_silently(api, desk, hummingbot):
    hummingbot.state.set_fault("POST", "^/market-data/prices$", "exchange_down")
    warnings = asked(api.post("/bots/create", body(), format="json"))
    assert warnings["price_unknown"]["field"] == "pair"
    assert "size not checked in USDT" in warnings["price_unknown"]["message"]
    assert nothing_sent(hummingbot)
    assert api.post("/bots/create", {**body(), "confirm": True}, format="json").status_code == 201


def test_unreadable_trading_rules_are_said_and_asked(api, desk, hummingbot):
    hummingbot.state.set_fault("GET", "/trading-rules$", "exchange_down")
    warnings = asked(api.post("/bots/create", body(), format="json"))
    assert "minimums were not checked" in warnings["rules_unknown"]["message"]


def test_spreads_far_from_the_book_ask(api, desk):
    warnings = asked(api.post("/bots/create", body(config={**SANE_ETH, "sell_spreads_pct": [0.5, 12]}),
                              format="json"))
    assert warnings["spread_far"]["field"] == "config.sell_spreads_pct"


def test_a_budget_above_what_the_account_has_available_asks(api, desk, hummingbot):
    hummingbot.state.portfolio.set_balance("client_desk", "binance", "USDT", units=300, available=50)
    warnings = asked(api.post("/bots/create", body(), format="json"))
    assert "exceeds what client_desk has available on binance: 50 USDT" in warnings["budget_over_available"]["message"]


# --- desk limits (per account) ---


def test_a_budget_over_the_accounts_per_bot_limit_is_refused(api, desk, hummingbot):
    Account.objects.filter(pk=desk.pk).update(max_bot_budget=Decimal(50))
    message = refused(api.post("/bots/create", body(confirm=True), format="json"), "config.budget_quote")
    assert "desk limit of 50 USDT per bot" in message
    assert nothing_sent(hummingbot)


def test_a_budget_taking_the_accounts_live_bots_over_their_limit_is_refused(api, desk, hummingbot):
    Account.objects.filter(pk=desk.pk).update(max_live_budget=Decimal(150))
    assert api.post("/bots/create", body(), format="json").status_code == 201
    message = refused(api.post("/bots/create", body(name="eth_mm2", pair="BTC-USDT",
                                                     config={"order_amount": "0.001", "budget_quote": "100"}),
                               format="json"), "config.budget_quote")
    assert "100 USDT of budget in live bots" in message and "desk limit of 150 USDT" in message
    assert Bot.objects.count() == 1


def test_an_order_worth_more_than_the_accounts_order_limit_is_refused(api, desk, hummingbot):
    Account.objects.filter(pk=desk.pk).update(max_order_notional=Decimal(20))
    message = refused(api.post("/bots/create", body(confirm=True), format="json"), "config.order_amount")
    assert "desk limit of 20 USDT per order" in message
    assert nothing_sent(hummingbot)


# --- live changes ---


def running(api, hummingbot, **overrides) -> Bot:
    response = api.post("/bots/create", body(**overrides), format="json")
    assert response.status_code == 201, response.json()
    api.get("/bots")
    bot = Bot.objects.get(name=overrides.get("name", "eth_mm"))
    assert bot.status == "running"
    return bot


def test_a_live_change_multiplying_the_order_size_asks_and_sends_nothing(api, desk, hummingbot):
    bot = running(api, hummingbot)
    change = {"config": {"order_amount": "0.04"}}
    warnings = asked(api.patch(f"/bots/{bot.name}", change, format="json"))
    assert warnings["live_change_large"]["field"] == "config.order_amount"
    assert "×4" in warnings["live_change_large"]["message"]
    held = get_client().bot_controller_configs(bot.hummingbot_name)[bot.config_name]
    assert held["order_amount"] == "0.01"
    response = api.patch(f"/bots/{bot.name}", {**change, "confirm": True}, format="json")
    assert response.status_code == 200, response.json()
    event = BotEvent.objects.get(bot=bot, action="params", ok=True)
    assert "warnings confirmed by desk: " in event.detail and "live_change_large (Order amount goes" in event.detail


def test_a_live_change_under_the_exchange_minimum_is_refused_even_when_confirmed(api, desk, hummingbot):
    bot = running(api, hummingbot)
    response = api.patch(f"/bots/{bot.name}", {"config": {"order_amount": "0.0002"}, "confirm": True}, format="json")
    assert "minimum order value" in refused(response, "config.order_amount")


def test_a_live_change_over_the_order_limit_is_refused(api, desk, hummingbot):
    bot = running(api, hummingbot)
    Account.objects.filter(pk=desk.pk).update(max_order_notional=Decimal(40))
    response = api.patch(f"/bots/{bot.name}", {"config": {"order_amount": "0.02"}, "confirm": True}, format="json")
    assert "desk limit of 40 USDT per order" in refused(response, "config.order_amount")


# --- cost ---


def test_a_create_adds_three_reads_side_by_side_and_its_confirmation_none(api, desk, hummingbot, upstream_calls):
    """Before the checks a spread create made 4 calls (status, save config, validate, deploy). The checks add the
    price, the pair's rules and the account's key list, read at the same time, and nothing when a confirmation follows
    within PRETRADE_CACHE_SECONDS. The connector list (kept an hour) and the balances (5 minutes) are the panel's."""
    from bots.services.accounts import key_connectors, portfolio

    key_connectors(desk.server), portfolio(server=desk.server)  # the panel's hourly and 5-minute caches
    upstream_calls.clear()
    assert api.post("/bots/create", body(config={"order_amount": "10", "budget_quote": "100"}),
                    format="json").status_code == 409
    checks = list(upstream_calls)
    assert sorted(path for _, path in checks) == [
        "/accounts/client_desk/credentials", "/connectors/binance/trading-rules", "/market-data/prices"]
    upstream_calls.clear()
    assert api.post("/bots/create", body(config={"order_amount": "10", "budget_quote": "100"}, confirm=True),
                    format="json").status_code == 201
    assert [path for _, path in upstream_calls] == [
        "/bot-orchestration/status", "/controllers/configs/eth_mm",
        "/controllers/generic/pmm_v1/config/validate", "/bot-orchestration/deploy-v2-controllers"]


# --- start ---


def test_a_start_over_a_desk_limit_lowered_since_is_refused_and_sends_nothing(api, desk, hummingbot, upstream_calls):
    bot = running(api, hummingbot)
    Bot.objects.filter(pk=bot.pk).update(status="stopped")
    Account.objects.filter(pk=desk.pk).update(max_bot_budget=Decimal(50))
    upstream_calls.clear()
    response = api.post(f"/bots/{bot.name}/start")
    assert response.status_code == 409 and "desk limit of 50 USDT per bot" in response.json()["error"]["message"]
    assert Bot.objects.get(pk=bot.pk).status == "stopped"
    assert not [path for _, path in upstream_calls if path.startswith(("/docker/", "/bot-orchestration/"))]


def test_the_api_docs_show_the_409_with_an_example_on_create_and_patch(api):
    import json

    paths = json.loads(api.get("/api/schema?format=json").content)["paths"]
    for path, method in (("/bots/create", "post"), ("/bots", "post"), ("/bots/{key}", "patch")):
        answer = paths[path][method]["responses"]["409"]
        assert "confirmation_required" in answer["description"]
        example = next(iter(answer["content"]["application/json"]["examples"].values()))["value"]
        assert example["error"]["details"]["warnings"][0]["field"] == "config.order_amount"


def test_a_gateway_bot_on_a_server_without_gateway_says_its_market_was_not_checked(api, hummingbot, upstream_account):
    volume = {"total_amount_quote": "2000", "order_amount_quote": "20", "min_price": "0.004", "max_price": "0.006"}
    create = {"name": "sol_vol", "account": "client_sharp", "strategy": "volume", "connector": "jupiter",
              "pair": "SHARP-USDC", "config": volume}
    warnings = asked(api.post("/bots/create", create, format="json"))
    assert set(warnings) == {"price_unknown", "rules_unknown"}  # no keys asked: Gateway connectors use a wallet
    assert ("Hummingbot: Error getting prices: No connector available for jupiter"
            in warnings["price_unknown"]["message"])
    assert api.post("/bots/create", {**create, "confirm": True}, format="json").status_code == 201


# --- issue 15, Medium 3: the API used to take these without a word ---


def test_a_trillion_sharp_on_a_budget_of_one_with_five_levels_asks(api, upstream_account, hummingbot):
    levels = [0.5, 1, 1.5, 2, 2.5]
    create = {"name": "huge", "account": "client_sharp", "strategy": "spread", "connector": "bitmart",
              "pair": "SHARP-USDT", "config": {"order_amount": "1e12", "budget_quote": "1", "buy_spreads_pct": levels,
                                               "sell_spreads_pct": levels}}
    warnings = asked(api.post("/bots/create", create, format="json"))
    assert "5 buy and 5 sell order(s) of 1000000000000 SHARP" in warnings["size_over_budget"]["message"]
    assert nothing_sent(hummingbot)


def test_raising_the_order_amount_from_0_002_to_1000_btc_on_a_100_usdt_bot_asks(api, desk, hummingbot):
    bot = running(api, hummingbot, name="btc_mm", pair="BTC-USDT", confirm=True,
                  config={"order_amount": "0.002", "budget_quote": "100"})
    warnings = asked(api.patch(f"/bots/{bot.name}", {"config": {"order_amount": "1000"}}, format="json"))
    assert {"size_over_budget", "live_change_large"} <= set(warnings)
    held = get_client().bot_controller_configs(bot.hummingbot_name)[bot.config_name]
    assert held["order_amount"] == "0.002"


def test_a_price_that_does_not_come_back_in_time_is_a_check_not_made_not_a_wait(api, desk, hummingbot, settings):
    settings.HUMMINGBOT_TIMEOUT = 0.5
    held = hummingbot.state.set_fault("POST", "^/market-data/prices$", "delay", seconds=30)
    try:
        warnings = asked(api.post("/bots/create", body(), format="json"))
    finally:
        held.released.set()
    assert "within 0.5 s (HUMMINGBOT_TIMEOUT)" in warnings["price_unknown"]["message"]
    assert nothing_sent(hummingbot)
