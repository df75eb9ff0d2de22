"""Pydantic-style validation as the real server's FastAPI models answer it (422 error lists, the 400 text
of /config/validate), the controller config classes it validates deploys with, and the request bodies."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, NamedTuple

from .config import _FALLBACK_MARKET, _SAFE_NAME, CONTROLLER_TYPES, FAULT_KINDS

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
# An uploaded module's config class comes from its content, never from its file name: the API and the bot import
# controllers.<type>.<name> and take the first ControllerConfigBase subclass inspect.getmembers lists, by class name
# (api:utils/file_system.py load_controller_config_class; hb:hummingbot/strategy/strategy_v2_base.py).
_CONFIG_CLASS_RE = re.compile(r"^class\s+(\w+)\s*\(\s*\w*ControllerConfigBase\s*\)\s*:", re.MULTILINE)
_UPLOADED_CLASSES = {"VolumeTakerConfig": _ConfigClass(_VOLUME_TAKER, _VOLUME_TAKER)}


def _uploaded_config_class(content: str) -> _ConfigClass | None:
    """The config class a module of this source defines (one the sandbox does not model validates anything);
    None when it defines none."""
    found = sorted(_CONFIG_CLASS_RE.findall(content))
    if not found:
        return None
    return _UPLOADED_CLASSES.get(found[0], _ConfigClass(_OPAQUE, _OPAQUE))


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

_PRICE_REQUEST = _Schema("PriceRequest", {
    "connector_name": _Field(_str),
    "trading_pairs": _Field(_list_of(_str)),
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
