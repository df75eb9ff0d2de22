"""Sandbox: a stateful emulator of the hummingbot-api subset that Trading Bridge uses.

It serves real HTTP (HTTP Basic auth, JSON) and reproduces the contract captured from
hummingbot-api commit ee7ce5c (docs/hummingbot-api.md), traps included:

* list endpoints exist only with a trailing slash, all others only without;
* an invalid ``instance_name`` on deploy is an HTTP 500 *text* body, not a 422;
* several failures come back as HTTP 200 bodies (``success: false``, ``status: error``);
* ``stop-bot`` leaves the bot listed as ``running`` with empty performance entries;
* ``start-bot`` answers success and does nothing (Hummingbot >= 2.13);
* ``stop-and-archive-bot`` is slow and blinks: the bot vanishes from ``/status``, comes back
  as ``stopped`` (source ``mqtt``), then disappears and shows up under ``/archived-bots/``.

Everything timed (fills, MQTT linger, archive phases) is derived lazily from an injectable
clock, so tests drive it with a fake clock instead of sleeping. Standard library only.

    sb = start_sandbox(SandboxConfig(port=0))
    ...
    sb.stop()

Foreground server: ``python -m bots.hummingbot.sandbox --help``.
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import hmac
import itertools
import json
import math
import os
import posixpath
import re
import signal
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo

from bots.hummingbot.sandbox_portfolio import SandboxPortfolio


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 8001
    username: str = "admin"
    password: str = field(default="admin", repr=False)
    seed: int = 1
    archive_delay: float = 40.0  # the real stop-and-archive takes 38-50 s
    mqtt_linger: float = 5.0  # how long a silent bot stays listed (30 s on the real server)
    fill_interval: float = 10.0  # seconds of trading per automatic fill; 0 disables them
    log_requests: bool = True
    # Deployed names carry the server's local time (datetime.now(), §2); None = this process's zone.
    time_zone: str | None = None


# --------------------------------------------------------------------------- upstream data

API_VERSION = "1.0.1"
CONTROLLER_TYPES = ("directional_trading", "market_making", "generic")

# GET /controllers/ of the real server (captured/controllers-list.json).
STOCK_CONTROLLERS = {
    "directional_trading": (
        "bollinger_v1", "bollinger_v2", "bollingrid", "dman_v3", "macd_bb_v1", "supertrend_v1",
    ),
    "market_making": ("dman_maker_v2", "pmm_dynamic", "pmm_simple"),
    "generic": (
        "arbitrage_controller", "grid_strike", "hedge_asset", "lp_rebalancer", "multi_grid_strike",
        "pmm", "pmm_adjusted", "pmm_mister", "pmm_v1", "quantum_grid_allocator", "stat_arb",
        "xemm_multiple_levels",
    ),
}

# GET /connectors/ of the real server (captured/connectors-list.json): no gateway names.
CONNECTORS = (
    "hyperliquid_perpetual", "hyperliquid_perpetual_testnet", "aevo_perpetual",
    "aevo_perpetual_testnet", "pacifica_perpetual", "pacifica_perpetual_testnet", "okx_perpetual",
    "derive_perpetual", "derive_perpetual_testnet", "backpack_perpetual", "architect_perpetual",
    "architect_perpetual_sandbox", "bitget_perpetual", "kucoin_perpetual", "decibel_perpetual",
    "decibel_perpetual_testnet", "lighter_perpetual", "lighter_perpetual_testnet",
    "evedex_perpetual", "grvt_perpetual", "grvt_perpetual_testnet", "kalshi_perpetual",
    "bybit_perpetual", "bybit_perpetual_testnet", "gate_io_perpetual", "bitmart_perpetual",
    "binance_perpetual", "binance_perpetual_testnet", "dydx_v4_perpetual", "gate_io", "lighter",
    "lighter_testnet", "coinbase_advanced_trade", "htx", "ndax", "ndax_testnet", "bitmart",
    "hyperliquid", "hyperliquid_testnet", "bitstamp", "okx", "bybit", "bybit_testnet", "kucoin",
    "kucoin_hft", "mexc", "bitget", "gemini", "bing_x", "lambdaplex", "kraken", "btc_markets",
    "dexalot", "dexalot_testnet", "backpack", "bitrue", "foxbit", "derive", "derive_testnet",
    "binance",
)

# Credential fields of GET /connectors/{c}/config-map (all SecretStr, required).
CONFIG_MAP_FIELDS = {
    "binance": ("binance_api_key", "binance_api_secret"),
    "kucoin": ("kucoin_api_key", "kucoin_secret_key", "kucoin_passphrase"),
    "bitmart": ("bitmart_api_key", "bitmart_secret_key", "bitmart_memo"),
}

FAULT_KINDS = ("refuse", "delay", "500", "401", "nonjson", "error200")

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_BOTS_ROOT = "/hummingbot-api/bots"  # where the real server keeps bots/ inside its container
_ARCHIVED_ROOT = f"{_BOTS_ROOT}/archived"
_FALLBACK_MARKET = ("bitmart", "SHARP-USDT")
_MID_PRICES = {"SHARP-USDT": 0.005, "BTC-USDT": 64000.0, "ETH-USDT": 3000.0, "SOL-USDT": 150.0}
_FEE_RATE = 0.001
_BLINK_SECONDS = 1.0
_MICRO = Decimal("0.000001")


def _config_map(connector: str) -> dict | None:
    """The config-map of a listed connector; None for an unknown one (the API answers 500)."""
    if connector not in CONNECTORS:
        return None
    names = CONFIG_MAP_FIELDS.get(connector, (f"{connector}_api_key", f"{connector}_api_secret"))
    return {name: {"type": "SecretStr", "required": True} for name in names}


# --------------------------------------------------------------------------- replies and errors


@dataclass(frozen=True)
class _Reply:
    status: int
    body: Any = None
    kind: str = "json"  # json | text | html
    headers: tuple = ()


class _ApiError(Exception):
    """Raised anywhere below the HTTP layer to answer with `reply`."""

    def __init__(self, reply: _Reply):
        super().__init__(reply.status)
        self.reply = reply


_BASIC_CHALLENGE = (("WWW-Authenticate", "Basic"),)
_INTERNAL_ERROR = _Reply(500, "Internal Server Error", "text")


def _detail(status: int, detail: Any) -> _ApiError:
    return _ApiError(_Reply(status, {"detail": detail}))


def _unauthorized(detail: str) -> _Reply:
    return _Reply(401, {"detail": detail}, headers=_BASIC_CHALLENGE)


def _validate_safe_name(name: str, label: str) -> str:
    if not name or not _SAFE_NAME.fullmatch(name):
        raise _detail(400, f"Invalid {label}: '{name}'. Only letters, numbers, underscores and "
                           "hyphens are allowed.")
    return name


# --------------------------------------------------------------------------- pydantic-style validation
# The real server validates with pydantic 2.14; these helpers reproduce its error dicts (for 422
# bodies) and its error text (for the 400 of /config/validate) for the fields the bridge sends.

_REQUIRED = object()
_PYDANTIC_URL = "https://errors.pydantic.dev/2.14/v/"


class _Invalid(Exception):
    """Pydantic line errors; each `loc` is relative to the value being validated."""

    def __init__(self, errors: list[dict]):
        super().__init__(errors)
        self.errors = errors


def _error(kind: str, msg: str, value: Any, loc: tuple = (), ctx: dict | None = None) -> dict:
    error = {"type": kind, "loc": tuple(loc), "msg": msg, "input": value}
    if ctx is not None:
        error["ctx"] = ctx
    return error


def _fail(kind: str, msg: str, value: Any, ctx: dict | None = None):
    raise _Invalid([_error(kind, msg, value, ctx=ctx)])


def _value_error(message: str, value: Any):
    _fail("value_error", f"Value error, {message}", value, {"error": message})


def _nest(prefix: Any, errors: list[dict]) -> list[dict]:
    return [{**error, "loc": (prefix, *error["loc"])} for error in errors]


def _str(value, data=None):
    if isinstance(value, str):
        return value
    _fail("string_type", "Input should be a valid string", value)


_TRUE_WORDS = {"1", "on", "t", "true", "y", "yes"}
_FALSE_WORDS = {"0", "off", "f", "false", "n", "no"}


def _bool(value, data=None):
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in _TRUE_WORDS | _FALSE_WORDS:
        return value.lower() in _TRUE_WORDS
    if isinstance(value, (str, int)) or (isinstance(value, float) and value.is_integer()):
        _fail("bool_parsing", "Input should be a valid boolean, unable to interpret input", value)
    _fail("bool_type", "Input should be a valid boolean", value)


_INT_TEXT = re.compile(r"\s*[+-]?[0-9]+(?:_[0-9]+)*(?:\.0+)?\s*")


def _int(value, data=None):
    if isinstance(value, int):  # bools included: pydantic's lax mode accepts them
        return int(value)
    if isinstance(value, (float, Decimal)):
        if not math.isfinite(value):
            _fail("finite_number", "Input should be a finite number", value)
        if value != int(value):
            _fail("int_from_float", "Input should be a valid integer, got a number with a "
                                    "fractional part", value)
        return int(value)
    if isinstance(value, str):
        if _INT_TEXT.fullmatch(value):
            return int(value.strip().partition(".")[0])
        _fail("int_parsing", "Input should be a valid integer, unable to parse string as an "
                             "integer", value)
    _fail("int_type", "Input should be a valid integer", value)


def _float(value, data=None):
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            _fail("float_parsing", "Input should be a valid number, unable to parse string as a "
                                   "number", value)
    _fail("float_type", "Input should be a valid number", value)


def _decimal(value, data=None):
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        _fail("decimal_type", "Decimal input should be an integer, float, string or Decimal "
                              "object", value)
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        _fail("decimal_parsing", "Input should be a valid decimal", value)
    if not result.is_finite():
        _fail("finite_number", "Input should be a finite number", value)
    return result


def _list(value, data=None):
    if isinstance(value, list):
        return value
    _fail("list_type", "Input should be a valid list", value)


def _list_of(item: Callable) -> Callable:
    def validate(value, data=None):
        result, errors = [], []
        for index, element in enumerate(_list(value)):
            try:
                result.append(item(element))
            except _Invalid as exc:
                errors.extend(_nest(index, exc.errors))
        if errors:
            raise _Invalid(errors)
        return result
    return validate


def _optional(inner: Callable) -> Callable:
    def validate(value, data=None):
        return None if value is None else inner(value, data)
    return validate


def _chain(*steps: Callable) -> Callable:
    """Before-validators followed by the type check, each fed the previous step's output."""
    def validate(value, data=None):
        for step in steps:
            value = step(value, data)
        return value
    return validate


def _bounded(inner: Callable, gt=None, ge=None, le=None) -> Callable:
    def validate(value, data=None):
        result = inner(value, data)
        if result is None:
            return None
        if gt is not None and not result > gt:
            _fail("greater_than", f"Input should be greater than {gt}", value, {"gt": gt})
        if ge is not None and not result >= ge:
            _fail("greater_than_equal", f"Input should be greater than or equal to {ge}", value,
                  {"ge": ge})
        if le is not None and not result <= le:
            _fail("less_than_equal", f"Input should be less than or equal to {le}", value,
                  {"le": le})
        return result
    return validate


def _expected(values) -> str:
    shown = [repr(value) for value in values]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"


def _enum(values) -> Callable:
    def validate(value, data=None):
        if value in values:
            return value
        expected = _expected(values)
        _fail("enum", f"Input should be {expected}", value, {"expected": expected})
    return validate


@dataclass(frozen=True)
class _Field:
    validate: Callable
    default: Any = _REQUIRED


@dataclass(frozen=True)
class _Schema:
    title: str
    fields: dict | None  # None: a controller whose fields the sandbox does not model
    forbid_extra: bool = True
    checks: tuple = ()  # model "after" validators: (data, raw) -> None, may raise _Invalid


def _validate(schema: _Schema, raw: dict) -> tuple[dict, list[dict]]:
    """Validate like pydantic: fields in declaration order, then extra keys, then model checks."""
    if schema.fields is None:
        return dict(raw), []
    data, errors = {}, []
    for name, spec in schema.fields.items():
        if name not in raw:
            if spec.default is _REQUIRED:
                errors.append(_error("missing", "Field required", raw, (name,)))
            else:
                data[name] = spec.default  # defaults are not validated (validate_default=False)
            continue
        try:
            data[name] = spec.validate(raw[name], data)
        except _Invalid as exc:
            errors.extend(_nest(name, exc.errors))
    if schema.forbid_extra:
        errors.extend(_error("extra_forbidden", "Extra inputs are not permitted", raw[key], (key,))
                      for key in raw if key not in schema.fields)
    for check in schema.checks if not errors else ():
        try:
            check(data, raw)
        except _Invalid as exc:
            errors.extend(exc.errors)
    return data, errors


def _truncate(text: str) -> str:
    return text if len(text) <= 50 else f"{text[:25]}...{text[-24:]}"


def _pydantic_text(title: str, errors: list[dict]) -> str:
    """str(ValidationError) as pydantic 2.14 prints it."""
    count = len(errors)
    lines = [f"{count} validation error{'' if count == 1 else 's'} for {title}"]
    for error in errors:
        if error["loc"]:
            lines.append(".".join(str(part) for part in error["loc"]))
        value = error["input"]
        lines.append(f"  {error['msg']} [type={error['type']}, input_value={_truncate(repr(value))}, "
                     f"input_type={type(value).__name__}]")
        lines.append(f"    For further information visit {_PYDANTIC_URL}{error['type']}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- controller config classes
# Field tables of hummingbot's ControllerConfigBase, MarketMakingControllerConfigBase (pmm_simple),
# PMMV1Config and the bridge's own volume_taker (hummingbot-strategies.md sections b and c).
# hummingbot's before-validators raise plain Python errors; pydantic only wraps ValueError, so
# others (decimal.InvalidOperation, KeyError, TypeError) escape the model as they are: the API's
# /config/validate answers 400 with str(exc), and the bot fails to load the config with it.


def _floats_from_text(text: str) -> list[float]:
    try:
        return [float(part.strip()) for part in text.split(",")]
    except ValueError as exc:
        _value_error(str(exc), text)


def _comma_separated(value, data=None):
    """hummingbot's parse_comma_separated_list."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return _floats_from_text(value)
    if isinstance(value, (int, float)):
        return [float(value)]
    return value


def _pmm_v1_spreads(value, data=None):
    """PMMV1Config.parse_spreads: anything else is iterated, so a TypeError escapes."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return _floats_from_text(value)
    try:
        return [float(item) for item in value]
    except ValueError as exc:
        _value_error(str(exc), value)


def _amounts_pct(side: str) -> Callable:
    """MarketMakingControllerConfigBase.parse_and_validate_amounts."""
    name, spreads = f"{side}_amounts_pct", f"{side}_spreads"
    items = _list_of(_decimal)

    def validate(value, data):
        # data[spreads] is a KeyError when the spreads failed validation: it escapes pydantic.
        if value is None or value == "":
            return [1 for _ in data[spreads]]
        parsed = _comma_separated(value)
        # The spreads default is the *string* "0.01,0.02": its length is what gets compared.
        if isinstance(parsed, list) and len(parsed) != len(data[spreads]):
            _value_error(f"The number of {name} must match the number of {spreads}.", value)
        return items(parsed)
    return validate


def _text_to_decimal(value, data=None):
    """validate_target: "" means None, other strings become Decimal (InvalidOperation escapes)."""
    if not isinstance(value, str):
        return value
    if value == "":
        return None
    return Decimal(value)


def _by_member_name(field_name: str, names: tuple, values: tuple) -> Callable:
    """hummingbot's parse_enum_value: strings by member name, anything else by member value."""
    by_value = _enum(values)

    def validate(value, data=None):
        if not isinstance(value, str):
            return by_value(value)
        if value.upper() in names:
            return value.upper()
        _value_error(f"Invalid {field_name}: '{value}'. Expected one of: {list(names)}", value)
    return validate


_ORDER_TYPES = ("MARKET", "LIMIT", "LIMIT_MAKER", "AMM_SWAP", "AMM_ADD", "AMM_REMOVE")


def _order_type_text(value, data=None):
    if value is None:
        return "MARKET"
    return value.replace("OrderType.", "") if isinstance(value, str) else value


_TRAILING_STOP = _Schema("TrailingStop", {"activation_price": _Field(_decimal),
                                          "trailing_delta": _Field(_decimal)}, forbid_extra=False)


def _trailing_stop(value, data=None):
    if value is None or value == "":
        return None
    if isinstance(value, str):
        parts = value.split(",")
        if len(parts) != 2:
            shortfall = f", got {len(parts)}" if len(parts) < 2 else ""
            _value_error(f"{'not enough' if len(parts) < 2 else 'too many'} values to unpack "
                         f"(expected 2{shortfall})", value)
        # TrailingStop(activation_price=Decimal(a), trailing_delta=Decimal(b)): InvalidOperation escapes
        value = {"activation_price": Decimal(parts[0]), "trailing_delta": Decimal(parts[1])}
    if not isinstance(value, dict):
        _fail("model_type", "Input should be a valid dictionary or instance of TrailingStop", value,
              {"class_name": "TrailingStop"})
    data, errors = _validate(_TRAILING_STOP, value)
    if errors:
        raise _Invalid(errors)
    return data


def _initial_positions(value, data=None):
    if not isinstance(value, list):
        _value_error("Invalid type for initial_positions. Expected List[InitialPositionConfig]", value)
    return value


def _base_fields(controller_type: str, controller_name: Any = _REQUIRED,
                 total_amount_quote: Decimal = Decimal("100")) -> dict:
    return {
        "id": _Field(_str),
        "controller_name": _Field(_str, controller_name),
        "controller_type": _Field(_str, controller_type),
        "total_amount_quote": _Field(_decimal, total_amount_quote),
        "manual_kill_switch": _Field(_bool, False),
        "initial_positions": _Field(_initial_positions, []),
    }


def _market_making_fields(controller_name: Any) -> dict:
    barrier_decimal = _chain(_text_to_decimal, _optional(_bounded(_decimal, gt=0)))
    return {
        **_base_fields("market_making", controller_name),
        "connector_name": _Field(_str, "binance_perpetual"),
        "trading_pair": _Field(_str, "WLD-USDT"),
        "buy_spreads": _Field(_chain(_comma_separated, _list_of(_float)), "0.01,0.02"),
        "sell_spreads": _Field(_chain(_comma_separated, _list_of(_float)), "0.01,0.02"),
        "buy_amounts_pct": _Field(_amounts_pct("buy"), None),
        "sell_amounts_pct": _Field(_amounts_pct("sell"), None),
        "executor_refresh_time": _Field(_int, 300),
        "cooldown_time": _Field(_int, 15),
        "leverage": _Field(_int, 20),
        "position_mode": _Field(_by_member_name("position_mode", ("HEDGE", "ONEWAY"),
                                                ("HEDGE", "ONEWAY")), "HEDGE"),
        "stop_loss": _Field(barrier_decimal, Decimal("0.03")),
        "take_profit": _Field(barrier_decimal, Decimal("0.02")),
        "time_limit": _Field(_chain(_text_to_decimal, _optional(_bounded(_int, gt=0))), 2700),
        "take_profit_order_type": _Field(_chain(_order_type_text, _by_member_name(
            "take_profit_order_type", _ORDER_TYPES, tuple(range(1, len(_ORDER_TYPES) + 1)))),
            "LIMIT"),
        "trailing_stop": _Field(_trailing_stop, None),
        "position_rebalance_threshold_pct": _Field(_chain(_text_to_decimal, _decimal),
                                                   Decimal("0.05")),
        "skip_rebalance": _Field(_bool, False),
    }


_PMM_V1_FIELDS = {
    **_base_fields("generic", "pmm_v1", total_amount_quote=Decimal("0")),
    "connector_name": _Field(_str, "binance"),
    "trading_pair": _Field(_str, "BTC-USDT"),
    "order_amount": _Field(_decimal, Decimal("1")),
    "buy_spreads": _Field(_chain(_pmm_v1_spreads, _list_of(_float)), "0.01"),
    "sell_spreads": _Field(_chain(_pmm_v1_spreads, _list_of(_float)), "0.01"),
    "order_refresh_time": _Field(_int, 30),
    "order_refresh_tolerance_pct": _Field(_decimal, Decimal("-1")),
    "filled_order_delay": _Field(_int, 60),
    "inventory_skew_enabled": _Field(_bool, False),
    "target_base_pct": _Field(_decimal, Decimal("0.5")),
    "inventory_range_multiplier": _Field(_decimal, Decimal("1.0")),
    "price_ceiling": _Field(_decimal, Decimal("-1")),
    "price_floor": _Field(_decimal, Decimal("-1")),
}


# VolumeTakerConfig as bots/controllers/volume_taker.py declares it (the file the bridge uploads).


def _base_quote_pair(value, data=None):
    """VolumeTakerConfig.validate_trading_pair."""
    base, dash, quote = value.partition("-")
    if not (base and dash and quote) or "-" in quote:
        _value_error("trading_pair must look like BASE-QUOTE", value)
    return value


def _volume_limits(data: dict, raw: dict):
    """VolumeTakerConfig.validate_limits (one model validator: the first failure is reported)."""
    if data["order_amount_quote"] > data["total_amount_quote"] * data["max_leg_fraction"]:
        _value_error("order_amount_quote must not exceed total_amount_quote * max_leg_fraction", raw)
    if data["min_price"] >= data["max_price"]:
        _value_error("min_price must be below max_price", raw)


_VOLUME_TAKER_FIELDS = {
    **_base_fields("generic", "volume_taker"),
    "connector_name": _Field(_str),
    "trading_pair": _Field(_chain(_str, _base_quote_pair)),
    "total_amount_quote": _Field(_bounded(_decimal, gt=0)),
    "order_amount_quote": _Field(_bounded(_decimal, gt=0)),
    "order_interval": _Field(_bounded(_int, ge=5)),
    "min_price": _Field(_bounded(_decimal, gt=0)),
    "max_price": _Field(_bounded(_decimal, gt=0)),
    "max_book_spread_pct": _Field(_bounded(_decimal, gt=0, le=1)),
    "order_timeout": _Field(_bounded(_int, ge=5)),
    "max_slippage": _Field(_bounded(_decimal, gt=0, le=Decimal("0.1")), _REQUIRED),
    "max_leg_fraction": _Field(_bounded(_decimal, gt=0, le=1), _REQUIRED),
    "fee_rate": _Field(_bounded(_decimal, ge=0, le=Decimal("0.05")), _REQUIRED),
    "max_empty_legs": _Field(_bounded(_int, ge=1, le=100), _REQUIRED),
}


class _ConfigClass(NamedTuple):
    api: _Schema  # what POST /controllers/{type}/{name}/config/validate instantiates
    bot: _Schema  # what the bot's v2_with_controllers instantiates at start


_PMM_V1 = _Schema("PMMV1Config", _PMM_V1_FIELDS)
_VOLUME_TAKER = _Schema("VolumeTakerConfig", _VOLUME_TAKER_FIELDS,
                        checks=(_volume_limits,))
_OPAQUE = _Schema("ControllerConfig", None)

# The API's loader takes the alphabetically first config class in the module, which for
# pmm_simple is the imported base class (controller_name then has no default); the bot skips it.
_STOCK_CLASSES = {
    ("market_making", "pmm_simple"): _ConfigClass(
        _Schema("MarketMakingControllerConfigBase", _market_making_fields(_REQUIRED)),
        _Schema("PMMSimpleConfig", _market_making_fields("pmm_simple"))),
    ("generic", "pmm_v1"): _ConfigClass(_PMM_V1, _PMM_V1),
}
_UPLOADED_CLASSES = {("generic", "volume_taker"): _ConfigClass(_VOLUME_TAKER, _VOLUME_TAKER)}


def _safe_name_field(label: str) -> Callable:
    def validate(value, data=None):
        if not _SAFE_NAME.fullmatch(value):
            _value_error(f"Invalid {label}: '{value}'. Only letters, numbers, underscores and "
                         "hyphens are allowed.", value)
        return value
    return validate


def _safe_config_names(value, data=None):
    for name in value:
        base = name[:-4] if name.endswith(".yml") else name
        if not _SAFE_NAME.fullmatch(base):
            _value_error(f"Invalid controllers_config entry: '{base}'. Only letters, numbers, "
                         "underscores and hyphens are allowed.", value)
    return value


_DEPLOY_BODY = _Schema("V2ControllerDeployment", {
    "instance_name": _Field(_chain(_str, _safe_name_field("instance_name"))),
    "credentials_profile": _Field(_chain(_str, _safe_name_field("credentials_profile"))),
    "controllers_config": _Field(_chain(_list_of(_str), _safe_config_names)),
    "max_global_drawdown_quote": _Field(_optional(_float), None),
    "max_controller_drawdown_quote": _Field(_optional(_float), None),
    "image": _Field(_str, "hummingbot/hummingbot:latest"),
    "script_config": _Field(_optional(_str), None),
    "headless": _Field(_bool, False),
}, forbid_extra=False)

_STOP_BOT_BODY = _Schema("StopBotAction", {
    "bot_name": _Field(_str),
    "skip_order_cancellation": _Field(_bool, False),
    "async_backend": _Field(_bool, False),
}, forbid_extra=False)

_START_BOT_BODY = _Schema("StartBotAction", {
    "bot_name": _Field(_str),
    "log_level": _Field(_optional(_str), None),
    "script": _Field(_optional(_str), None),
    "conf": _Field(_optional(_str), None),
    "async_backend": _Field(_bool, False),
}, forbid_extra=False)

_CONTROLLER_BODY = _Schema("Controller", {
    "content": _Field(_str),
    "type": _Field(_optional(_enum(CONTROLLER_TYPES)), None),
}, forbid_extra=False)

_FAULT_BODY = _Schema("Fault", {
    "method": _Field(_str, "*"),
    "path": _Field(_str, ".*"),
    "kind": _Field(_enum(FAULT_KINDS)),
    "seconds": _Field(_bounded(_float, ge=0), 0.0),
    "times": _Field(_optional(_bounded(_int, ge=1)), None),
})

_FILLS_BODY = _Schema("InjectFills", {
    "count": _Field(_bounded(_int, ge=0)),
    "start_ts": _Field(_optional(_float), None),
    "step_s": _Field(_float, 1.0),
})

_SPAWN_BODY = _Schema("SpawnBots", {
    "count": _Field(_bounded(_int, ge=0)),
    "prefix": _Field(_chain(_str, _safe_name_field("prefix")), "bench"),
    "account": _Field(_str, "master_account"),
    "connector": _Field(_str, _FALLBACK_MARKET[0]),
    "trading_pair": _Field(_str, _FALLBACK_MARKET[1]),
})


# --------------------------------------------------------------------------- fills and performance


class Fill(NamedTuple):
    trade_id: str
    order_id: str
    controller_id: str
    connector: str
    trading_pair: str
    side: str  # BUY | SELL
    price: str  # Decimal text, at most 6 decimals (what the bot's sqlite keeps)
    quantity: str
    timestamp_ms: int
    order_type: str


def _fill_randomness(key: str) -> tuple[list[float], str]:
    """Four uniform floats and a 16-hex trade id, all derived from `key`."""
    digest = hashlib.blake2b(key.encode(), digest_size=40).digest()
    floats = [int.from_bytes(digest[i:i + 8], "big") / 2 ** 64 for i in range(0, 32, 8)]
    return floats, digest[32:].hex()


def _decimal_text(value: float, significant: int) -> str:
    number = Decimal(f"{value:.{significant}g}")
    if number.as_tuple().exponent < -6:
        number = number.quantize(_MICRO)
    return format(number.normalize(), "f")


class _Performance:
    """Average-cost PnL of one controller, updated fill by fill (status stays O(1) per bot)."""

    __slots__ = ("volume", "position", "avg_price", "realized", "last_price")

    def __init__(self):
        self.volume = self.position = self.avg_price = self.realized = self.last_price = 0.0

    def add(self, side: str, price: float, quantity: float):
        self.volume += price * quantity
        self.last_price = price
        signed = quantity if side == "BUY" else -quantity
        if self.position == 0 or (self.position > 0) == (signed > 0):
            held = abs(self.position)
            self.avg_price = (self.avg_price * held + price * quantity) / (held + quantity)
        else:
            closed = min(quantity, abs(self.position))
            self.realized += closed * (price - self.avg_price) * (1 if self.position > 0 else -1)
            if quantity > closed:  # the position flips: the remainder opens at this price
                self.avg_price = price
        self.position += signed

    def report(self, budget: float | None) -> dict:
        unrealized = self.position * (self.last_price - self.avg_price)
        total = self.realized + unrealized

        def pct(value):
            return round(value / budget, 8) if budget else 0.0
        return {
            "realized_pnl_quote": round(self.realized, 8),
            "unrealized_pnl_quote": round(unrealized, 8),
            "unrealized_pnl_pct": pct(unrealized),
            "realized_pnl_pct": pct(self.realized),
            "global_pnl_quote": round(total, 8),
            "global_pnl_pct": pct(total),
            "volume_traded": round(self.volume, 8),
            "positions_summary": [],
            "close_type_counts": {},
        }


# --------------------------------------------------------------------------- bots


@dataclass(frozen=True)
class _Slot:
    """One entry of a bot's controllers_config, with the config copied at deploy time."""

    file_name: str  # as listed in the generated script config, always with .yml
    config: dict | None  # None: the file did not exist when the bot was deployed

    @property
    def controller_id(self) -> str:
        given = (self.config or {}).get("id")
        return given if isinstance(given, str) and given else self.file_name[:-4]

    @property
    def market(self) -> tuple[str, str]:
        config = self.config or {}
        connector, pair = config.get("connector_name"), config.get("trading_pair")
        if isinstance(connector, str) and isinstance(pair, str):
            return connector, pair
        return _FALLBACK_MARKET

    @property
    def budget(self) -> float | None:
        try:
            amount = float((self.config or {}).get("total_amount_quote"))
        except (TypeError, ValueError):
            return None
        return amount if amount > 0 else None


@dataclass
class _Archive:
    started_at: float
    skip_order_cancellation: bool
    archive_locally: bool
    s3_bucket: str | None


@dataclass(eq=False)
class _Bot:
    name: str
    account: str
    image: str
    headless: bool
    drawdowns: dict
    slots: list[_Slot]
    load_error: str | None  # why v2_with_controllers cannot start; fixed at deploy time
    container_id: str
    deployed_at: float
    container: str = "running"  # docker state while the container exists: running | exited
    container_stopped_at: float = 0.0
    strategy: str = "failed"  # running | stopped (stop-bot) | failed (config did not load)
    boot_time: float = 0.0
    run_since: float | None = None  # start of the current stretch that produces fills
    run_fills: int = 0  # automatic fills already made in that stretch
    fills: list[Fill] = field(default_factory=list)
    performance: dict[str, _Performance] = field(default_factory=dict)
    general_logs: list[dict] = field(default_factory=list)
    error_logs: list[dict] = field(default_factory=list)
    stop_requests: list[dict] = field(default_factory=list)
    archive: _Archive | None = None
    history_requests: int = 0

    @property
    def db_path(self) -> str:
        """As GET /archived-bots/ lists it."""
        return f"bots/archived/{self.name}/data/{self.name}.sqlite"

    @property
    def db_file(self) -> str:
        """Where the real server would keep that file."""
        return f"{_ARCHIVED_ROOT}/{self.name}/data/{self.name}.sqlite"


class _Presence(NamedTuple):
    active: bool  # in BotsOrchestrator.active_bots
    source: str | None  # docker | mqtt
    container: str | None  # running | exited | None (removed)
    phase: str | None  # archive phase: stopping | lingering | archived


def _log(level: str, message: str, timestamp: float, logger: str) -> dict:
    return {"level_name": level, "msg": message, "timestamp": timestamp, "logger_name": logger}


def _container_id(seed: int, name: str) -> str:
    return hashlib.blake2b(f"{seed}|container|{name}".encode(), digest_size=32).hexdigest()


def _docker_not_found(name: str) -> str:
    return (f"404 Client Error for http+docker://localhost/v1.47/containers/{name}/json: "
            f'Not Found ("No such container: {name}")')


def _docker_conflict(name: str, container_id: str) -> str:
    return (f"409 Client Error for http+docker://localhost/v1.47/containers/create?name={name}: "
            f'Conflict ("Conflict. The container name "/{name}" is already in use by container '
            f'"{container_id}". You have to remove (or rename) that container to be able to '
            'reuse that name.")')


def _sorted_keys(value: Any) -> Any:
    """Configs go through yaml.dump on the real server, which sorts mapping keys."""
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


def _split_pair(pair: str) -> tuple[str, str]:
    base, _, quote = pair.partition("-")
    return base, quote


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern
    kind: str
    seconds: float
    remaining: int | None
    # Tests synchronise on these instead of sleeping: a request took the fault; it has been handled
    # (a delayed request still acts after its client gave up, like the real server); `released`
    # ends a delay early.
    arrived: threading.Event = field(default_factory=threading.Event)
    handled: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def describe(self) -> dict:
        return {"method": self.method, "path": self.pattern.pattern, "kind": self.kind,
                "seconds": self.seconds, "times": self.remaining}


# --------------------------------------------------------------------------- state


class SandboxState:
    """Everything the emulated server knows. Every public method is thread-safe."""

    def __init__(self, config: SandboxConfig | None = None,
                 clock: Callable[[], float] | None = None):
        self.config = config or SandboxConfig()
        self.clock = clock or time.time
        self.lock = threading.RLock()
        self.accounts: dict[str, set[str]] = {"master_account": set()}
        self.portfolio = SandboxPortfolio()
        self.controller_configs: dict[str, dict] = {}
        self.uploaded_controllers: dict[tuple[str, str], str] = {}
        self.bots: dict[str, _Bot] = {}
        self.faults: list[_Fault] = []
        self._mid_prices: dict[str, float] = {}
        self._spawned = itertools.count(1)

    def now(self) -> float:
        return self.clock()

    # ---------------------------------------------------------------- test and bench helpers

    def inject_fills(self, bot_name: str, count: int, start_ts: float | None = None,
                     step_s: float = 1.0) -> int:
        """Append `count` deterministic fills stamped start_ts + i*step_s (default start: now)."""
        with self.lock:
            now = self._sync()
            bot = self.bots.get(bot_name)
            if bot is None or self._phase(bot, now) in ("lingering", "archived"):
                raise KeyError(f"Bot {bot_name} not found or already archived")
            start = now if start_ts is None else start_ts
            for index in range(count):
                self._append_fill(bot, start + index * step_s)
            return count

    def spawn_bots(self, n: int, prefix: str = "bench", account: str = "master_account",
                   connector: str = _FALLBACK_MARKET[0],
                   trading_pair: str = _FALLBACK_MARKET[1]) -> list[str]:
        """Create `n` running pmm_v1 bots directly, as if deployed; returns their unique names."""
        with self.lock:
            now = self._sync()
            stamp = self._stamp(now)
            names = []
            for _ in range(n):
                name = f"{prefix}-{next(self._spawned)}-{stamp}"
                while name in self.bots:
                    name = f"{prefix}-{next(self._spawned)}-{stamp}"
                config = {
                    "id": name, "controller_name": "pmm_v1", "controller_type": "generic",
                    "connector_name": connector, "trading_pair": trading_pair,
                    "order_amount": 1000, "buy_spreads": [0.01], "sell_spreads": [0.01],
                    "manual_kill_switch": False, "initial_positions": [],
                }
                self._create_bot(name, account, "hummingbot/hummingbot:latest", True, {},
                                 [_Slot(f"{name}.yml", config)], now)
                names.append(name)
            return names

    def set_fault(self, method: str, path_regex: str, kind: str, seconds: float = 0.0,
                  times: int | None = None) -> _Fault:
        """Make requests matching `method` ("*" = any) and `path_regex` (re.search on the path,
        no query string) misbehave; `times=None` means until cleared."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"Unknown fault kind {kind!r}; expected one of {list(FAULT_KINDS)}")
        if times is not None and times < 1:
            raise ValueError("times must be None or >= 1")
        if not (math.isfinite(seconds) and seconds >= 0):  # a delay waits this long on every match
            raise ValueError("seconds must be a finite number >= 0")
        fault = _Fault(method.upper(), re.compile(path_regex), kind, float(seconds), times)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> int:
        with self.lock:
            cleared, self.faults = len(self.faults), []
            return cleared

    def take_fault(self, method: str, path: str) -> _Fault | None:
        """The first fault matching this request, consumed once."""
        with self.lock:
            for fault in self.faults:
                if fault.method in ("*", method) and fault.pattern.search(path):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            self.faults.remove(fault)
                    return fault
            return None

    def summary(self) -> dict:
        """What GET /_sandbox/state shows."""
        with self.lock:
            now = self._sync()
            return {
                "sandbox": True,
                "now": now,
                "config": {"seed": self.config.seed, "archive_delay": self.config.archive_delay,
                           "mqtt_linger": self.config.mqtt_linger,
                           "fill_interval": self.config.fill_interval},
                "accounts": {name: sorted(connectors) for name, connectors in self.accounts.items()},
                "controller_configs": sorted(self.controller_configs),
                "uploaded_controllers": [f"{kind}/{name}" for kind, name in self.uploaded_controllers],
                "bots": {bot.name: self._bot_summary(bot, now) for bot in self.bots.values()},
                "archived_bots": self._archived_paths(now),
                "faults": [fault.describe() for fault in self.faults],
            }

    def _bot_summary(self, bot: _Bot, now: float) -> dict:
        presence = self._presence(bot, now)
        connector, pair = bot.slots[0].market if bot.slots else (None, None)
        archive = None
        if bot.archive is not None:
            archive = {"requested_at": bot.archive.started_at, "phase": presence.phase,
                       "skip_order_cancellation": bot.archive.skip_order_cancellation,
                       "archive_locally": bot.archive.archive_locally,
                       "s3_bucket": bot.archive.s3_bucket}
        return {
            "account": bot.account, "image": bot.image, "headless": bot.headless,
            "deployed_at": bot.deployed_at, "boot_time": bot.boot_time,
            "container": presence.container or "removed", "strategy": bot.strategy,
            "active": presence.active, "source": presence.source,
            "connector": connector, "trading_pair": pair,
            "controllers": [slot.file_name for slot in bot.slots],
            "load_error": bot.load_error, "fills": len(bot.fills), **bot.drawdowns,
            "stop_requests": list(bot.stop_requests), "archive": archive,
        }

    # ---------------------------------------------------------------- accounts and connectors

    def list_accounts(self) -> list[str]:
        with self.lock:
            return list(self.accounts)

    def add_account(self, name: str):
        _validate_safe_name(name, "account name")
        with self.lock:
            if name in self.accounts:
                raise _detail(400, "Account already exists.")
            self.accounts[name] = set()

    def delete_account(self, name: str):
        _validate_safe_name(name, "account name")
        if name == "master_account":
            raise _detail(400, "Cannot delete master account.")
        with self.lock:
            if self.accounts.pop(name, None) is None:
                raise _detail(404, f"Folder '{name}' not found in 'credentials'")

    def list_credentials(self, account: str) -> list[str]:
        _validate_safe_name(account, "account name")
        with self.lock:
            if account not in self.accounts:
                raise _detail(404, f"Directory 'credentials/{account}/connectors' not found")
            return sorted(self.accounts[account])

    def add_credential(self, account: str, connector: str, credentials: dict):
        """Only the fact that credentials exist is kept, never their values."""
        _validate_safe_name(account, "account name")
        _validate_safe_name(connector, "connector name")
        fields = _config_map(connector)
        if fields is None:
            raise _detail(400, f"Connector '{connector}' not found")
        missing = [name for name in fields if not str(credentials.get(name) or "").strip()]
        if missing:
            raise _detail(400, f"Missing required credential(s) for {connector}: {', '.join(missing)}")
        with self.lock:
            if account not in self.accounts:
                raise _detail(400, f"Failed to authenticate for {account}")
            self.accounts[account].add(connector)
            self.portfolio.seed(account, connector)

    def delete_credential(self, account: str, connector: str):
        _validate_safe_name(account, "account name")
        _validate_safe_name(connector, "connector name")
        with self.lock:
            self.accounts.get(account, set()).discard(connector)

    # ---------------------------------------------------------------- controllers and configs

    def list_controllers(self) -> dict[str, list[str]]:
        with self.lock:
            result = {kind: set(names) for kind, names in STOCK_CONTROLLERS.items()}
            for kind, name in self.uploaded_controllers:
                result[kind].add(name)
            return {kind: sorted(names) for kind, names in result.items()}

    def get_controller(self, kind: str, name: str) -> dict:
        with self.lock:
            content = self.uploaded_controllers.get((kind, name))
        if content is None and name in STOCK_CONTROLLERS[kind]:
            content = f'"""{name}: stock hummingbot-api controller (source not shipped by the sandbox)."""\n'
        if content is None:
            raise _detail(404, f"Controller '{name}' not found in '{kind}'")
        return {"name": name, "type": kind, "content": content}

    def save_controller(self, kind: str, name: str, content: str):
        with self.lock:
            self.uploaded_controllers[(kind, name)] = content

    def config_class(self, kind: str, name: str) -> _ConfigClass | None:
        """The config class the API or a bot would import; None when there is no such module."""
        if not isinstance(kind, str) or not isinstance(name, str):
            return None
        with self.lock:
            if (kind, name) in self.uploaded_controllers:
                return _UPLOADED_CLASSES.get((kind, name), _ConfigClass(_OPAQUE, _OPAQUE))
        if name in STOCK_CONTROLLERS.get(kind, ()):
            return _STOCK_CLASSES.get((kind, name), _ConfigClass(_OPAQUE, _OPAQUE))
        return None

    def save_config(self, name: str, config: dict):
        if not name or "/" in name or "\\" in name:
            raise _detail(400, f"Invalid file name: '{name}.yml'")
        with self.lock:
            self.controller_configs[name] = _sorted_keys(copy.deepcopy(config))

    def get_config(self, name: str) -> dict:
        with self.lock:
            config = self.controller_configs.get(name)
            if config is None:
                raise _detail(404, f"Configuration '{name}' not found")
            return {**copy.deepcopy(config), "id": name}

    def list_configs(self) -> list[dict]:
        with self.lock:
            return [{**copy.deepcopy(self.controller_configs[name]), "id": name}
                    for name in sorted(self.controller_configs)]

    def delete_config(self, name: str):
        with self.lock:
            if self.controller_configs.pop(name, None) is None:
                raise _detail(404, f"Configuration '{name}' not found")

    def _bot_with_instance_folder(self, bot_name: str) -> _Bot:
        """The real server checks that bots/instances/<bot>/conf/controllers exists; archiving moves it away."""
        now = self._sync()
        bot = self.bots.get(bot_name)
        if bot is None or self._phase(bot, now) in ("lingering", "archived"):
            raise _detail(404, f"Bot '{bot_name}' not found")
        return bot

    def bot_controller_configs(self, bot_name: str) -> list[dict]:
        with self.lock:
            bot = self._bot_with_instance_folder(bot_name)
            slots = sorted((slot for slot in bot.slots if slot.config is not None),
                           key=lambda slot: slot.file_name)
            return [{**copy.deepcopy(slot.config), "_config_name": slot.file_name[:-4]}
                    for slot in slots]

    def update_bot_controller_config(self, bot_name: str, config_name: str, changes: dict):
        """dict.update into the instance's copy, no validation at all (docs/hummingbot-api.md §4.1). The running
        bot's behaviour is not modelled: the copy is what it would apply (its is_updatable fields) and start with."""
        with self.lock:
            bot = self._bot_with_instance_folder(bot_name)
            file_name = f"{config_name}.yml"
            for index, slot in enumerate(bot.slots):
                if slot.file_name == file_name and slot.config is not None:
                    merged = {**copy.deepcopy(slot.config), **copy.deepcopy(changes)}
                    bot.slots[index] = _Slot(file_name, _sorted_keys(merged))
                    return
            raise _detail(404, f"Controller configuration '{config_name}' not found for bot '{bot_name}'")

    # ---------------------------------------------------------------- deployment

    def deploy(self, instance_name: str, credentials_profile: str, controllers_config: list[str],
               image: str, headless: bool, drawdowns: dict) -> dict:
        with self.lock:
            now = self._sync()
            if credentials_profile not in self.accounts:
                raise _detail(500, "[Errno 2] No such file or directory: "
                                   f"'bots/credentials/{credentials_profile}'")
            name = f"{instance_name}-{self._stamp(now)}"
            if name in self.bots:
                return {"success": False,
                        "message": _docker_conflict(name, self.bots[name].container_id)}
            slots = [self._slot(entry) for entry in controllers_config]
            self._create_bot(name, credentials_profile, image, headless, drawdowns, slots, now)
            return {"success": True, "message": f"Instance {name} created successfully.",
                    "script_config_generated": f"{name}.yml",
                    "controllers_deployed": list(controllers_config),
                    "unique_instance_name": name}

    def _stamp(self, now: float) -> str:
        zone = ZoneInfo(self.config.time_zone) if self.config.time_zone else None
        return datetime.fromtimestamp(now, zone).strftime("%Y%m%d-%H%M%S")

    def _slot(self, entry: str) -> _Slot:
        file_name = entry if entry.endswith(".yml") else f"{entry}.yml"
        config = self.controller_configs.get(file_name[:-4])
        return _Slot(file_name, copy.deepcopy(config) if config is not None else None)

    def _create_bot(self, name, account, image, headless, drawdowns, slots, now):
        bot = _Bot(name=name, account=account, image=image, headless=headless,
                   drawdowns=dict(drawdowns), slots=slots, load_error=self._load_error(slots),
                   container_id=_container_id(self.config.seed, name), deployed_at=now,
                   performance={slot.controller_id: _Performance() for slot in slots})
        self.bots[name] = bot
        self._boot(bot, now)

    def _load_error(self, slots: list[_Slot]) -> str | None:
        """What v2_with_controllers raises while loading these configs (strategy_v2_base)."""
        for slot in slots:
            if slot.config is None:
                return ("[Errno 2] No such file or directory: "
                        f"'/home/hummingbot/conf/controllers/{slot.file_name}'")
            kind, name = slot.config.get("controller_type"), slot.config.get("controller_name")
            if not kind or not name:
                return f"Missing controller_type or controller_name in {slot.file_name}"
            config_class = self.config_class(kind, name)
            if config_class is None:
                return f"No module named 'controllers.{kind}.{name}'"
            try:
                errors = _validate(config_class.bot, slot.config)[1]
            except Exception as exc:  # a hummingbot validator's own error, not a ValidationError
                return str(exc)
            if errors:
                return _pydantic_text(config_class.bot.title, errors)
        return None

    # ---------------------------------------------------------------- lifecycle

    def _boot(self, bot: _Bot, now: float):
        """The container (re)starts: SCRIPT_CONFIG makes the bot load and start its controllers."""
        bot.container, bot.boot_time, bot.run_fills = "running", now, 0
        bot.general_logs = [_log("INFO", "Starting V2 script strategy: v2_with_controllers", now,
                                 "hummingbot.client.runner")]
        if bot.load_error:
            bot.strategy, bot.run_since = "failed", None
            bot.error_logs = [_log("ERROR", f"Failed to start strategy: {bot.load_error}", now,
                                   "hummingbot.strategy.strategy_v2_base")]
        else:
            bot.strategy, bot.run_since = "running", now
            bot.error_logs = []

    def _halt(self, bot: _Bot, now: float):
        """The strategy stops placing orders (MQTT stop or process exit)."""
        self._materialize(bot, now)
        bot.run_since = None
        if bot.strategy == "running":
            bot.strategy = "stopped"

    def _phase(self, bot: _Bot, now: float) -> str | None:
        if bot.archive is None:
            return None
        elapsed, delay = now - bot.archive.started_at, self.config.archive_delay
        if elapsed < delay / 2:
            return "stopping"  # graceful wait: excluded from active bots, container still up
        if elapsed < delay:
            return "lingering"  # container removed, archive written, MQTT still lists the bot
        return "archived"

    def _presence(self, bot: _Bot, now: float) -> _Presence:
        phase = self._phase(bot, now)
        if phase == "stopping":
            return _Presence(False, None, bot.container, phase)
        if phase == "lingering":
            # active_bots is rebuilt every second from docker and MQTT: the bot drops out of one
            # rebuild and comes back (docs/hummingbot-api.md §10).
            blink_at = bot.archive.started_at + self.config.archive_delay * 0.75
            return _Presence(not blink_at <= now < blink_at + _BLINK_SECONDS, "mqtt", None, phase)
        if phase == "archived":
            return _Presence(False, None, None, phase)
        if bot.container == "running":
            return _Presence(True, "docker", "running", None)
        lingering = now - bot.container_stopped_at < self.config.mqtt_linger
        return _Presence(lingering, "mqtt" if lingering else None, "exited", None)

    def _active(self, now: float) -> list[_Bot]:
        return [bot for bot in self.bots.values() if self._presence(bot, now).active]

    # ---------------------------------------------------------------- fills

    def _sync(self) -> float:
        """Read the clock and materialise the fills every trading bot has made by then."""
        now = self.now()
        for bot in self.bots.values():
            self._materialize(bot, now)
        return now

    def _materialize(self, bot: _Bot, now: float):
        interval = self.config.fill_interval
        if bot.run_since is None or interval <= 0 or not bot.slots:
            return
        if bot.archive is not None:  # a restarted container still goes away with the archive
            now = min(now, bot.archive.started_at + self.config.archive_delay / 2)
        due = int((now - bot.run_since) / interval)
        while bot.run_fills < due:
            bot.run_fills += 1
            self._append_fill(bot, bot.run_since + bot.run_fills * interval)

    def _append_fill(self, bot: _Bot, timestamp: float):
        fill = self._make_fill(bot, timestamp)
        bot.fills.append(fill)
        performance = bot.performance.setdefault(fill.controller_id, _Performance())
        performance.add(fill.side, float(fill.price), float(fill.quantity))

    def _make_fill(self, bot: _Bot, timestamp: float) -> Fill:
        index = len(bot.fills)
        slot = bot.slots[index % len(bot.slots)] if bot.slots else _Slot(f"{bot.name}.yml", None)
        connector, pair = slot.market
        (r_side, r_drift, r_edge, r_size), trade_id = _fill_randomness(
            f"{self.config.seed}|{bot.name}|{index}")
        side = "BUY" if r_side < 0.5 else "SELL"
        mid = self._mid_price(pair) * (1 + (r_drift - 0.5) * 0.02)
        edge = 0.001 + r_edge * 0.004  # the maker buys below and sells above mid
        price = _decimal_text(mid * (1 - edge if side == "BUY" else 1 + edge), 5)
        quantity = _decimal_text((5 + 20 * r_size) / float(price), 4)
        return Fill(trade_id=trade_id, order_id=f"HBOT{side[0]}{trade_id[:8]}{index + 1}",
                    controller_id=slot.controller_id, connector=connector, trading_pair=pair,
                    side=side, price=price, quantity=quantity,
                    # pmm_v1 quotes and volume_taker legs are both LIMIT orders
                    timestamp_ms=int(round(timestamp * 1000)), order_type="LIMIT")

    def _mid_price(self, pair: str) -> float:
        if pair not in self._mid_prices:
            fraction = _fill_randomness(f"{self.config.seed}|mid|{pair}")[0][0]
            self._mid_prices[pair] = _MID_PRICES.get(pair, 10 ** (-3 + 5 * fraction))
        return self._mid_prices[pair]

    # ---------------------------------------------------------------- bot orchestration

    def all_status(self) -> dict:
        with self.lock:
            now = self._sync()
            result = {}
            for bot in self.bots.values():
                presence = self._presence(bot, now)
                if presence.active:
                    result[bot.name] = {**self._status(bot, presence), "source": presence.source}
            return result

    def bot_status(self, name: str) -> dict:
        with self.lock:
            now = self._sync()
            bot = self.bots.get(name)
            presence = self._presence(bot, now) if bot else None
            if presence is None or not presence.active:
                return {"status": "not_found", "error": f"Bot {name} not found"}
            return self._status(bot, presence)

    def _status(self, bot: _Bot, presence: _Presence) -> dict:
        """BotsOrchestrator.get_bot_status, fed by what the bot publishes over MQTT."""
        publishing = presence.source == "docker"  # a bot listed only via MQTT has gone quiet
        performance = self._performance(bot) if publishing else {}
        return {
            "status": "running" if performance else "stopped",
            "performance": performance,
            "error_logs": list(bot.error_logs) if publishing else [],
            "general_logs": list(bot.general_logs) if publishing else [],
            "recently_active": publishing,
        }

    def _performance(self, bot: _Bot) -> dict:
        if bot.strategy == "failed":
            return {}
        result = {}
        for slot in bot.slots:
            if bot.strategy == "running":
                figures = bot.performance[slot.controller_id].report(slot.budget)
            else:  # after stop-bot the bot keeps publishing empty controller reports
                figures = {}
            result[slot.controller_id] = {"status": "running", "performance": figures,
                                          "custom_info": {}}
        return result

    def stop_bot(self, name: str, skip_order_cancellation: bool, async_backend: bool) -> dict:
        with self.lock:
            now = self._sync()
            bot = self.bots.get(name)
            presence = self._presence(bot, now) if bot else None
            if presence is None or not presence.active:
                return {"success": False, "message": f"Bot {name} not found"}
            bot.stop_requests.append({"at": now, "skip_order_cancellation": skip_order_cancellation,
                                      "async_backend": async_backend})
            if presence.container == "running":
                self._halt(bot, now)
            return {"success": True}

    def start_bot(self, name: str) -> dict:
        """Hummingbot >= 2.13 rejects the MQTT start, and the API ignores the rejection."""
        with self.lock:
            now = self._sync()
            bot = self.bots.get(name)
            if bot is None or not self._presence(bot, now).active:
                return {"success": False, "message": f"Bot {name} not found"}
            return {"success": True}

    def stop_and_archive(self, name: str, skip_order_cancellation: bool, archive_locally: bool,
                         s3_bucket: str | None) -> dict:
        with self.lock:
            now = self._sync()
            bot = self.bots.get(name)
            if bot is None or not self._presence(bot, now).active:
                active = [other.name for other in self._active(now)]
                return {
                    "status": "error",
                    "message": (f"Bot '{name}' not found in active bots. Active bots: {active}. "
                                "Cannot perform graceful shutdown."),
                    "details": {"input_name": name, "actual_bot_name": name, "container_name": name,
                                "active_bots": active,
                                "reason": "Bot must be actively managed via MQTT for graceful shutdown"},
                }
            if bot.archive is None:  # a lingering bot is already archived: nothing left to do
                self._halt(bot, now)
                bot.archive = _Archive(now, skip_order_cancellation, archive_locally, s3_bucket)
            return {
                "status": "success",
                "message": f"Stop and archive process started for bot {name}",
                "details": {"input_name": name, "actual_bot_name": name, "container_name": name,
                            "process": ("The bot will be gracefully stopped, archived, and removed "
                                        "in the background. This process typically takes 20-30 "
                                        "seconds.")},
            }

    def bot_history(self, name: str, days: int) -> dict | None:
        """The bot's reply to an MQTT history request; None when nobody is there to answer."""
        with self.lock:
            now = self._sync()
            bot = self.bots.get(name)
            presence = self._presence(bot, now) if bot else None
            if presence is None or not presence.active:
                return {"success": False, "message": f"Bot {name} not found"}
            if presence.container != "running":
                return None
            # days=0: since this process started; days=N: from the bot's persistent trade db
            since = bot.boot_time if days == 0 else now - days * 86400
            since_ms = since * 1000
            trades = [_history_trade(fill) for fill in sorted(bot.fills, key=_fill_time)
                      if fill.timestamp_ms >= since_ms]
            bot.history_requests += 1
            header = {"timestamp": int(now * 1000), "msg_id": bot.history_requests,
                      "node_id": name, "agent": "commlib", "properties": {}}
            return {"success": True,
                    "data": {"header": header, "data": {"status": 200, "msg": "", "trades": trades}}}

    def mqtt(self) -> dict:
        with self.lock:
            now = self._sync()
            active = [bot.name for bot in self._active(now)]
            discovered = [bot.name for bot in self.bots.values()
                          if self._presence(bot, now).container == "running" or bot.name in active]
            return {"mqtt_connected": True, "discovered_bots": discovered, "active_bots": active,
                    "broker_host": "127.0.0.1", "broker_port": 1883, "broker_username": "admin",
                    "client_state": "connected"}

    # ---------------------------------------------------------------- docker

    def containers(self, status: str, name_filter: str | None) -> list[dict]:
        with self.lock:
            now = self._sync()
            needle = (name_filter or "").lower()
            return [{"id": bot.container_id, "name": bot.name, "status": status, "image": bot.image}
                    for bot in self.bots.values()
                    if self._presence(bot, now).container == status and needle in bot.name.lower()]

    def stop_container(self, name: str) -> str | None:
        with self.lock:
            now = self._sync()
            bot = self.bots.get(name)
            if bot is None or self._presence(bot, now).container is None:
                return _docker_not_found(name)
            if bot.container == "running":
                self._halt(bot, now)
                bot.container, bot.container_stopped_at = "exited", now
            return None

    def start_container(self, name: str) -> str | None:
        with self.lock:
            now = self._sync()
            bot = self.bots.get(name)
            if bot is None or self._presence(bot, now).container is None:
                return _docker_not_found(name)
            if bot.container != "running":
                self._boot(bot, now)
            return None

    # ---------------------------------------------------------------- archived bots

    def _archived_paths(self, now: float) -> list[str]:
        return [bot.db_path for bot in self.bots.values()
                if self._phase(bot, now) in ("lingering", "archived")]

    def archived_paths(self) -> list[str]:
        with self.lock:
            return self._archived_paths(self._sync())

    def archived_bot(self, db_path: str) -> _Bot:
        """Resolve a db path the way fs_util.get_archived_db_path does."""
        relative = db_path[len("bots/"):] if db_path.startswith("bots/") else db_path
        resolved = posixpath.normpath(relative if relative.startswith("/")
                                      else posixpath.join(_BOTS_ROOT, relative))
        if not resolved.startswith(_ARCHIVED_ROOT + "/") and resolved != _ARCHIVED_ROOT:
            raise _detail(400, f"Path '{db_path}' is outside the archived bots directory")
        with self.lock:
            now = self._sync()
            for bot in self.bots.values():
                if bot.db_file == resolved and self._phase(bot, now) in ("lingering", "archived"):
                    return bot
        raise _detail(404, f"Database path '{db_path}' not found")

    def archived_trades(self, bot: _Bot) -> list[dict]:
        with self.lock:
            return _archived_trade_rows(bot)

    def archived_orders(self, bot: _Bot) -> list[dict]:
        with self.lock:
            return [_archived_order_row(bot, fill) for fill in sorted(bot.fills, key=_fill_time)]


def _fill_time(fill: Fill) -> int:
    return fill.timestamp_ms


def _history_trade(fill: Fill) -> dict:
    base, quote = _split_pair(fill.trading_pair)
    return {
        "market": fill.connector, "trade_id": fill.trade_id, "price": fill.price,
        "quantity": fill.quantity, "symbol": fill.trading_pair,
        "trade_timestamp": fill.timestamp_ms, "trade_type": fill.side,
        "base_asset": base, "quote_asset": quote,
        "raw_json": {"trade_fee": {"fee_type": "DeductedFromReturns", "percent": str(_FEE_RATE),
                                   "percent_token": None, "flat_fees": []}},
    }


def _archived_trade_rows(bot: _Bot) -> list[dict]:
    """TradeFill rows as HummingbotDatabase.get_trade_fills returns them (fees cumulated per
    config/connector/pair; trade_fee is the diff of that sum, 0 on each group's first row)."""
    rows, cumulated = [], {}
    for fill in sorted(bot.fills, key=_fill_time):
        base, quote = _split_pair(fill.trading_pair)
        fee = round(float(fill.price) * float(fill.quantity) * _FEE_RATE, 6)
        group = (fill.connector, fill.trading_pair)
        first = group not in cumulated
        cumulated[group] = round(cumulated.get(group, 0.0) + fee, 10)
        rows.append({
            "config_file_path": f"{bot.name}.yml", "strategy": "v2_with_controllers",
            "connector_name": fill.connector, "trading_pair": fill.trading_pair,
            "base_asset": base, "quote_asset": quote, "timestamp": fill.timestamp_ms,
            "order_id": fill.order_id, "trade_type": fill.side, "order_type": fill.order_type,
            "price": float(fill.price), "amount": float(fill.quantity), "leverage": 1,
            "trade_fee": 0.0 if first else fee, "trade_fee_in_quote": fee,
            "exchange_trade_id": fill.trade_id, "position": "NIL",
            "cum_fees_in_quote": cumulated[group],
        })
    return rows


def _archived_order_row(bot: _Bot, fill: Fill) -> dict:
    base, quote = _split_pair(fill.trading_pair)
    return {
        "id": fill.order_id, "config_file_path": f"{bot.name}.yml",
        "strategy": "v2_with_controllers", "connector_name": fill.connector,
        "trading_pair": fill.trading_pair, "base_asset": base, "quote_asset": quote,
        "creation_timestamp": fill.timestamp_ms - 500, "order_type": fill.order_type,
        "amount": float(fill.quantity), "leverage": 1, "price": float(fill.price),
        "last_status": "FILLED", "last_update_timestamp": fill.timestamp_ms,
        "exchange_order_id": fill.trade_id, "position": "NIL",
    }


def _page(rows: list, limit: int, offset: int) -> tuple[list, dict]:
    return rows[offset:offset + limit], {"total": len(rows), "limit": limit, "offset": offset,
                                         "has_more": offset + limit < len(rows)}


def _unique(values) -> list:
    return list(dict.fromkeys(values))


# --------------------------------------------------------------------------- request parsing

_NO_BODY = object()


@dataclass
class _Request:
    method: str
    path: str
    params: dict
    query: dict
    body: Any


class _Inputs:
    """Collects request-validation errors as FastAPI does (path, query, then body), then fails
    once: 422 with the error list, or HTTP 500 text when a field validator raised ValueError
    (FastAPI cannot JSON-encode the exception in ctx: the real server's trap)."""

    def __init__(self, request: _Request):
        self.request = request
        self.errors: list[dict] = []

    def path_enum(self, name: str, choices: tuple) -> str:
        value = self.request.params[name]
        if value not in choices:
            expected = _expected(choices)
            self.errors.append(_error("enum", f"Input should be {expected}", value, ("path", name),
                                      {"expected": expected}))
        return value

    def query(self, name: str, parse: Callable, default: Any = _REQUIRED) -> Any:
        if name not in self.request.query:
            if default is _REQUIRED:
                self.errors.append(_error("missing", "Field required", None, ("query", name)))
            return None if default is _REQUIRED else default
        try:
            return parse(self.request.query[name])
        except _Invalid as exc:
            self.errors.extend(_nest("query", _nest(name, exc.errors)))
            return None

    def body(self) -> Any:
        """The JSON body; an absent body and a JSON null are both "missing" to FastAPI."""
        body = self.request.body
        if body is _NO_BODY or body is None:
            self.errors.append(_error("missing", "Field required", None, ("body",)))
            return None
        return body

    def body_dict(self) -> dict | None:
        body = self.body()
        if body is not None and not isinstance(body, dict):
            self.errors.append(_error("dict_type", "Input should be a valid dictionary", body,
                                      ("body",)))
            return None
        return body

    def body_model(self, schema: _Schema) -> dict | None:
        body = self.body()
        if body is None:
            return None
        if not isinstance(body, dict):
            self.errors.append(_error("model_attributes_type", "Input should be a valid dictionary "
                                      "or object to extract fields from", body, ("body",)))
            return None
        data, errors = _validate(schema, body)
        self.errors.extend(_nest("body", errors))
        return data

    def check(self):
        if not self.errors:
            return
        if any(error["type"] == "value_error" for error in self.errors):
            raise _ApiError(_INTERNAL_ERROR)
        raise _ApiError(_Reply(422, {"detail": [{**error, "loc": list(error["loc"])}
                                              for error in self.errors]}))


def _parse_json(raw: bytes) -> Any:
    """The request body as FastAPI reads it; 422 json_invalid when it is not JSON."""
    if not raw:
        return _NO_BODY
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        position, message = (exc.pos, exc.msg) if isinstance(exc, json.JSONDecodeError) \
            else (0, "Invalid UTF-8")
        raise _ApiError(_Reply(422, {"detail": [{"type": "json_invalid", "loc": ["body", position],
                                               "msg": "JSON decode error", "input": {},
                                               "ctx": {"error": message}}]}))


# --------------------------------------------------------------------------- endpoints


class _Endpoints:
    """One method per route; each takes a _Request and returns a _Reply."""

    def __init__(self, state: SandboxState):
        self.state = state

    def root(self, request):
        return _Reply(200, {"name": "Hummingbot API", "version": API_VERSION, "status": "running",
                           "sandbox": True})

    # ---------------------------------------------------------------- accounts and connectors

    def list_accounts(self, request):
        return _Reply(200, self.state.list_accounts())

    def account_credentials(self, request):
        return _Reply(200, self.state.list_credentials(request.params["account_name"]))

    def add_account(self, request):
        inputs = _Inputs(request)
        name = inputs.query("account_name", _str)
        inputs.check()
        self.state.add_account(name)
        return _Reply(201, {"message": "Account added successfully."})

    def delete_account(self, request):
        inputs = _Inputs(request)
        name = inputs.query("account_name", _str)
        inputs.check()
        self.state.delete_account(name)
        return _Reply(200, {"message": "Account deleted successfully."})

    def add_credential(self, request):
        inputs = _Inputs(request)
        credentials = inputs.body_dict()
        inputs.check()
        self.state.add_credential(request.params["account_name"], request.params["connector_name"],
                                  credentials)
        return _Reply(201, {"message": "Connector credentials added successfully."})

    def delete_credential(self, request):
        self.state.delete_credential(request.params["account_name"],
                                     request.params["connector_name"])
        return _Reply(200, {"message": "Credential deleted successfully."})

    def list_connectors(self, request):
        return _Reply(200, list(CONNECTORS))

    def connector_config_map(self, request):
        fields = _config_map(request.params["connector_name"])
        return _INTERNAL_ERROR if fields is None else _Reply(200, fields)

    # ---------------------------------------------------------------- controllers

    def list_controllers(self, request):
        return _Reply(200, self.state.list_controllers())

    def list_configs(self, request):
        return _Reply(200, self.state.list_configs())

    def get_config(self, request):
        return _Reply(200, self.state.get_config(request.params["config_name"]))

    def save_config(self, request):
        inputs = _Inputs(request)
        config = inputs.body_dict()
        inputs.check()
        name = request.params["config_name"]
        self.state.save_config(name, config)
        return _Reply(201, {"message": f"Configuration '{name}' saved successfully"})

    def delete_config(self, request):
        name = request.params["config_name"]
        self.state.delete_config(name)
        return _Reply(200, {"message": f"Configuration '{name}' deleted successfully"})

    def get_controller(self, request):
        inputs = _Inputs(request)
        kind = inputs.path_enum("controller_type", CONTROLLER_TYPES)
        inputs.check()
        return _Reply(200, self.state.get_controller(kind, request.params["controller_name"]))

    def save_controller(self, request):
        inputs = _Inputs(request)
        kind = inputs.path_enum("controller_type", CONTROLLER_TYPES)
        controller = inputs.body_model(_CONTROLLER_BODY)
        inputs.check()
        name = request.params["controller_name"]
        if controller["type"] is not None and controller["type"] != kind:
            raise _detail(400, f"Controller type mismatch: URL has '{_enum_text(kind)}', body has "
                               f"'{_enum_text(controller['type'])}'")
        self.state.save_controller(kind, name, controller["content"])
        return _Reply(201, {"message": f"Controller '{name}' saved successfully in '{kind}'"})

    def validate_config(self, request):
        inputs = _Inputs(request)
        kind = inputs.path_enum("controller_type", CONTROLLER_TYPES)
        config = inputs.body_dict()
        inputs.check()
        name = request.params["controller_name"]
        config_class = self.state.config_class(kind, name)
        if config_class is None:
            raise _detail(404, f"Controller configuration class for '{name}' not found")
        try:
            errors = _validate(config_class.api, config)[1]
        except Exception as exc:  # the router's `except Exception`: 400 with str(exc)
            raise _detail(400, str(exc))
        if errors:
            raise _detail(400, _pydantic_text(config_class.api.title, errors))
        return _Reply(200, {"message": "Configuration is valid"})

    def bot_controller_configs(self, request):
        return _Reply(200, self.state.bot_controller_configs(request.params["bot_name"]))

    def update_bot_controller_config(self, request):
        inputs = _Inputs(request)
        changes = inputs.body_dict()
        inputs.check()
        bot_name = request.params["bot_name"]
        self.state.update_bot_controller_config(bot_name, request.params["controller_name"], changes)
        return _Reply(200, {"message": f"Controller configuration for bot '{bot_name}' updated successfully"})

    # ---------------------------------------------------------------- bot orchestration

    def all_status(self, request):
        return _Reply(200, {"status": "success", "data": self.state.all_status()})

    def bot_status(self, request):
        return _Reply(200, {"status": "success",
                           "data": self.state.bot_status(request.params["bot_name"])})

    def mqtt(self, request):
        return _Reply(200, {"status": "success", "data": self.state.mqtt()})

    def deploy(self, request):
        inputs = _Inputs(request)
        body = inputs.body_model(_DEPLOY_BODY)
        inputs.check()
        drawdowns = {key: body[key] for key in ("max_global_drawdown_quote",
                                                "max_controller_drawdown_quote")}
        return _Reply(200, self.state.deploy(body["instance_name"], body["credentials_profile"],
                                            body["controllers_config"], body["image"],
                                            body["headless"], drawdowns))

    def stop_bot(self, request):
        inputs = _Inputs(request)
        body = inputs.body_model(_STOP_BOT_BODY)
        inputs.check()
        response = self.state.stop_bot(body["bot_name"], body["skip_order_cancellation"],
                                       body["async_backend"])
        return _Reply(200, {"status": "success", "response": response})

    def start_bot(self, request):
        inputs = _Inputs(request)
        body = inputs.body_model(_START_BOT_BODY)
        inputs.check()
        return _Reply(200, {"status": "success", "response": self.state.start_bot(body["bot_name"])})

    def stop_and_archive(self, request):
        inputs = _Inputs(request)
        skip = inputs.query("skip_order_cancellation", _bool, True)
        archive_locally = inputs.query("archive_locally", _bool, True)
        s3_bucket = inputs.query("s3_bucket", _str, None)
        inputs.check()
        return _Reply(200, self.state.stop_and_archive(request.params["bot_name"], skip,
                                                      archive_locally, s3_bucket))

    def history(self, request):
        inputs = _Inputs(request)
        days = inputs.query("days", _int, 0)
        inputs.query("verbose", _bool, False)
        inputs.query("precision", _int, None)
        timeout = inputs.query("timeout", _float, 30.0)
        inputs.check()
        name = request.params["bot_name"]
        response = self.state.bot_history(name, days)
        if response is None:  # listed via MQTT but its process is gone: the RPC times out
            time.sleep(max(timeout, 0.0))
            response = {"success": False,
                        "message": f"No response received from {name} within {timeout} seconds",
                        "timeout": True}
        return _Reply(200, {"status": "success", "response": response})

    # ---------------------------------------------------------------- docker

    def docker_running(self, request):
        return _Reply(200, True)

    def active_containers(self, request):
        return self._containers(request, "running")

    def exited_containers(self, request):
        return self._containers(request, "exited")

    def _containers(self, request, status):
        inputs = _Inputs(request)
        name_filter = inputs.query("name_filter", _str, None)
        inputs.check()
        return _Reply(200, self.state.containers(status, name_filter))

    def stop_container(self, request):
        return _Reply(200, self.state.stop_container(request.params["container_name"]))

    def start_container(self, request):
        return _Reply(200, self.state.start_container(request.params["container_name"]))

    # ---------------------------------------------------------------- archived bots

    def archived_list(self, request):
        return _Reply(200, self.state.archived_paths())

    def archived_status(self, request):
        db_path = request.params["db_path"]
        bot = self.state.archived_bot(db_path)
        filled = "Correct" if bot.fills else "Error - No records matched"
        empty = "Error - No records matched"
        status = {"db_name": f"{bot.name}.sqlite", "db_path": f"sqlite://{bot.db_file}",
                  "trade_fill": filled, "orders": filled, "order_status": filled,
                  "executors": empty, "controllers": empty, "positions": empty,
                  "general_status": False}
        return _Reply(200, {"db_path": db_path, "status": status, "healthy": False})

    def archived_summary(self, request):
        db_path = request.params["db_path"]
        bot = self.state.archived_bot(db_path)
        orders = self.state.archived_orders(bot)
        return _Reply(200, {
            "db_path": db_path, "total_orders": len(orders), "total_trades": len(orders),
            "total_executors": 0,
            "total_positions": 0, "total_controllers": 0,
            "trading_pairs": _unique(order["trading_pair"] for order in orders),
            "exchanges": _unique(order["connector_name"] for order in orders),
        })

    def archived_trades(self, request):
        inputs = _Inputs(request)
        limit = inputs.query("limit", _int, 100)
        offset = inputs.query("offset", _int, 0)
        inputs.check()
        db_path = request.params["db_path"]
        rows = self.state.archived_trades(self.state.archived_bot(db_path))
        page, pagination = _page(rows, limit, offset)
        return _Reply(200, {"db_path": db_path, "trades": page, "pagination": pagination})

    def archived_orders(self, request):
        inputs = _Inputs(request)
        limit = inputs.query("limit", _int, 100)
        offset = inputs.query("offset", _int, 0)
        status = inputs.query("status", _str, None)
        inputs.check()
        db_path = request.params["db_path"]
        rows = self.state.archived_orders(self.state.archived_bot(db_path))
        if status:
            rows = [row for row in rows if row["last_status"] == status]
        page, pagination = _page(rows, limit, offset)
        return _Reply(200, {"db_path": db_path, "orders": page, "pagination": pagination})

    # ---------------------------------------------------------------- sandbox controls

    def sandbox_state(self, request):
        return _Reply(200, self.state.summary())

    def add_fault(self, request):
        inputs = _Inputs(request)
        body = inputs.body_model(_FAULT_BODY)
        inputs.check()
        try:
            self.state.set_fault(body["method"], body["path"], body["kind"], body["seconds"],
                                 body["times"])
        except re.error as exc:
            raise _detail(400, f"Invalid path regex: {exc}")
        except ValueError as exc:
            raise _detail(400, str(exc))
        return _Reply(201, {"message": "Fault added", "fault": {**body, "method": body["method"].upper()}})

    def clear_faults(self, request):
        return _Reply(200, {"message": "Faults cleared", "cleared": self.state.clear_faults()})

    def add_fills(self, request):
        inputs = _Inputs(request)
        body = inputs.body_model(_FILLS_BODY)
        inputs.check()
        name = request.params["bot_name"]
        try:
            added = self.state.inject_fills(name, body["count"], body["start_ts"], body["step_s"])
        except KeyError:
            raise _detail(404, f"Bot {name} not found or already archived")
        return _Reply(201, {"bot_name": name, "added": added})

    def spawn(self, request):
        inputs = _Inputs(request)
        body = inputs.body_model(_SPAWN_BODY)
        inputs.check()
        names = self.state.spawn_bots(body["count"], body["prefix"], body["account"],
                                      body["connector"], body["trading_pair"])
        return _Reply(201, {"bots": names})


def _enum_text(value: str) -> str:
    """How an f-string renders the API's ControllerType(str, Enum) member on Python >= 3.11."""
    return f"ControllerType.{value.upper()}"


# --------------------------------------------------------------------------- routing


@dataclass(frozen=True)
class _Endpoint:
    handler: Callable[[_Request], _Reply]
    body: bool = False  # reads a JSON body (parsed before auth, as FastAPI does)
    public: bool = False


@dataclass(frozen=True)
class _Route:
    regex: re.Pattern
    methods: dict[str, _Endpoint]


_PATH_PARAM = re.compile(r"{(\w+)(:path)?}")


def _compile(pattern: str) -> re.Pattern:
    """Starlette path syntax: {name} matches one segment, {name:path} anything."""
    parts, position = [], 0
    for match in _PATH_PARAM.finditer(pattern):
        parts.append(re.escape(pattern[position:match.start()]))
        parts.append(f"(?P<{match[1]}>{'.*' if match[2] else '[^/]+'})")
        position = match.end()
    parts.append(re.escape(pattern[position:]))
    return re.compile("".join(parts))


def _routes(api: _Endpoints) -> list[_Route]:
    """Route order matters where patterns overlap, as in the real app."""
    E = _Endpoint
    table = [
        ("/", {"GET": E(api.root, public=True)}),
        ("/docker/running", {"GET": E(api.docker_running)}),
        ("/docker/active-containers", {"GET": E(api.active_containers)}),
        ("/docker/exited-containers", {"GET": E(api.exited_containers)}),
        ("/docker/stop-container/{container_name}", {"POST": E(api.stop_container)}),
        ("/docker/start-container/{container_name}", {"POST": E(api.start_container)}),
        ("/accounts/", {"GET": E(api.list_accounts)}),
        ("/accounts/{account_name}/credentials", {"GET": E(api.account_credentials)}),
        ("/accounts/add-account", {"POST": E(api.add_account)}),
        ("/accounts/delete-account", {"POST": E(api.delete_account)}),
        ("/accounts/delete-credential/{account_name}/{connector_name}",
         {"POST": E(api.delete_credential)}),
        ("/accounts/add-credential/{account_name}/{connector_name}",
         {"POST": E(api.add_credential, body=True)}),
        ("/connectors/", {"GET": E(api.list_connectors)}),
        ("/portfolio/state", {"POST": E(lambda request: _Reply(200, api.state.portfolio.state(
            None if request.body is _NO_BODY else request.body, accounts=api.state.list_accounts())), body=True)}),
        ("/connectors/{connector_name}/config-map", {"GET": E(api.connector_config_map)}),
        ("/bot-orchestration/status", {"GET": E(api.all_status)}),
        ("/bot-orchestration/mqtt", {"GET": E(api.mqtt)}),
        ("/bot-orchestration/{bot_name}/status", {"GET": E(api.bot_status)}),
        ("/bot-orchestration/{bot_name}/history", {"GET": E(api.history)}),
        ("/bot-orchestration/start-bot", {"POST": E(api.start_bot, body=True)}),
        ("/bot-orchestration/stop-bot", {"POST": E(api.stop_bot, body=True)}),
        ("/bot-orchestration/stop-and-archive-bot/{bot_name}", {"POST": E(api.stop_and_archive)}),
        ("/bot-orchestration/deploy-v2-controllers", {"POST": E(api.deploy, body=True)}),
        ("/controllers/", {"GET": E(api.list_controllers)}),
        ("/controllers/configs/", {"GET": E(api.list_configs)}),
        ("/controllers/configs/{config_name}", {
            "GET": E(api.get_config), "POST": E(api.save_config, body=True),
            "DELETE": E(api.delete_config)}),
        ("/controllers/{controller_type}/{controller_name}", {
            "GET": E(api.get_controller), "POST": E(api.save_controller, body=True)}),
        ("/controllers/{controller_type}/{controller_name}/config/validate",
         {"POST": E(api.validate_config, body=True)}),
        ("/controllers/bots/{bot_name}/configs", {"GET": E(api.bot_controller_configs)}),
        ("/controllers/bots/{bot_name}/{controller_name}/config",
         {"POST": E(api.update_bot_controller_config, body=True)}),
        ("/archived-bots/", {"GET": E(api.archived_list)}),
        ("/archived-bots/{db_path:path}/status", {"GET": E(api.archived_status)}),
        ("/archived-bots/{db_path:path}/summary", {"GET": E(api.archived_summary)}),
        ("/archived-bots/{db_path:path}/trades", {"GET": E(api.archived_trades)}),
        ("/archived-bots/{db_path:path}/orders", {"GET": E(api.archived_orders)}),
        ("/_sandbox/state", {"GET": E(api.sandbox_state)}),
        ("/_sandbox/faults", {"POST": E(api.add_fault, body=True), "DELETE": E(api.clear_faults)}),
        ("/_sandbox/bots/{bot_name}/fills", {"POST": E(api.add_fills, body=True)}),
        ("/_sandbox/spawn", {"POST": E(api.spawn, body=True)}),
    ]
    return [_Route(_compile(pattern), methods) for pattern, methods in table]


_REFUSE = object()  # close the connection without answering
_FAULT_REPLIES = {
    "500": _INTERNAL_ERROR,
    "401": _unauthorized("Incorrect username or password"),
    "nonjson": _Reply(200, "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
                          "<body><h1>502 Bad Gateway</h1><p>Sandbox fault</p></body></html>", "html"),
    "error200": _Reply(200, {"status": "error", "message": "Sandbox fault"}),
}


class _App:
    """Faults, routing, auth and dispatch, in the order the real stack applies them."""

    def __init__(self, state: SandboxState, config: SandboxConfig):
        self.state = state
        self.config = config
        self.routes = _routes(_Endpoints(state))

    def handle(self, method: str, path: str, query: dict, raw_body: bytes, headers) -> Any:
        if not path.startswith("/_sandbox/"):  # faults must never lock out their own controls
            fault = self.state.take_fault(method, path)
            if fault is not None:
                fault.arrived.set()
                if fault.kind != "delay":
                    fault.handled.set()
                    return _REFUSE if fault.kind == "refuse" else _FAULT_REPLIES[fault.kind]
                fault.released.wait(fault.seconds)
                try:
                    return self._answer(method, path, query, raw_body, headers)
                finally:
                    fault.handled.set()
        return self._answer(method, path, query, raw_body, headers)

    def _answer(self, method, path, query, raw_body, headers) -> _Reply:
        try:
            return self._dispatch(method, path, query, raw_body, headers)
        except _ApiError as exc:
            return exc.reply
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return _INTERNAL_ERROR

    def _dispatch(self, method, path, query, raw_body, headers) -> _Reply:
        endpoint, params, allowed = self._match(method, path)
        if endpoint is None and allowed:
            return _Reply(405, {"detail": "Method Not Allowed"},
                         headers=(("Allow", ", ".join(allowed)),))
        if endpoint is None:
            return _Reply(404, {"detail": "Not Found"})
        body = _parse_json(raw_body) if endpoint.body else _NO_BODY
        if not endpoint.public:
            failure = self._auth_failure(headers.get("Authorization"))
            if failure is not None:
                return failure
        return endpoint.handler(_Request(method, path, params, query, body))

    def _match(self, method: str, path: str):
        """Starlette: the first full match wins; a path-only match means 405."""
        allowed = None
        for route in self.routes:
            match = route.regex.fullmatch(path)
            if match is None:
                continue
            if method in route.methods:
                return route.methods[method], match.groupdict(), None
            allowed = allowed or list(route.methods)
        return None, None, allowed

    def _auth_failure(self, header: str | None) -> _Reply | None:
        """FastAPI's HTTPBasic plus the API's constant-time credentials check."""
        scheme, _, encoded = (header or "").partition(" ")
        if not header or scheme.lower() != "basic":
            return _unauthorized("Not authenticated")
        try:
            decoded = base64.b64decode(encoded).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            return _unauthorized("Invalid authentication credentials")
        username, separator, password = decoded.partition(":")
        if not separator:
            return _unauthorized("Invalid authentication credentials")
        user_ok = hmac.compare_digest(username.encode(), self.config.username.encode())
        password_ok = hmac.compare_digest(password.encode(), self.config.password.encode())
        if user_ok and password_ok:
            return None
        return _unauthorized("Incorrect username or password")


# --------------------------------------------------------------------------- HTTP server

_CONTENT_TYPES = {"json": "application/json", "text": "text/plain; charset=utf-8",
                  "html": "text/html; charset=utf-8"}


class _HttpHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # drop idle keep-alive connections
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid the ACK stall
    server: "_Server"

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_PUT(self):
        self._serve("PUT")

    def do_PATCH(self):
        self._serve("PATCH")

    def do_DELETE(self):
        self._serve("DELETE")

    def version_string(self):
        return "uvicorn"

    def log_message(self, format, *args):
        """Silenced: _serve logs one line per request, without headers or bodies."""

    def _serve(self, method: str):
        split = urlsplit(self.path)
        path = unquote(split.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))  # last value wins
        raw_body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        reply = self.server.app.handle(method, path, query, raw_body, self.headers)
        if reply is _REFUSE:
            self.close_connection = True
            self._log(method, path, "refused")
            return
        try:
            self._send(reply)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up first (its own timeout)
            self.close_connection = True
            self._log(method, path, "client gone")
            return
        self._log(method, path, reply.status)

    def _send(self, reply: _Reply):
        if reply.kind == "json":
            payload = json.dumps(reply.body, ensure_ascii=False, allow_nan=False,
                                 separators=(",", ":")).encode()
        else:
            payload = reply.body.encode()
        self.send_response(reply.status)
        self.send_header("content-type", _CONTENT_TYPES[reply.kind])
        self.send_header("content-length", str(len(payload)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _log(self, method: str, path: str, outcome):
        if self.server.app.config.log_requests:
            sys.stderr.write(f"[sandbox] {method} {path} {outcome}\n")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, app: _App):
        super().__init__(address, _HttpHandler)
        self.app = app


class Sandbox:
    """A running sandbox server; stop() it, or use it as a context manager."""

    def __init__(self, server: _Server, state: SandboxState):
        self.state = state
        self._server = server
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,),
                                        name="hummingbot-sandbox", daemon=True)
        self._thread.start()

    def stop(self):
        if not self._thread.is_alive():
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc_info):
        self.stop()


def start_sandbox(config: SandboxConfig | None = None, *,
                  state: SandboxState | None = None) -> Sandbox:
    """Serve the sandbox in a background thread; `config.port=0` picks a free port."""
    config = config or (state.config if state else SandboxConfig())
    state = state or SandboxState(config)
    server = _Server((config.host, config.port), _App(state, config))
    return Sandbox(server, state)


# --------------------------------------------------------------------------- command line


@contextmanager
def _until_stop_signal():
    """Ctrl-C (SIGINT) and SIGTERM (how `make demo` stops its children) both end the block cleanly.

    Installed explicitly: a background job of a non-interactive shell starts with SIGINT ignored,
    `exec` keeps that, and Python then never raises KeyboardInterrupt. The previous handlers come
    back afterwards, so an in-process caller keeps its own.
    """
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, signal.default_int_handler) for signum in stop_signals}
    try:
        yield
    except KeyboardInterrupt:
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: list[str] | None = None):
    defaults = SandboxConfig()
    parser = argparse.ArgumentParser(
        prog="python -m bots.hummingbot.sandbox",
        description="Run the hummingbot-api SANDBOX (an emulator; it never trades).")
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--port", type=int, default=defaults.port)
    parser.add_argument("--username", default=os.environ.get("HUMMINGBOT_API_USERNAME",
                                                             defaults.username))
    parser.add_argument("--password", default=os.environ.get("HUMMINGBOT_API_PASSWORD",
                                                             defaults.password))
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--archive-delay", type=float, default=defaults.archive_delay)
    parser.add_argument("--mqtt-linger", type=float, default=defaults.mqtt_linger)
    parser.add_argument("--fill-interval", type=float, default=defaults.fill_interval)
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    args = parser.parse_args(argv)
    config = SandboxConfig(host=args.host, port=args.port, username=args.username,
                           password=args.password, seed=args.seed,
                           archive_delay=args.archive_delay, mqtt_linger=args.mqtt_linger,
                           fill_interval=args.fill_interval, log_requests=not args.quiet)
    with _until_stop_signal():
        sandbox = start_sandbox(config)
        try:
            print(f"hummingbot-api SANDBOX (emulator, no real bots or exchanges) on {sandbox.url} "
                  f"- user '{config.username}', seed {config.seed}, archive delay {config.archive_delay}s, "
                  f"fill interval {config.fill_interval}s", flush=True)
            while True:
                time.sleep(3600)
        finally:
            sandbox.stop()


if __name__ == "__main__":
    main()
