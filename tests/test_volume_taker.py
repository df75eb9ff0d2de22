"""bots/controllers/volume_taker.py: the pure decision and its Hummingbot glue, loaded with the stand-ins of
tests/volume_taker_standins.py."""

import ast
import asyncio
import inspect
import re
import types
from dataclasses import replace
from decimal import Decimal as D

import pytest

from bots import strategies
from tests.volume_taker_standins import (
    SOURCE_PATH, ExecutionStrategy, PriceType, Record, RunnableStatus, TradeType, load_volume_taker)


@pytest.fixture(scope="module")
def vt():
    return load_volume_taker()


# --- next_leg: the pure decision ------------------------------------------------------------------

NOW = 10_000.0


def leg_state(vt, **changes):
    limits = vt.Limits(total_amount_quote=D("100"), order_amount_quote=D("10"), order_interval=60,
                       min_price=D("0.004"), max_price=D("0.006"), max_book_spread=D("0.02"), order_timeout=30)
    state = vt.LegState(now=NOW, best_bid=D("0.00499"), best_ask=D("0.00501"), open_legs=(), last_side=None,
                        last_leg_at=None, filled_quote=D("0"), limits=limits)
    return replace(state, **changes)


def with_limits(vt, **changes):
    state = leg_state(vt)
    return replace(state, limits=replace(state.limits, **changes))


def test_first_leg_buys_order_amount_quote_worth_at_mid(vt):
    decision = vt.next_leg(leg_state(vt))
    assert decision.side == "BUY"
    assert decision.amount_base == D("2000")  # 10 quote / 0.005 mid
    assert decision.stop_ids == ()


@pytest.mark.parametrize("last, following", [("BUY", "SELL"), ("SELL", "BUY")])
def test_legs_alternate_buy_and_sell(vt, last, following):
    decision = vt.next_leg(leg_state(vt, last_side=last, last_leg_at=NOW - 600))
    assert decision.side == following


@pytest.mark.parametrize("bid, ask", [("0.00389", "0.00391"), ("0.00609", "0.00611")])
def test_leg_is_skipped_when_mid_is_outside_the_band(vt, bid, ask):
    decision = vt.next_leg(leg_state(vt, best_bid=D(bid), best_ask=D(ask)))
    assert decision.side is None
    assert decision.reason == "mid price outside the band"


@pytest.mark.parametrize("bid, ask", [("0.00399", "0.00401"), ("0.00599", "0.00601")])
def test_band_edges_are_inside(vt, bid, ask):
    assert vt.next_leg(leg_state(vt, best_bid=D(bid), best_ask=D(ask))).side == "BUY"


def test_leg_is_skipped_when_the_book_spread_is_too_wide(vt):
    decision = vt.next_leg(leg_state(vt, best_bid=D("0.0049"), best_ask=D("0.0051")))  # 4% of mid
    assert decision.side is None
    assert decision.reason == "book spread too wide"


def test_book_spread_equal_to_the_limit_is_allowed(vt):
    assert vt.next_leg(leg_state(vt, best_bid=D("0.00495"), best_ask=D("0.00505"))).side == "BUY"  # 2%


def test_gateway_price_with_bid_equal_to_ask_trades(vt):
    assert vt.next_leg(leg_state(vt, best_bid=D("0.005"), best_ask=D("0.005"))).side == "BUY"


@pytest.mark.parametrize("bid, ask", [(None, D("0.005")), (D("NaN"), D("NaN")), (D("0"), D("0.005")),
                                      (D("0.0051"), D("0.0049"))])
def test_leg_is_skipped_without_a_usable_price(vt, bid, ask):
    decision = vt.next_leg(leg_state(vt, best_bid=bid, best_ask=ask))
    assert decision.side is None
    assert decision.reason == "no usable price"


def test_leg_waits_for_the_order_interval(vt):
    decision = vt.next_leg(leg_state(vt, last_side="BUY", last_leg_at=NOW - 59))
    assert decision.side is None
    assert decision.reason == "waiting for the order interval"
    assert vt.next_leg(leg_state(vt, last_side="BUY", last_leg_at=NOW - 60)).side == "SELL"


def test_leg_that_fits_the_budget_exactly_is_placed(vt):
    assert vt.next_leg(leg_state(vt, filled_quote=D("90"))).side == "BUY"


def test_leg_that_would_exceed_the_budget_cap_is_skipped(vt):
    decision = vt.next_leg(leg_state(vt, filled_quote=D("90.01")))
    assert decision.side is None
    assert decision.reason == "budget used up"


def test_no_new_leg_while_one_is_in_flight(vt):
    decision = vt.next_leg(leg_state(vt, open_legs=(vt.OpenLeg("ex-1", NOW - 5),)))
    assert decision.side is None
    assert decision.stop_ids == ()
    assert decision.reason == "leg in flight"


def test_leg_older_than_the_timeout_is_stopped(vt):
    decision = vt.next_leg(leg_state(vt, open_legs=(vt.OpenLeg("old", NOW - 31), vt.OpenLeg("young", NOW - 30))))
    assert decision.stop_ids == ("old",)
    assert decision.side is None


def test_limits_come_from_the_state_not_constants(vt):
    assert vt.next_leg(with_limits(vt, max_book_spread=D("0.05"))).side == "BUY"
    assert vt.next_leg(with_limits(vt, min_price=D("0.0051"), max_price=D("1"))).side is None


# --- the controller glue --------------------------------------------------------------------------


class FakeMarket:
    def __init__(self, bid="0.00499", ask="0.00501"):
        self.prices = {PriceType.BestBid: D(bid), PriceType.BestAsk: D(ask)}
        self.now = NOW
        self.rate_sources = []

    def time(self):
        return self.now

    def get_price_by_type(self, connector_name, trading_pair, price_type):
        return self.prices[price_type]

    def initialize_rate_sources(self, connector_pairs):
        self.rate_sources.extend(connector_pairs)


def executor(id, age, side, active=False, filled="0"):
    return types.SimpleNamespace(id=id, timestamp=NOW - age, is_active=active, filled_amount_quote=D(filled),
                                 config=types.SimpleNamespace(side=side))


def controller(vt, market=None, executors=()):
    config = vt.VolumeTakerConfig(
        id="sharp-volume", connector_name="bitmart", trading_pair="SHARP-USDT", total_amount_quote=D("100"),
        order_amount_quote=D("10"), order_interval=60, min_price=D("0.004"), max_price=D("0.006"),
        max_book_spread_pct=D("0.02"), order_timeout=30)
    taker = vt.VolumeTaker(config, market or FakeMarket(), None)
    taker.executors_info = list(executors)
    asyncio.run(taker.update_processed_data())
    return taker


def test_controller_places_one_market_buy_through_an_order_executor(vt):
    actions = controller(vt).determine_executor_actions()
    assert len(actions) == 1
    action = actions[0]
    assert type(action).__name__ == "CreateExecutorAction"
    assert action.controller_id == "sharp-volume"
    order = action.executor_config
    assert (order.connector_name, order.trading_pair) == ("bitmart", "SHARP-USDT")
    assert order.side is TradeType.BUY
    assert order.execution_strategy is ExecutionStrategy.MARKET
    assert order.amount == D("2000")
    assert order.timestamp == NOW


def test_controller_follows_a_buy_with_a_sell(vt):
    actions = controller(vt, executors=[executor("a", 600, TradeType.BUY, filled="10")]).determine_executor_actions()
    assert actions[0].executor_config.side is TradeType.SELL


def test_controller_stops_a_timed_out_leg_and_keeps_what_filled(vt):
    actions = controller(vt, executors=[executor("stuck", 31, TradeType.BUY, active=True)]).determine_executor_actions()
    assert [(type(a).__name__, a.executor_id, a.keep_position) for a in actions] == [
        ("StopExecutorAction", "stuck", True)]


def test_controller_waits_while_its_leg_is_active(vt):
    taker = controller(vt, executors=[executor("live", 5, TradeType.BUY, active=True)])
    assert taker.determine_executor_actions() == []


def test_controller_counts_the_budget_from_its_executors(vt):
    done = [executor(str(i), 600 + i, side, filled="10") for i, side in enumerate([TradeType.BUY, TradeType.SELL] * 5)]
    taker = controller(vt, executors=done)
    assert taker.determine_executor_actions() == []
    assert taker.get_custom_info() == {"decision": "budget used up", "filled_quote": "100", "budget_quote": "100"}


def test_controller_counts_fills_from_before_a_restart(vt):
    taker = controller(vt)
    taker.performance_report = types.SimpleNamespace(volume_traded=D("95"))
    assert taker.determine_executor_actions() == []


def test_controller_without_a_price_does_nothing(vt):
    market = FakeMarket()
    market.get_price_by_type = lambda *_: (_ for _ in ()).throw(ValueError("order book not ready"))
    taker = controller(vt, market=market)
    assert taker.determine_executor_actions() == []
    assert taker.get_custom_info()["decision"] == "no usable price"


def test_controller_does_nothing_once_terminated(vt):
    taker = controller(vt)
    taker.status = RunnableStatus.TERMINATED
    assert taker.determine_executor_actions() == []


def test_controller_asks_for_a_price_feed_for_its_market(vt):
    market = FakeMarket()
    controller(vt, market=market)
    assert [(p.connector_name, p.trading_pair) for p in market.rate_sources] == [("bitmart", "SHARP-USDT")]


def test_config_checks_pair_shape_and_limits(vt):
    config_class = vt.VolumeTakerConfig
    assert config_class.validate_trading_pair("SHARP-USDT") == "SHARP-USDT"
    for bad in ["SHARPUSDT", "SHARP-", "A-B-C"]:
        with pytest.raises(ValueError):
            config_class.validate_trading_pair(bad)
    base = dict(order_amount_quote=D("10"), total_amount_quote=D("100"), min_price=D("1"), max_price=D("2"))
    assert config_class.validate_limits(Record(**base))
    for changes in [{"order_amount_quote": D("101")}, {"min_price": D("2")}]:
        with pytest.raises(ValueError):
            config_class.validate_limits(Record(**{**base, **changes}))


def test_config_registers_its_market(vt):
    class Markets(dict):
        def add_or_update(self, connector, *pairs):
            self.setdefault(connector, set()).update(pairs)
            return self

    config = controller(vt).config
    assert config.update_markets(Markets()) == {"bitmart": {"SHARP-USDT"}}


def test_config_fields_match_what_the_bridge_writes(vt):
    written = strategies.controller_config(
        "volume", "cfg", "bitmart", "SHARP-USDT",
        {"total_amount_quote": 100, "order_amount_quote": 10, "min_price": 1, "max_price": 2})
    declared = set(vt.VolumeTakerConfig.__annotations__)
    assert declared | {"id", "manual_kill_switch", "initial_positions"} == set(written)


# --- the source file itself -----------------------------------------------------------------------


def test_controller_source_compiles():
    compile(strategies.volume_taker_source(), str(SOURCE_PATH), "exec")


def test_controller_source_is_a_constant_file():
    assert inspect.signature(strategies.volume_taker_source).parameters == {}
    source = strategies.volume_taker_source()
    assert not re.search(r"\{\{|\{%|\$\{|%\(\w+\)s|string\.Template|\.format\(", source)


def test_controller_source_imports_only_stdlib_pydantic_and_hummingbot():
    tree = ast.parse(strategies.volume_taker_source())
    roots = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    roots |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert roots <= {"dataclasses", "decimal", "typing", "pydantic", "hummingbot"}
    called = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert not called & {"eval", "exec", "open", "compile", "__import__"}
