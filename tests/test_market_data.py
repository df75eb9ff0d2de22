"""Market data for pre-trade checks (docs/hummingbot-api.md §13): the sandbox answers to the contract, the client
reads it into typed values and typed errors."""
from decimal import Decimal

import pytest

from bots.hummingbot.client import HummingbotClient
from bots.hummingbot.errors import HummingbotNotFound, HummingbotServerError
from tests.conftest import SANDBOX_PASSWORD


@pytest.fixture
def client(sandbox):
    return HummingbotClient(sandbox.url, "admin", SANDBOX_PASSWORD, retries=0)


def test_prices_of_listed_pairs_and_a_missing_pair_is_unknown_not_zero(client):
    prices = client.prices("binance", ["ETH-USDT", "FOO-USDT"])
    assert set(prices) == {"ETH-USDT"}
    assert Decimal("2900") < prices["ETH-USDT"] < Decimal("3100")


def test_prices_of_an_unknown_connector_are_a_500_with_its_detail(client):
    with pytest.raises(HummingbotServerError) as caught:
        client.prices("binanse", ["ETH-USDT"])
    assert "No connector available for binanse" in caught.value.detail


def test_prices_move_slowly_with_the_clock_and_are_the_same_at_the_same_time(client, sandbox):
    first = client.prices("bitmart", ["SHARP-USDT"])["SHARP-USDT"]
    assert client.prices("bitmart", ["SHARP-USDT"])["SHARP-USDT"] == first
    sandbox.advance(900)
    later = client.prices("bitmart", ["SHARP-USDT"])["SHARP-USDT"]
    assert later != first and abs(later / first - 1) < Decimal("0.005")
    prices_over_a_day = set()
    for _ in range(8):
        sandbox.advance(3 * 3600)
        prices_over_a_day.add(client.prices("bitmart", ["SHARP-USDT"])["SHARP-USDT"])
    assert max(prices_over_a_day) / min(prices_over_a_day) > Decimal("1.03")  # ±2 % over a day


def test_trading_rules_per_pair_and_an_unlisted_pair_is_an_error_inside_the_200(client):
    rules = client.trading_rules("binance", ["ETH-USDT", "FOO-USDT"])
    eth = rules.rules["ETH-USDT"]
    assert (eth.min_order_size, eth.min_notional_size, eth.max_order_size) == (Decimal("0.0001"), Decimal(5), None)
    assert eth.supports_limit_orders
    assert rules.unlisted == {"FOO-USDT": "Trading pair FOO-USDT not found"}


def test_trading_rules_of_an_unknown_connector_are_a_404(client):
    with pytest.raises(HummingbotNotFound) as caught:
        client.trading_rules("binanse", ["ETH-USDT"])
    assert "Connector 'binanse' not found" in caught.value.detail


def test_trading_rules_without_pairs_list_every_pair_of_the_connector(sandbox):
    import requests

    answer = requests.get(f"{sandbox.url}/connectors/kraken/trading-rules", auth=("admin", SANDBOX_PASSWORD)).json()
    assert sorted(answer) == ["BTC-USDT", "ETH-USDT"]


def test_exchange_down_fault_fails_both_routes_as_the_real_server_does(client, sandbox):
    sandbox.state.set_fault("*", "^/market-data/|/trading-rules$", "exchange_down")
    with pytest.raises(HummingbotServerError) as caught:
        client.prices("bitmart", ["SHARP-USDT"])
    assert "Cannot connect" in caught.value.detail
    with pytest.raises(HummingbotServerError):
        client.trading_rules("bitmart", ["SHARP-USDT"])
