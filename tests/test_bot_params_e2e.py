"""Bot parameters end to end: parsed once into typed values, every decimal bounded before anything is
stored or sent, connectors stored canonical so the self-trade guard and the venue rules can't be
dodged by letter case (issue 8, findings 3 and 4)."""
import pytest
import responses

from bots import strategies
from bots.hummingbot.client import get_client
from bots.models import Bot

pytestmark = pytest.mark.django_db

SPREAD = {"order_amount": "1000", "budget_quote": "500"}
VOLUME = {"total_amount_quote": "2000", "order_amount_quote": "20", "min_price": "0.004", "max_price": "0.006"}
MINT_PAIR = "So11abcDEF-EPjFWxyz"


def create(api, name, strategy, connector, pair, params, account="client_sharp"):
    # The sandbox has no Gateway: a jupiter bot's price and rules cannot be read, so the create asks (pretrade).
    confirm = connector.lower() == "jupiter"
    return api.post("/bots/create", {"name": name, "account": account, "strategy": strategy,
                                     "connector": connector, "pair": pair, "params": params, "confirm": confirm},
                    format="json")


def saved_config(name):
    return get_client()._call("GET", f"/controllers/configs/{name}")


@pytest.fixture
def no_upstream():
    """Any HTTP call to Hummingbot fails the test: bad input must be refused before it."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
    assert not mock.calls, [c.request.url for c in mock.calls]


# --- finding 3: letter case ------------------------------------------------------------------------


@pytest.mark.parametrize("connector", ["BITMART", "BitMart", " bitmart "])
def test_volume_bot_next_to_a_spread_bot_is_refused_whatever_the_connector_case(
        api, hummingbot, upstream_account, connector):
    assert create(api, "mm", "spread", "bitmart", "SHARP-USDT", SPREAD).status_code == 201
    response = create(api, "vol", "volume", connector, "sharp-usdt", VOLUME)
    assert response.status_code == 400, response.json()
    assert "would trade against it" in response.json()["error"]["details"]["strategy"][0]
    assert not Bot.objects.filter(name="vol").exists()


def test_starting_a_spread_bot_is_refused_when_a_volume_bot_was_created_with_an_upper_case_connector(
        api, hummingbot, upstream_account):
    mm = create(api, "mm", "spread", "bitmart", "SHARP-USDT", SPREAD).json()["id"]
    api.post(f"/bots/{mm}/stop")
    api.get("/bots")  # the sync confirms the stop
    assert create(api, "vol", "volume", "BitMart", "SHARP-USDT", VOLUME).status_code == 201
    response = api.post(f"/bots/{mm}/start")
    assert response.status_code == 409
    assert "Bot 'vol' already runs volume" in response.json()["error"]["message"]


def test_jupiter_in_any_case_is_a_solana_gateway_and_keeps_the_mint_case_upstream(api, hummingbot, upstream_account):
    response = create(api, "sol_vol", "volume", "Jupiter", MINT_PAIR, VOLUME)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["connector"], body["trading_pair"]) == ("jupiter", MINT_PAIR)
    assert (body["chain"], body["venue"], body["network"]) == ("solana", "gateway", "solana-mainnet-beta")
    config = saved_config("sol_vol")
    assert config["trading_pair"] == MINT_PAIR
    assert config["connector_name"] == "solana-mainnet-beta"


def test_an_adopted_bot_on_the_same_connector_and_pair_is_a_warning_on_create(api, hummingbot, upstream_account):
    Bot.objects.create(name="legacy", strategy=Bot.Strategy.EXTERNAL, connector="bitmart", trading_pair="SHARP-USDT",
                       status=Bot.Status.RUNNING, hummingbot_name="legacy-20260101-000000")
    response = create(api, "vol", "volume", "BITMART", "SHARP-USDT", VOLUME)
    assert response.status_code == 201, response.json()
    [warning] = response.json()["warnings"]
    assert "legacy" in warning and "bitmart SHARP-USDT" in warning


def test_the_panel_shows_the_adopted_bot_warning_after_create(operator, hummingbot, upstream_account):
    from django.test import Client
    from django.urls import reverse

    Bot.objects.create(name="legacy", strategy=Bot.Strategy.EXTERNAL, connector="bitmart", trading_pair="SHARP-USDT",
                       status=Bot.Status.RUNNING, hummingbot_name="legacy-20260101-000000")
    panel = Client()
    panel.force_login(operator)
    response = panel.post(reverse("admin:bots_bot_add"), {  # the panel's typed form (its connector is a choice)
        "name": "mm", "account": "client_sharp", "strategy": "spread", "connector": "bitmart", "deploy": "Deploy",
        "trading_pair": "sharp-usdt", "spread-order_amount": "100", "spread-budget_quote": "500",
        "spread-inventory_skew_enabled": "on"}, follow=True)
    shown = [(m.level_tag, m.message) for m in response.context["messages"]]
    assert any(tag == "warning" and "'legacy'" in text and "bitmart SHARP-USDT" in text for tag, text in shown), shown


def test_create_has_no_warnings_when_the_market_is_ours_alone(api, hummingbot, upstream_account):
    response = create(api, "vol", "volume", "bitmart", "SHARP-USDT", VOLUME)
    assert response.status_code == 201
    assert response.json()["warnings"] == []


# --- finding 4 and the parse-once rule -------------------------------------------------------------

UNBOUNDED = [
    ("order_amount_quote", 1e-33),  # a JSON number: used to pass the first check and 500 on the second
    ("order_amount_quote", "1e-33"),
    ("order_amount_quote", "1e-999990"),  # used to store a 1 MB parameter value
    ("total_amount_quote", "1e999999"),
    ("total_amount_quote", 1e300),
    ("total_amount_quote", "1" * 40),
    ("min_price", "0." + "0" * 37 + "1"),
    ("min_price", "0.0012345678901234567890123456789012345"),
    ("max_price", "NaN"),
    ("max_price", "Infinity"),
    ("max_price", "-Infinity"),
    ("order_amount_quote", True),
    ("order_interval", False),
    ("max_slippage_pct", "1e-999990"),
    ("max_empty_legs", "1e999999"),
]


@pytest.mark.parametrize("field, value", UNBOUNDED, ids=[f"{f}={v!r}"[:60] for f, v in UNBOUNDED])
def test_unbounded_decimals_are_400_naming_the_field_with_no_row_and_no_upstream_call(
        api, account, no_upstream, field, value):
    response = create(api, "vol", "volume", "bitmart", "SHARP-USDT", {**VOLUME, field: value})
    assert response.status_code == 400, response.content
    message = response.json()["error"]["details"][f"params.{field}"][0]  # named as the request nests it
    assert message.startswith(strategies.VOLUME_PARAMS[field].label), message
    assert len(message) < 200
    assert not Bot.objects.exists()


def test_create_parses_the_parameters_once_and_deploys_what_the_preview_renders(
        api, hummingbot, upstream_account, monkeypatch):
    calls = []
    parse = strategies.parse_params
    monkeypatch.setattr(strategies, "parse_params", lambda *args: calls.append(args) or parse(*args))
    raw = {**VOLUME, "order_amount_quote": "20.50", "max_slippage_pct": 0.25, "max_empty_legs": "3"}
    assert create(api, "vol", "volume", "bitmart", "SHARP-USDT", raw).status_code == 201
    assert len(calls) == 1
    bot = Bot.objects.get(name="vol")
    preview = strategies.controller_config("vol", "bitmart", "SHARP-USDT", parse("volume", raw))
    assert saved_config("vol") == preview
    assert bot.params == parse("volume", raw).to_json()
    assert bot.params["order_amount_quote"] == "20.5"


@pytest.mark.django_db(transaction=True)
def test_connectors_stored_before_the_rule_are_lower_cased_by_the_migration():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("bots", "0001_initial")])
    old_bot = executor.loader.project_state([("bots", "0001_initial")]).apps.get_model("bots", "Bot")
    old_bot.objects.create(name="vol", strategy="volume", connector="BitMart", trading_pair="SHARP-USDT")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert Bot.objects.get(name="vol").connector == "bitmart"


def test_a_bot_whose_stored_params_are_no_longer_accepted_is_not_started_and_keeps_its_status(
        api, hummingbot, upstream_account):
    # Stored before the max-leg rule: one leg of 15 % of the budget.
    bot = Bot.objects.create(name="old_vol", account=upstream_account, strategy="volume", connector="bitmart",
                             trading_pair="SHARP-USDT", status=Bot.Status.STOPPED,
                             params={**VOLUME, "order_amount_quote": "300"})
    response = api.post(f"/bots/{bot.name}/start")
    assert response.status_code == 409, response.content
    message = response.json()["error"]["message"]
    assert "no longer accepted" in message and "max_leg_pct" in message
    bot.refresh_from_db()
    assert bot.status == Bot.Status.STOPPED
