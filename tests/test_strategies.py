"""bots.strategies: parameter checks and the controller configs sent to Hummingbot (no DB, no HTTP)."""

import hashlib
import json
from dataclasses import FrozenInstanceError
from decimal import Decimal
from pathlib import Path

import pytest

from bots import strategies as s

SPREAD = {"order_amount": 1000, "budget_quote": 500}
VOLUME = {"total_amount_quote": 2000, "order_amount_quote": 20, "min_price": "0.004", "max_price": "0.006"}
# The reviewed controller is stored upstream under a name carrying its content's digest (docs/design.md §10).
VOLUME_TAKER_SHA256 = hashlib.sha256(
    (Path(s.__file__).parent / "controllers" / "volume_taker.py").read_text(encoding="utf-8").encode("utf-8")).hexdigest()
VOLUME_TAKER_VERSION = f"volume_taker_{VOLUME_TAKER_SHA256[:8]}"
MINT = "So11111111111111111111111111111111111111112-EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"

# Contract b (pmm_v1 table and example) and c (volume_taker example): every key, none extra.
PMM_V1_KEYS = {
    "id", "controller_name", "controller_type", "connector_name", "trading_pair", "total_amount_quote",
    "order_amount", "buy_spreads", "sell_spreads", "order_refresh_time", "order_refresh_tolerance_pct",
    "filled_order_delay", "inventory_skew_enabled", "target_base_pct", "inventory_range_multiplier",
    "price_ceiling", "price_floor", "manual_kill_switch", "initial_positions",
}
VOLUME_TAKER_KEYS = {
    "id", "controller_name", "controller_type", "connector_name", "trading_pair", "total_amount_quote",
    "order_amount_quote", "order_interval", "min_price", "max_price", "max_book_spread_pct", "order_timeout",
    "max_slippage", "max_leg_fraction", "fee_rate", "max_empty_legs", "manual_kill_switch", "initial_positions",
}


def parse_errors(strategy, connector, pair, params):
    with pytest.raises(s.ParamsError) as caught:
        s.parse_bot(strategy=strategy, connector=connector, trading_pair=pair, params=params)
    return caught.value.errors


def spread_errors(**params):
    return parse_errors("spread", "bitmart", "SHARP-USDT", {**SPREAD, **params})


def volume_errors(connector="bitmart", **params):
    return parse_errors("volume", connector, "SHARP-USDT", {**VOLUME, **params})


def stored(strategy, params):
    """What the Bot row keeps: the parsed parameters as JSON."""
    return s.parse_params(strategy, params).to_json()


def config_for(strategy, config_id, connector, pair, params):
    setup = s.parse_bot(strategy=strategy, connector=connector, trading_pair=pair, params=params)
    return s.controller_config(config_id, setup.connector, setup.trading_pair, setup.params)


# --- connectors -------------------------------------------------------------------------------


def test_jupiter_is_a_solana_gateway_connector():
    assert s.venue_for("jupiter") == "gateway"
    assert s.network_for("jupiter") == "solana-mainnet-beta"
    assert s.chain_for("jupiter") == "solana"


def test_bitmart_is_an_exchange_with_no_network():
    assert s.venue_for("bitmart") == "exchange"
    assert s.network_for("bitmart") is None
    assert s.chain_for("bitmart") == "evm"


@pytest.mark.parametrize("connector", ["raydium", "meteora", "orca"])
def test_other_solana_dexes_map_to_solana_mainnet(connector):
    assert s.network_for(connector) == "solana-mainnet-beta"
    assert s.chain_for(connector) == "solana"


@pytest.mark.parametrize("connector, network", [("uniswap", "ethereum-mainnet"), ("pancakeswap", "ethereum-bsc")])
def test_evm_dexes_map_to_ethereum_networks(connector, network):
    assert s.network_for(connector) == network
    assert s.venue_for(connector) == "gateway"
    assert s.chain_for(connector) == "evm"


def test_seed_rule_keeps_any_jupiter_prefixed_connector_on_solana():
    assert s.chain_for("jupiter_v2") == "solana"


def test_connector_names_are_lower_cased_and_checked():
    assert s.clean_connector(" BitMart ") == "bitmart"
    for bad in ["bit-mart", "", "../etc", None, 7]:
        with pytest.raises(s.ParamsError) as caught:
            s.clean_connector(bad)
        assert "connector" in caught.value.errors


# --- trading pairs ----------------------------------------------------------------------------


@pytest.mark.parametrize("pair", ["SHARPUSDT", "SHARP-", "-USDT", "sharp usdt", "A-B-C", "", None, "SHA$P-USDT"])
def test_malformed_pairs_are_refused_with_an_example(pair):
    with pytest.raises(s.ParamsError) as caught:
        s.clean_trading_pair("bitmart", pair)
    assert caught.value.errors == {"trading_pair": "Trading pair must look like BASE-QUOTE, e.g. SHARP-USDT"}


def test_exchange_pairs_are_upper_cased():
    assert s.clean_trading_pair("bitmart", " sharp-usdt ") == "SHARP-USDT"


def test_gateway_pairs_keep_mint_address_case():
    assert s.clean_trading_pair("jupiter", MINT) == MINT


def test_exchange_pair_parts_are_limited_to_32_characters():
    with pytest.raises(s.ParamsError):
        s.clean_trading_pair("bitmart", MINT)


# --- strategy choice ----------------------------------------------------------------------------


def test_spread_on_jupiter_is_refused_with_swap_only_message():
    message = parse_errors("spread", "jupiter", MINT, SPREAD)["strategy"]
    assert "only swap at market" in message
    assert "cannot hold resting limit orders" in message
    assert "volume" in message


def test_unknown_strategy_is_refused():
    assert parse_errors("arbitrage", "bitmart", "SHARP-USDT", {}) == {
        "strategy": "Strategy must be one of: spread, volume"}


def test_bad_connector_pair_and_params_are_reported_together():
    errors = parse_errors("volume", "Bad Name", "SHARPUSDT", {"order_interval": 1})
    assert {"connector", "trading_pair", "order_interval", "total_amount_quote"} <= errors.keys()


def test_params_must_be_an_object():
    assert "params" in parse_errors("volume", "bitmart", "SHARP-USDT", ["order_interval", 60])


# --- spread parameters --------------------------------------------------------------------------


def test_spread_defaults_fill_everything_optional():
    assert stored("spread", SPREAD) == {
        "order_amount": "1000",
        "buy_spreads_pct": ["0.5"],
        "sell_spreads_pct": ["0.5"],
        "order_refresh_time": 30,
        "order_refresh_tolerance_pct": "0.2",
        "filled_order_delay": 60,
        "inventory_skew_enabled": True,
        "target_base_pct": "50",
        "inventory_range_multiplier": "1",
        "price_floor": None,
        "price_ceiling": None,
        "budget_quote": "500",
        "max_loss_quote": None,
        "no_fill_alert_minutes": 60,
    }


def test_required_spread_params_are_named():
    assert parse_errors("spread", "bitmart", "SHARP-USDT", {}) == {
        "order_amount": "order amount is required", "budget_quote": "budget is required"}


def test_every_spread_problem_is_collected_not_just_the_first():
    errors = spread_errors(order_amount=-1, order_refresh_time=1, target_base_pct=101, foo=1)
    assert set(errors) == {"order_amount", "order_refresh_time", "target_base_pct", "foo"}


def test_unknown_parameter_is_named():
    assert spread_errors(foo=1)["foo"] == "unknown parameter 'foo'"


def test_per_level_weights_are_not_pmm_v1_parameters():
    assert spread_errors(buy_amounts_pct=[1])["buy_amounts_pct"] == "unknown parameter 'buy_amounts_pct'"


@pytest.mark.parametrize("value", [0, "0.009", -1, 21, "20.0001"])
def test_spreads_outside_0_01_to_20_percent_are_refused(value):
    assert spread_errors(buy_spreads_pct=[0.5, value])["buy_spreads_pct"] == (
        "each buy spread must be between 0.01% and 20%")


@pytest.mark.parametrize("value", [[], [0.5] * 6, 0.5, "0.5,1", {"a": 1}])
def test_spreads_must_be_a_list_of_one_to_five(value):
    assert spread_errors(sell_spreads_pct=value)["sell_spreads_pct"] == (
        "sell spreads must be a list of 1 to 5 numbers, e.g. [0.5, 1]")


def test_spread_bounds_are_inclusive():
    params = stored("spread", {**SPREAD, "buy_spreads_pct": [0.01, 20]})
    assert params["buy_spreads_pct"] == ["0.01", "20"]


@pytest.mark.parametrize("name, value, message", [
    ("order_amount", 0, "order amount must be greater than 0 and at most 1,000,000,000,000"),
    ("order_amount", -5, "order amount must be greater than 0 and at most 1,000,000,000,000"),
    ("order_amount", "1000000000001", "order amount must be greater than 0 and at most 1,000,000,000,000"),
    ("order_refresh_time", 4, "order refresh time must be between 5 s and 3,600 s"),
    ("order_refresh_time", 3601, "order refresh time must be between 5 s and 3,600 s"),
    ("order_refresh_time", 30.5, "order refresh time must be a whole number"),
    ("order_refresh_tolerance_pct", -0.1, "order refresh tolerance must be between 0% and 10%"),
    ("order_refresh_tolerance_pct", 10.5, "order refresh tolerance must be between 0% and 10%"),
    ("filled_order_delay", -1, "filled order delay must be between 0 s and 3,600 s"),
    ("filled_order_delay", 3601, "filled order delay must be between 0 s and 3,600 s"),
    ("target_base_pct", -1, "target base share must be between 0% and 100%"),
    ("target_base_pct", 100.5, "target base share must be between 0% and 100%"),
    ("inventory_range_multiplier", "0.09", "inventory range multiplier must be between 0.1 and 10"),
    ("inventory_range_multiplier", 11, "inventory range multiplier must be between 0.1 and 10"),
    ("price_floor", 0, "price floor must be greater than 0 and at most 1,000,000,000,000"),
    ("price_ceiling", -2, "price ceiling must be greater than 0 and at most 1,000,000,000,000"),
    ("budget_quote", 0, "budget must be greater than 0 and at most 10,000,000"),
    ("budget_quote", 10_000_001, "budget must be greater than 0 and at most 10,000,000"),
    ("max_loss_quote", 0, "max loss must be greater than 0 and at most 10,000,000"),
    ("inventory_skew_enabled", "yes", "inventory skew must be true or false"),
    ("inventory_skew_enabled", 1, "inventory skew must be true or false"),
])
def test_spread_ranges_have_human_messages(name, value, message):
    assert spread_errors(**{name: value})[name] == message


@pytest.mark.parametrize("value, message", [
    (float("nan"), "must be a finite number"),
    (float("inf"), "must be a finite number"),
    (float("-inf"), "must be a finite number"),
    (float("1e309"), "must be a finite number"),  # what json.loads makes of 1e309
    ("nan", "must be a number"),
    ("Infinity", "must be a number"),
    ("abc", "must be a number"),
    ("", "must be a number"),
    ("__import__('os').system('id')", "must be a number"),
    ("1" * 65, "must be a number of at most 64 characters"),
    (True, "must be a number"),
    (False, "must be a number"),
    ([1], "must be a number"),
    ({"$gt": 0}, "must be a number"),
])
def test_non_numbers_are_refused_for_every_number_field(value, message):
    for name in ["order_amount", "order_refresh_time", "target_base_pct", "price_floor", "budget_quote"]:
        assert spread_errors(**{name: value})[name].endswith(message)
    assert spread_errors(buy_spreads_pct=[value])["buy_spreads_pct"].endswith(message)


def test_huge_numeric_string_is_a_range_error_not_a_crash():
    assert spread_errors(budget_quote="1e309")["budget_quote"] == (
        "budget must be greater than 0 and at most 10,000,000")


BUDGET_RANGE = "budget must be greater than 0 and at most 10,000,000"
TOO_FINE = "order amount has more than 18 decimal places: the smallest step is 0.000000000000000001"


@pytest.mark.parametrize("name, value, message", [
    ("order_amount", 1e-33, TOO_FINE),  # a JSON number
    ("order_amount", "1e-33", TOO_FINE),
    ("order_amount", "1e-999990", TOO_FINE),
    ("order_amount", "0.0000000000000000001", TOO_FINE),
    ("order_amount", "0.0012345678901234567890123456789012345", TOO_FINE),
    ("order_amount", "999999999999.000000000000000001", "order amount has more than 28 significant digits"),
    ("budget_quote", "1e999999", BUDGET_RANGE),
    ("budget_quote", "-1e999999", BUDGET_RANGE),
    ("budget_quote", 1e300, BUDGET_RANGE),
    ("budget_quote", "1" * 40, BUDGET_RANGE),
    ("budget_quote", 10 ** 40, BUDGET_RANGE),
    ("order_refresh_time", "1e999999", "order refresh time must be between 5 s and 3,600 s"),
    ("order_refresh_time", "1e-999990", "order refresh time must be between 5 s and 3,600 s"),
    ("target_base_pct", "0.00000000000000001", (
        "target base share has more than 16 decimal places: the smallest step is 0.0000000000000001")),
])
def test_every_decimal_is_bounded_in_digits_and_exponent(name, value, message):
    assert spread_errors(**{name: value})[name] == message


def test_the_smallest_step_and_most_digits_are_accepted_exactly():
    params = s.parse_params("spread", {**SPREAD, "order_amount": "0.000000000000000001",
                                       "price_floor": "1234567890.123456789012345678"})
    assert params.order_amount == Decimal("1E-18")
    assert params.to_json()["order_amount"] == "0.000000000000000001"
    assert params.to_json()["price_floor"] == "1234567890.123456789012345678"


def test_trailing_zeros_do_not_count_as_digits():
    params = s.parse_params("spread", {**SPREAD, "order_amount": "1.50000000000000000000000000000000000000"})
    assert params.to_json()["order_amount"] == "1.5"


def test_numbers_may_be_numeric_strings_and_are_normalised():
    params = stored("spread", {
        **SPREAD, "order_amount": " 1.50 ", "budget_quote": "5e2", "order_refresh_time": "60", "price_floor": 0.1})
    assert params["order_amount"] == "1.5"
    assert params["budget_quote"] == "500"
    assert params["order_refresh_time"] == 60
    assert params["price_floor"] == "0.1"


def test_null_means_default_or_off():
    params = stored("spread", {**SPREAD, "order_refresh_time": None,
                                                                "price_floor": None})
    assert params["order_refresh_time"] == 30
    assert params["price_floor"] is None


@pytest.mark.parametrize("floor, ceiling", [(2, 1), (1, 1)])
def test_price_floor_must_be_below_ceiling(floor, ceiling):
    errors = spread_errors(price_floor=floor, price_ceiling=ceiling)
    assert errors["price_ceiling"] == "price ceiling must be above the price floor"


def test_spread_loss_cap_cannot_exceed_budget():
    assert spread_errors(max_loss_quote=501)["max_loss_quote"] == "max loss must not exceed the budget"


@pytest.mark.parametrize("strategy, raw", [
    ("spread", {**SPREAD, "buy_spreads_pct": [0.1, 0.25], "sell_spreads_pct": ["0.30"], "price_ceiling": 2,
                "max_loss_quote": "50.000", "inventory_skew_enabled": False, "order_amount": "1e3"}),
    ("volume", {**VOLUME, "order_amount_quote": "20.50", "max_loss_quote": 0.1}),
])
def test_parsed_params_round_trip_through_the_stored_json(strategy, raw):
    params = s.parse_params(strategy, raw)
    stored_json = params.to_json()
    assert json.loads(json.dumps(stored_json)) == stored_json
    again = s.parse_params(strategy, stored_json)
    assert again == params
    assert again.to_json() == stored_json
    assert s.controller_config("cfg", "bitmart", "SHARP-USDT", again) == s.controller_config(
        "cfg", "bitmart", "SHARP-USDT", params)


def test_parsed_params_are_frozen_typed_values():
    params = s.parse_params("spread", {**SPREAD, "buy_spreads_pct": [0.1, "0.25"]})
    assert isinstance(params, s.SpreadParams)
    assert params.buy_spreads_pct == (Decimal("0.1"), Decimal("0.25"))
    assert params.order_refresh_time == 30 and params.price_floor is None
    with pytest.raises(FrozenInstanceError):
        params.order_amount = Decimal(1)


# --- volume parameters --------------------------------------------------------------------------


def test_volume_defaults():
    assert stored("volume", VOLUME) == {
        "total_amount_quote": "2000",
        "order_amount_quote": "20",
        "order_interval": 60,
        "min_price": "0.004",
        "max_price": "0.006",
        "max_book_spread_pct": "2",
        "order_timeout": 30,
        "max_loss_quote": None,
        "max_slippage_pct": "0.5",
        "max_leg_pct": "10",
        "taker_fee_pct": "0.25",
        "max_empty_legs": 5,
        "no_fill_alert_minutes": 15,
    }


def test_volume_runs_on_gateway_connectors():
    params = s.parse_bot(strategy="volume", connector="jupiter", trading_pair=MINT, params=VOLUME).params.to_json()
    assert params["total_amount_quote"] == "2000"


@pytest.mark.parametrize("name, value, message", [
    ("total_amount_quote", 0, "total budget must be greater than 0 and at most 10,000,000"),
    ("total_amount_quote", 10_000_001, "total budget must be greater than 0 and at most 10,000,000"),
    ("order_amount_quote", -1, "order amount must be greater than 0 and at most 10,000,000"),
    ("order_interval", 4, "order interval must be between 5 s and 86,400 s"),
    ("order_interval", 86401, "order interval must be between 5 s and 86,400 s"),
    ("order_interval", "60.5", "order interval must be a whole number"),
    ("min_price", 0, "min price must be greater than 0 and at most 1,000,000,000,000"),
    ("max_price", -1, "max price must be greater than 0 and at most 1,000,000,000,000"),
    ("max_book_spread_pct", "0.009", "max book spread must be between 0.01% and 50%"),
    ("max_book_spread_pct", 51, "max book spread must be between 0.01% and 50%"),
    ("order_timeout", 4, "order timeout must be between 5 s and 3,600 s"),
    ("order_timeout", 3601, "order timeout must be between 5 s and 3,600 s"),
    ("max_loss_quote", -1, "max loss must be greater than 0 and at most 10,000,000"),
    ("order_interval", float("nan"), "order interval must be a finite number"),
    ("min_price", float("1e309"), "min price must be a finite number"),
    ("total_amount_quote", "abc", "total budget must be a number"),
    ("order_timeout", True, "order timeout must be a number"),
    ("max_slippage_pct", "0.009", "max slippage must be between 0.01% and 10%"),
    ("max_slippage_pct", "10.01", "max slippage must be between 0.01% and 10%"),
    ("max_leg_pct", "0.09", "max leg must be between 0.1% and 100%"),
    ("max_leg_pct", 101, "max leg must be between 0.1% and 100%"),
    ("taker_fee_pct", -0.01, "taker fee must be between 0% and 5%"),
    ("taker_fee_pct", "5.01", "taker fee must be between 0% and 5%"),
    ("max_empty_legs", 0, "max empty legs must be between 1 and 100"),
    ("max_empty_legs", 101, "max empty legs must be between 1 and 100"),
    ("max_empty_legs", 2.5, "max empty legs must be a whole number"),
    ("max_empty_legs", "1e999999", "max empty legs must be between 1 and 100"),
    ("max_slippage_pct", "1e-999990", "max slippage must be between 0.01% and 10%"),
    ("taker_fee_pct", "1e-999990", (
        "taker fee has more than 16 decimal places: the smallest step is 0.0000000000000001")),
])
def test_volume_ranges_have_human_messages(name, value, message):
    assert volume_errors(**{name: value})[name] == message


def test_volume_order_cannot_exceed_budget():
    assert volume_errors(order_amount_quote=2001)["order_amount_quote"] == (
        "order amount must not exceed the total budget")


def test_one_leg_cannot_exceed_the_max_leg_share_of_the_budget():
    assert volume_errors(order_amount_quote="200.01", max_leg_pct=10)["order_amount_quote"] == (
        "order amount must be at most max leg (10%) of the total budget (2000): "
        "lower order_amount_quote or raise max_leg_pct")
    assert s.parse_params("volume", {**VOLUME, "order_amount_quote": 200, "max_leg_pct": 10}).order_amount_quote == 200


def test_volume_band_must_be_increasing():
    assert volume_errors(min_price="0.006")["max_price"] == "max price must be above min price"


def test_volume_loss_cap_cannot_exceed_budget():
    assert volume_errors(max_loss_quote=2001)["max_loss_quote"] == "max loss must not exceed the total budget"


def test_required_volume_params_are_named():
    errors = parse_errors("volume", "bitmart", "SHARP-USDT", None)
    assert set(errors) == {"total_amount_quote", "order_amount_quote", "min_price", "max_price"}


# --- controller configs -------------------------------------------------------------------------


def test_spread_config_has_exactly_the_pmm_v1_keys():
    config = config_for("spread", "sharp-bitmart-spread-v1", "bitmart", "SHARP-USDT", SPREAD)
    assert set(config) == PMM_V1_KEYS


def test_spread_config_converts_percentages_to_fractions():
    params = {**SPREAD, "buy_spreads_pct": [1, 2], "sell_spreads_pct": ["0.5", 1.5], "target_base_pct": 40,
              "order_refresh_tolerance_pct": 0.2, "price_floor": "0.004", "inventory_skew_enabled": False}
    config = config_for("spread", "sharp-bitmart-spread-v1", "bitmart", "sharp-usdt", params)
    assert config == {
        "id": "sharp-bitmart-spread-v1",
        "controller_type": "generic",
        "controller_name": "pmm_v1",
        "connector_name": "bitmart",
        "trading_pair": "SHARP-USDT",
        "total_amount_quote": "500",
        "order_amount": "1000",
        "buy_spreads": ["0.01", "0.02"],
        "sell_spreads": ["0.005", "0.015"],
        "order_refresh_time": 30,
        "order_refresh_tolerance_pct": "0.002",
        "filled_order_delay": 60,
        "inventory_skew_enabled": False,
        "target_base_pct": "0.4",
        "inventory_range_multiplier": "1",
        "price_floor": "0.004",
        "price_ceiling": "-1",
        "manual_kill_switch": False,
        "initial_positions": [],
    }


def test_volume_config_has_exactly_the_volume_taker_keys():
    config = config_for("volume", "sharp-bitmart-volume-01", "bitmart", "SHARP-USDT", VOLUME)
    assert set(config) == VOLUME_TAKER_KEYS
    assert config["controller_type"] == "generic"
    assert config["controller_name"] == VOLUME_TAKER_VERSION
    assert config["connector_name"] == "bitmart"
    assert config["max_book_spread_pct"] == "0.02"
    assert config["order_interval"] == 60
    assert (config["max_slippage"], config["max_leg_fraction"], config["fee_rate"], config["max_empty_legs"]) == (
        "0.005", "0.1", "0.0025", 5)


def test_volume_on_jupiter_targets_the_solana_network():
    config = config_for("volume", "sol-volume", "jupiter", MINT, VOLUME)
    assert config["connector_name"] == "solana-mainnet-beta"
    assert config["trading_pair"] == MINT


@pytest.mark.parametrize("config_id", ["../../etc/passwd", "a b", "", "x" * 65, "id.yml", None])
def test_config_id_cannot_be_a_path_or_odd_name(config_id):
    with pytest.raises(s.ParamsError) as caught:
        config_for("volume", config_id, "bitmart", "SHARP-USDT", VOLUME)
    assert "config_id" in caught.value.errors


def test_configs_are_plain_json_data():
    for strategy, params in [("spread", SPREAD), ("volume", VOLUME)]:
        config = config_for(strategy, "cfg", "bitmart", "SHARP-USDT", params)
        assert json.loads(json.dumps(config)) == config


def test_controller_refs():
    assert s.controller_ref("spread") == ("generic", "pmm_v1")
    assert s.controller_ref("volume") == ("generic", VOLUME_TAKER_VERSION)


def test_the_volume_controller_is_named_by_the_digest_of_the_file_uploaded():
    release = s.volume_taker()
    assert release.name == VOLUME_TAKER_VERSION
    assert release.sha256 == VOLUME_TAKER_SHA256 and release.source == s.volume_taker_source()


def test_a_volume_bot_keeps_naming_the_version_it_was_deployed_with():
    older = "ab12cd34" + "0" * 56
    params = s.parse_params("volume", VOLUME)
    assert s.controller_ref("volume", older) == ("generic", "volume_taker_ab12cd34")
    assert s.controller_config("cfg", "bitmart", "SHARP-USDT", params, older)["controller_name"] == "volume_taker_ab12cd34"
    assert s.controller_ref("spread", older) == ("generic", "pmm_v1")  # a stock controller has no versions


def test_deploy_limits_give_the_loss_cap_as_float_or_none():
    with_cap = s.parse_params("volume", {**VOLUME, "max_loss_quote": "150.5"})
    without = s.parse_params("volume", VOLUME)
    assert s.deploy_limits(with_cap) == {"max_controller_drawdown_quote": 150.5}
    assert s.deploy_limits(without) == {"max_controller_drawdown_quote": None}


def test_volume_taker_source_is_the_controller_file_verbatim():
    path = Path(s.__file__).parent / "controllers" / "volume_taker.py"
    assert s.volume_taker_source() == path.read_text(encoding="utf-8")
