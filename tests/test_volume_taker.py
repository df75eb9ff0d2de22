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
from tests.volume_simulation import simulate_seeds
from tests.volume_taker_standins import (
    SOURCE_PATH, CloseType, ExecutionStrategy, PriceType, Record, RunnableStatus, TradeType, load_volume_taker)


@pytest.fixture(scope="module")
def vt():
    return load_volume_taker()


# --- next_leg: the pure decision ------------------------------------------------------------------

NOW = 10_000.0
BUY_LIMIT = D("0.0050601")  # the default ask 0.00501, plus 1% slippage
SELL_LIMIT = D("0.0049401")  # the default bid 0.00499, less 1% slippage


def leg_state(vt, **changes):
    limits = vt.Limits(total_amount_quote=D("100"), order_amount_quote=D("10"), order_interval=60,
                       min_price=D("0.004"), max_price=D("0.006"), max_book_spread=D("0.02"), order_timeout=30,
                       max_slippage=D("0.01"), max_leg_fraction=D("0.2"), fee_rate=D("0.001"), max_empty_legs=5)
    state = vt.LegState(now=NOW, best_bid=D("0.00499"), best_ask=D("0.00501"), open_legs=(), last_leg_at=None,
                        position_base=D("0"), spent_quote=D("0"), empty_legs=0, limits=limits)
    return replace(state, **changes)


def with_limits(vt, **changes):
    state = leg_state(vt)
    return replace(state, limits=replace(state.limits, **changes))


def test_flat_position_buys_one_leg_at_the_ask_plus_slippage(vt):
    decision = vt.next_leg(leg_state(vt))
    assert (decision.side, decision.price, decision.stop_ids) == ("BUY", BUY_LIMIT, ())
    assert decision.amount_base == pytest.approx(D("10") / BUY_LIMIT)
    assert decision.amount_base * decision.price <= D("10")


def test_buy_limit_is_capped_at_max_price(vt):
    decision = vt.next_leg(leg_state(vt, best_bid=D("0.00595"), best_ask=D("0.00599")))
    assert (decision.side, decision.price) == ("BUY", D("0.006"))  # not 0.00599 * 1.01


def test_long_position_sells_exactly_what_is_held_at_the_bid_less_slippage(vt):
    decision = vt.next_leg(leg_state(vt, position_base=D("1234.5"), last_leg_at=NOW - 600))
    assert (decision.side, decision.amount_base, decision.price) == ("SELL", D("1234.5"), SELL_LIMIT)


def test_position_worth_a_tenth_of_a_leg_at_the_bid_is_sold_even_if_less_at_the_limit(vt):
    state = replace(with_limits(vt, max_slippage=D("0.1")), position_base=D("210"))  # 1.05 quote at the bid
    decision = vt.next_leg(state)
    assert (decision.side, decision.amount_base) == ("SELL", D("210"))


def test_sell_limit_is_capped_at_min_price(vt):
    decision = vt.next_leg(leg_state(vt, position_base=D("2000"), best_bid=D("0.00401"), best_ask=D("0.00403")))
    assert (decision.side, decision.price) == ("SELL", D("0.004"))  # not 0.00401 * 0.99


def test_short_position_buys_back_exactly_what_is_short(vt):
    decision = vt.next_leg(leg_state(vt, position_base=D("-500")))
    assert (decision.side, decision.amount_base, decision.price) == ("BUY", D("500"), BUY_LIMIT)


def test_position_under_a_tenth_of_a_leg_is_flat_and_the_buy_tops_it_up_to_one_leg(vt):
    decision = vt.next_leg(leg_state(vt, position_base=D("150")))  # 0.75 quote at the bid, under 1
    assert decision.side == "BUY"
    assert decision.amount_base + D("150") == pytest.approx(D("10") / BUY_LIMIT)


@pytest.mark.parametrize("position, bid, ask, reason", [
    ("0", "0.00599", "0.00601", "best ask outside the price band"),  # mid 0.006 is inside
    ("0", "0.00390", "0.00395", "best ask outside the price band"),
    ("2000", "0.00399", "0.00401", "best bid outside the price band"),  # mid 0.004 is inside
    ("2000", "0.00605", "0.00610", "best bid outside the price band"),
])
def test_no_leg_while_the_touch_it_would_take_is_outside_the_band(vt, position, bid, ask, reason):
    decision = vt.next_leg(leg_state(vt, position_base=D(position), best_bid=D(bid), best_ask=D(ask)))
    assert (decision.side, decision.reason) == (None, reason)


@pytest.mark.parametrize("position, bid, ask", [("0", "0.00399", "0.004"), ("0", "0.00599", "0.006"),
                                                ("2000", "0.004", "0.00401"), ("2000", "0.006", "0.00601")])
def test_band_edges_are_inside(vt, position, bid, ask):
    assert vt.next_leg(leg_state(vt, position_base=D(position), best_bid=D(bid), best_ask=D(ask))).side


def test_leg_is_at_most_max_leg_fraction_of_the_budget(vt):
    decision = vt.next_leg(with_limits(vt, order_amount_quote=D("100"), max_leg_fraction=D("0.05")))
    assert decision.amount_base * decision.price == pytest.approx(D("5"))


def test_buy_is_cut_so_that_it_and_its_sale_fit_the_budget_with_fees(vt):
    decision = vt.next_leg(leg_state(vt, spent_quote=D("95")))
    worst_round_trip = decision.amount_base * (decision.price + D("0.006")) * D("1.001")
    assert decision.side == "BUY"
    assert worst_round_trip <= D("5")
    assert worst_round_trip == pytest.approx(D("5"))


def test_sell_never_takes_the_spend_above_the_budget(vt):
    decision = vt.next_leg(leg_state(vt, position_base=D("2000"), spent_quote=D("95")))
    assert decision.side == "SELL"
    assert decision.amount_base * D("0.006") * D("1.001") <= D("5")  # 832.5 base at most, not 2000


def test_budget_used_up_says_so_with_the_figures(vt):
    decision = vt.next_leg(leg_state(vt, spent_quote=D("99.8")))
    assert (decision.side, decision.reason) == (None, "budget used: 99.80 of 100 quote incl. fees")


def test_stops_after_max_empty_legs_in_a_row(vt):
    assert vt.next_leg(leg_state(vt, empty_legs=4)).side == "BUY"
    decision = vt.next_leg(leg_state(vt, empty_legs=5, last_leg_at=NOW - 600))
    assert (decision.side, decision.reason) == (None, "stopped: 5 legs in a row filled nothing")


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
    decision = vt.next_leg(leg_state(vt, last_leg_at=NOW - 59))
    assert decision.side is None
    assert decision.reason == "waiting for the order interval"
    assert vt.next_leg(leg_state(vt, last_leg_at=NOW - 60)).side == "BUY"


def test_no_new_leg_while_one_is_in_flight(vt):
    decision = vt.next_leg(leg_state(vt, open_legs=(vt.OpenLeg("ex-1", NOW - 5),)))
    assert decision.side is None
    assert decision.stop_ids == ()
    assert decision.reason == "leg in flight"


def test_leg_older_than_the_timeout_is_stopped(vt):
    decision = vt.next_leg(leg_state(vt, open_legs=(vt.OpenLeg("old", NOW - 31), vt.OpenLeg("young", NOW - 30))))
    assert decision.stop_ids == ("old",)
    assert decision.side is None


def test_leg_being_cancelled_is_not_stopped_again_and_blocks_the_next_leg(vt):
    decision = vt.next_leg(leg_state(vt, open_legs=(vt.OpenLeg("stopped", NOW - 90, cancelling=True),)))
    assert (decision.side, decision.stop_ids, decision.reason) == (None, (), "leg in flight")


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


def executor(id, age, side, *, status="done", base="0", quote="0", fees="0"):
    """An ExecutorInfo of an OrderExecutor: status is active, cancelling (SHUTTING_DOWN) or done."""
    done = status == "done"
    held = done and D(base) > 0  # an OrderExecutor that filled anything ends as a position hold
    return types.SimpleNamespace(
        id=id, timestamp=NOW - age, is_active=status == "active", is_done=done,
        close_type=(CloseType.POSITION_HOLD if held else CloseType.EARLY_STOP) if done else None,
        filled_amount_quote=D(quote), cum_fees_quote=D(fees),
        custom_info={"side": side, "executed_amount_base": D(base)}, config=types.SimpleNamespace(side=side))


def position(side, amount, volume="0", fees="0"):
    """A PositionSummary of the controller's positions_held (done position holds, and the database's after a restart)."""
    return types.SimpleNamespace(side=side, amount=D(amount), volume_traded_quote=D(volume), cum_fees_quote=D(fees))


CONFIG = dict(id="sharp-volume", connector_name="bitmart", trading_pair="SHARP-USDT", total_amount_quote=D("100"),
              order_amount_quote=D("10"), order_interval=60, min_price=D("0.004"), max_price=D("0.006"),
              max_book_spread_pct=D("0.02"), order_timeout=30, max_slippage=D("0.01"), max_leg_fraction=D("0.2"),
              fee_rate=D("0.001"), max_empty_legs=5)


def controller(vt, market=None, executors=(), positions=(), **config):
    taker = vt.VolumeTaker(vt.VolumeTakerConfig(**{**CONFIG, **config}), market or FakeMarket(), None)
    taker.executors_info = list(executors)
    taker.positions_held = list(positions)
    asyncio.run(taker.update_processed_data())
    return taker


def placed(taker):
    """The one order the controller asks for now, as (side, amount, price, execution strategy)."""
    actions = taker.determine_executor_actions()
    assert [type(action).__name__ for action in actions] == ["CreateExecutorAction"], actions
    order = actions[0].executor_config
    return order.side, order.amount, getattr(order, "price", None), order.execution_strategy


def test_controller_places_a_limit_buy_capped_at_the_ask_plus_slippage(vt):
    side, amount, price, strategy = placed(controller(vt))
    assert (side, price, strategy) == (TradeType.BUY, D("0.0050601"), ExecutionStrategy.LIMIT)  # 0.00501 * 1.01
    assert amount == pytest.approx(D("10") / D("0.0050601"))


def test_controller_sells_back_a_filled_buy_after_a_sell_that_filled_nothing(vt):
    bought = executor("buy", 300, TradeType.BUY, base="2000", quote="10.02", fees="0.01")
    empty_sell = executor("sell", 100, TradeType.SELL)
    taker = controller(vt, executors=[bought, empty_sell], positions=[position(TradeType.BUY, "2000", "10.02", "0.01")])
    assert placed(taker) == (TradeType.SELL, D("2000"), D("0.0049401"), ExecutionStrategy.LIMIT)  # 0.00499 * 0.99


def test_controller_sells_a_position_restored_after_a_restart(vt):
    taker = controller(vt, positions=[position(TradeType.BUY, "1500", "7.5", "0.0075")])
    assert placed(taker)[:2] == (TradeType.SELL, D("1500"))


def test_controller_stops_after_legs_in_a_row_that_filled_nothing(vt):
    failed = [executor(f"e{age}", age, side) for age, side in zip(range(600, 1100, 100), [TradeType.BUY] * 5)]
    taker = controller(vt, executors=failed)
    assert taker.determine_executor_actions() == []
    assert taker.get_custom_info()["decision"] == "stopped: 5 legs in a row filled nothing"


def test_controller_counts_fees_against_the_budget(vt):
    legs = [executor(f"e{i}", 600 + 60 * i, side, base="1000", quote="5", fees="0.05")
            for i, side in enumerate([TradeType.BUY, TradeType.SELL] * 9)]
    # 90 quote filled and 0.9 of fees, back to flat: 9.1 left
    taker = controller(vt, executors=legs, positions=[position(TradeType.BUY, "0", "90", "0.9")])
    side, amount, price, _ = placed(taker)
    assert side is TradeType.BUY
    worst_round_trip = amount * (price + D("0.006")) * D("1.001")  # buy at the limit, sell back at max_price
    assert worst_round_trip <= D("9.1")
    assert worst_round_trip == pytest.approx(D("9.1"))


def test_controller_never_places_a_leg_above_its_share_of_the_budget(vt):
    side, amount, price, _ = placed(controller(vt, max_leg_fraction=D("0.05")))
    assert amount * price == pytest.approx(D("5"))


def test_controller_refuses_a_buy_when_the_ask_is_above_max_price(vt):
    taker = controller(vt, market=FakeMarket(bid="0.00599", ask="0.00601"))  # mid 0.006 is still in the band
    assert taker.determine_executor_actions() == []
    assert taker.get_custom_info()["decision"] == "best ask outside the price band"


def test_controller_waits_while_its_stopped_leg_is_being_cancelled(vt):
    taker = controller(vt, executors=[executor("cancelling", 65, TradeType.BUY, status="cancelling")])
    assert taker.determine_executor_actions() == []


def test_controller_places_its_order_for_its_own_market_now(vt):
    actions = controller(vt).determine_executor_actions()
    assert [(type(action).__name__, action.controller_id) for action in actions] == [
        ("CreateExecutorAction", "sharp-volume")]
    order = actions[0].executor_config
    assert (order.connector_name, order.trading_pair, order.timestamp) == ("bitmart", "SHARP-USDT", NOW)


def test_controller_stops_a_timed_out_leg_and_keeps_what_filled(vt):
    taker = controller(vt, executors=[executor("stuck", 31, TradeType.BUY, status="active")])
    assert [(type(a).__name__, a.executor_id, a.keep_position) for a in taker.determine_executor_actions()] == [
        ("StopExecutorAction", "stuck", True)]
    assert taker.get_custom_info()["decision"] == "leg timed out: cancelling the rest"


def test_controller_waits_while_its_leg_is_active(vt):
    taker = controller(vt, executors=[executor("live", 5, TradeType.BUY, status="active", base="700")])
    assert taker.determine_executor_actions() == []
    assert taker.get_custom_info()["position_base"] == "700"  # a partial fill counts at once


def test_controller_reports_position_spend_and_why_it_stopped(vt):
    legs = [executor(str(i), 600 + i, side, base="2000", quote="9.98", fees="0.00998")
            for i, side in enumerate([TradeType.BUY, TradeType.SELL] * 5)]
    taker = controller(vt, executors=legs, positions=[position(TradeType.BUY, "0", "99.8", "0.0998")])
    assert taker.determine_executor_actions() == []
    assert taker.get_custom_info() == {"decision": "budget used: 99.90 of 100 quote incl. fees", "position_base": "0",
                                       "spent_quote": "99.8998", "budget_quote": "100", "empty_legs": 0}


def test_controller_counts_volume_from_before_a_restart_with_its_fees(vt):
    taker = controller(vt)
    taker.performance_report = types.SimpleNamespace(volume_traded=D("99.8"))
    assert taker.determine_executor_actions() == []
    assert taker.get_custom_info()["spent_quote"] == "99.8998"


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
    base = dict(order_amount_quote=D("10"), total_amount_quote=D("100"), max_leg_fraction=D("0.1"),
                min_price=D("1"), max_price=D("2"))
    assert config_class.validate_limits(Record(**base))
    for changes in [{"order_amount_quote": D("10.01")}, {"max_leg_fraction": D("0.09")}, {"min_price": D("2")}]:
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
    written = strategies.controller_config("cfg", "bitmart", "SHARP-USDT", strategies.parse_params(
        "volume", {"total_amount_quote": 100, "order_amount_quote": 10, "min_price": 1, "max_price": 2}))
    declared = set(vt.VolumeTakerConfig.__annotations__)
    assert declared | {"id", "manual_kill_switch", "initial_positions"} == set(written)


def test_config_takes_the_versioned_module_name_the_bridge_writes(vt):
    """Hummingbot imports controllers.generic.<controller_name>: the config names the stored version
    (volume_taker_<sha256[:8]>, docs/design.md §11), so the field must take any name, not pin "volume_taker"."""
    written = strategies.controller_config("cfg", "bitmart", "SHARP-USDT", strategies.parse_params(
        "volume", {"total_amount_quote": 100, "order_amount_quote": 10, "min_price": 1, "max_price": 2}))
    assert written["controller_name"] == strategies.volume_taker().name
    assert vt.VolumeTakerConfig.__annotations__["controller_name"] is str


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


# --- the decision simulated: tests/volume_simulation.py asserts the invariants every step -------------------


def test_simulated_markets_never_take_it_past_one_leg_from_flat_the_budget_or_the_band(vt, record_property):
    figures = simulate_seeds(vt, seeds=range(1, 11), steps=5_000)
    record_property("volume_sim", figures.summary())  # also printed by bench/volume_sim.py
    assert figures.steps == 50_000
    assert figures.worst_inventory_legs <= 1
    assert figures.worst_spend_share <= 1
    # The random walk went through every path: fills of each kind, stops at timeout, bots that used their budget
    # and runs stopped for empty legs.
    assert min(figures.full_fills, figures.partial_fills, figures.empty_legs, figures.stopped_at_timeout,
               figures.restarts) > 0
    assert figures.bots > 6
