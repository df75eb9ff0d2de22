"""Live parameter changes, the pure part: the stored typed parameters and the requested changes give the new
typed parameters and the controller-config delta Hummingbot merges; what a running bot cannot apply is refused
naming the field (docs/hummingbot-api.md §4.1)."""
import ast
from decimal import Decimal as D

import pytest

from bots import strategies
from bots.strategies import ParamsError, live_change, parse_params

SPREAD = parse_params("spread", {"order_amount": "1000", "budget_quote": "500"})
VOLUME = parse_params("volume", {"total_amount_quote": "2000", "order_amount_quote": "20",
                                 "min_price": "0.004", "max_price": "0.006"})


def refusal(params, changes):
    with pytest.raises(ParamsError) as caught:
        live_change(params, changes, connector="bitmart")
    return caught.value.errors


def test_new_spreads_give_new_typed_params_and_only_the_spread_keys_as_the_delta():
    change = live_change(SPREAD, {"buy_spreads_pct": [0.3, "1"], "sell_spreads_pct": [0.4]}, connector="bitmart")
    assert change.params.buy_spreads_pct == (D("0.3"), D("1"))
    assert change.params.sell_spreads_pct == (D("0.4"),)
    assert change.params.order_amount == SPREAD.order_amount
    assert change.config == {"buy_spreads": ["0.003", "0.01"], "sell_spreads": ["0.004"]}


def test_a_value_equal_to_the_current_one_is_left_out_of_the_delta():
    change = live_change(SPREAD, {"order_refresh_time": 30, "order_amount": "2000"}, connector="bitmart")
    assert change.config == {"order_amount": "2000"}


def test_turning_the_price_band_off_sends_minus_one():
    banded = parse_params("spread", {**SPREAD.to_json(), "price_floor": "1", "price_ceiling": "2"})
    change = live_change(banded, {"price_floor": None}, connector="bitmart")
    assert change.params.price_floor is None
    assert change.config == {"price_floor": "-1"}


@pytest.mark.parametrize("field", ["connector", "trading_pair", "pair", "strategy", "account"])
def test_market_and_strategy_never_change(field):
    errors = refusal(SPREAD, {field: "kucoin"})
    assert "never changes" in errors[field]


@pytest.mark.parametrize("params, field", [
    (SPREAD, "budget_quote"), (SPREAD, "max_loss_quote"),
    (VOLUME, "total_amount_quote"), (VOLUME, "max_leg_pct"), (VOLUME, "taker_fee_pct"), (VOLUME, "max_loss_quote"),
])
def test_a_field_hummingbot_applies_only_at_start_is_refused_with_the_way(params, field):
    errors = refusal(params, {field: "1"})
    assert "stop the bot, change it, start it again" in errors[field]


def test_unknown_bad_and_cross_field_values_are_refused_naming_the_field():
    assert "unknown parameter" in refusal(SPREAD, {"bogus": 1})["bogus"]
    assert "between" in refusal(SPREAD, {"order_refresh_time": 1})["order_refresh_time"]
    assert "above min price" in refusal(VOLUME, {"max_price": "0.004"})["max_price"]
    assert "max leg" in refusal(VOLUME, {"order_amount_quote": "500"})["order_amount_quote"]


@pytest.mark.parametrize("changes", [{}, [], "x", None])
def test_changes_must_be_a_non_empty_object(changes):
    assert "config" in refusal(SPREAD, changes)


def test_changing_nothing_is_refused():
    assert "Nothing to change" in refusal(SPREAD, {"order_amount": "1000"})["config"]


def _updatable_fields() -> set[str]:
    """VolumeTakerConfig's fields marked json_schema_extra={"is_updatable": True}, read from the source."""
    tree = ast.parse(strategies.volume_taker_source())
    config = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "VolumeTakerConfig")
    marked = set()
    for node in config.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Call):
            for keyword in node.value.keywords:
                if keyword.arg == "json_schema_extra" and ast.literal_eval(keyword.value).get("is_updatable"):
                    marked.add(node.target.id)
    return marked


def test_volume_live_parameters_are_exactly_the_fields_volume_taker_marks_updatable():
    changes = {"order_amount_quote": "10", "order_interval": 120, "min_price": "0.003", "max_price": "0.007",
               "max_book_spread_pct": "3", "order_timeout": 60, "max_slippage_pct": "1", "max_empty_legs": 9}
    assert set(changes) == strategies.STRATEGIES["volume"].live - strategies.BRIDGE_PARAMS
    assert set(live_change(VOLUME, changes, connector="bitmart").config) == _updatable_fields()
