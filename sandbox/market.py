"""Market data for pre-trade checks, `POST /market-data/prices` and `GET /connectors/{c}/trading-rules`
(docs/hummingbot-api.md §13): which pairs each connector lists, their rules, and last traded prices that move
slowly with the sandbox clock (seeded per pair, so a test sees the same price at the same time)."""

from __future__ import annotations

import math

from .config import CONNECTORS
from .replies import _detail

# The pairs tests and the demo trade; any other listed connector lists DEFAULT_PAIRS.
LISTED_PAIRS = {
    "bitmart": ("SHARP-USDT", "BTC-USDT", "ETH-USDT", "SOL-USDT"),
    "binance": ("BTC-USDT", "ETH-USDT", "SOL-USDT", "DOGE-USDT"),
    "gate_io": ("SHARP-USDT", "BTC-USDT", "ETH-USDT"),
    "kucoin": ("SHARP-USDT", "BTC-USDT", "ETH-USDT"),
    "kraken": ("BTC-USDT", "ETH-USDT"),
}
DEFAULT_PAIRS = ("BTC-USDT", "ETH-USDT", "SOL-USDT")

# base asset -> (min_order_size, min_base_amount_increment, min_price_increment, min_notional_size), as an
# exchange sets them: a minimum size in base and a minimum value in quote.
RULES = {
    "SHARP": (10.0, 1.0, 0.000001, 0.1),
    "BTC": (0.00001, 0.00001, 0.01, 5.0),
    "ETH": (0.0001, 0.0001, 0.01, 5.0),
    "SOL": (0.001, 0.001, 0.01, 5.0),
}
OTHER_RULES = (1.0, 1.0, 0.00001, 1.0)

DRIFT = 0.02  # prices wander ±2 % ...
PERIOD_SECONDS = 86_400.0  # ... over a day: a test's few steps see them all but still


def listed_pairs(connector: str) -> tuple[str, ...]:
    return LISTED_PAIRS.get(connector, DEFAULT_PAIRS)


def price(mid: float, phase: float, now: float) -> float:
    """The last traded price at `now` of a pair whose seeded mid is `mid` (6 significant digits)."""
    moved = mid * (1 + DRIFT * math.sin(2 * math.pi * (now / PERIOD_SECONDS + phase)))
    return float(f"{moved:.6g}")


def prices(connector: str, pairs: list, price_of) -> dict:
    """The PricesResponse body; `price_of(pair)` gives a listed pair's price. A pair the connector does not list
    is left out of `prices` (§13: not guaranteed to be an error)."""
    if connector not in CONNECTORS:
        raise _detail(500, f"Error getting prices: No connector available for {connector}")
    listed = listed_pairs(connector)
    return {"connector": connector, "prices": {pair: price_of(pair) for pair in pairs if pair in listed}}


def trading_rules(connector: str, pairs: list) -> dict:
    """{pair: rules} for the pairs asked (every listed pair when none), `{"error": ...}` for an unlisted one."""
    if connector not in CONNECTORS:
        raise _detail(404, f"Connector '{connector}' not found or error: No connector available for {connector}")
    listed = listed_pairs(connector)
    return {pair: _rule(pair) if pair in listed else {"error": f"Trading pair {pair} not found"}
            for pair in (pairs or listed)}


def _rule(pair: str) -> dict:
    base, _, quote = pair.partition("-")
    min_size, base_step, price_step, min_notional = RULES.get(base, OTHER_RULES)
    return {
        "min_order_size": min_size, "max_order_size": None, "min_price_increment": price_step,
        "min_base_amount_increment": base_step, "min_quote_amount_increment": price_step,
        "min_notional_size": min_notional, "min_order_value": min_notional,
        "max_price_significant_digits": 8.0, "supports_limit_orders": True, "supports_market_orders": True,
        "buy_order_collateral_token": quote, "sell_order_collateral_token": base,
    }
