"""Strategies: validated bot parameters -> the controller config dict Hummingbot accepts.

Pure functions: no I/O (except reading our own fixed controller file), no models, no HTTP.
Facts come from docs/hummingbot-strategies.md (sections b, c, d, e).

Parameters are in desk units: names ending ``_pct`` are percentages (0.5 means 0.5 %),
amounts are in the quote asset unless the table says base. They are parsed **once**
(``parse_bot`` / ``parse_params``) into a frozen ``SpreadParams`` or ``VolumeParams`` of
Decimals, ints, bools and tuples ("off" is None). ``to_json()`` gives the Bot row's form
(decimals as normalised strings) and parsing that JSON gives back equal values;
``controller_config`` and ``deploy_limits`` render from the typed values and check nothing again.

Every decimal is bounded when it is parsed, before any arithmetic: numeric strings of at most 64
characters, no NaN/Infinity, no bools; the range is checked first (comparisons are exact for any
exponent, so "1e999999" is a range error); then at most 18 decimal places (the Decimal(38, 18)
columns; percentages 16, so their fractions fit in 18) and 28 significant digits (Decimal's default
precision, beyond which the controller's arithmetic rounds). A value finer than the smallest step
is refused with that step in the message, never rounded.

spread -> generic/pmm_v1 (exchange connectors only: plain limit orders around mid)

==============================  =========  =======================  =========  ====  ===============================
parameter                       unit       range                    default    live  controller key
==============================  =========  =======================  =========  ====  ===============================
order_amount                    base       > 0, <= 1e12             required   yes   order_amount (per level)
buy_spreads_pct                 %          1-5 items, 0.01-20 each  [0.5]      yes   buy_spreads (fractions)
sell_spreads_pct                %          1-5 items, 0.01-20 each  [0.5]      yes   sell_spreads (fractions)
order_refresh_time              s (int)    5-3600                   30         yes   order_refresh_time
order_refresh_tolerance_pct     %          0-10                     0.2        yes   order_refresh_tolerance_pct
filled_order_delay              s (int)    0-3600                   60         yes   filled_order_delay
inventory_skew_enabled          bool                                true       yes   inventory_skew_enabled
target_base_pct                 %          0-100                    50         yes   target_base_pct (fraction)
inventory_range_multiplier      x          0.1-10                   1          yes   inventory_range_multiplier
price_floor                     quote      > 0, < price_ceiling     off        yes   price_floor (-1 = off)
price_ceiling                   quote      > 0, > price_floor       off        yes   price_ceiling (-1 = off)
budget_quote                    quote      > 0, <= 10,000,000       required   no    total_amount_quote
max_loss_quote                  quote      > 0, <= budget_quote     off        no    deploy max_controller_drawdown
no_fill_alert_minutes           minutes    0-10080 (0 = off)        60         yes   none: the bridge's no-fill alert
==============================  =========  =======================  =========  ====  ===============================

pmm_v1 sizes every level with ``order_amount`` and has no per-level weights
(no ``buy_amounts_pct``/``sell_amounts_pct`` field; its config forbids unknown keys).

volume -> generic/volume_taker_<sha256[:8]> (our reviewed controller, bots/controllers/volume_taker.py, stored
upstream under a name that carries its content's digest; exchanges and Gateway networks)

==============================  =========  =======================  =========  ====  ===============================
parameter                       unit       range                    default    live  controller key
==============================  =========  =======================  =========  ====  ===============================
total_amount_quote              quote      > 0, <= 10,000,000       required   no    total_amount_quote (budget cap)
order_amount_quote              quote      > 0, <= total            required   yes   order_amount_quote
order_interval                  s (int)    5-86400                  60         yes   order_interval
min_price                       quote      > 0, < max_price         required   yes   min_price
max_price                       quote      > min_price              required   yes   max_price
max_book_spread_pct             %          0.01-50                  2          yes   max_book_spread_pct (fraction)
order_timeout                   s (int)    5-3600                   30         yes   order_timeout
max_loss_quote                  quote      > 0, <= total            off        no    deploy max_controller_drawdown
max_slippage_pct                %          0.01-10                  0.5        yes   max_slippage (fraction; limit
                                                                                     price cap from the touch)
max_leg_pct                     % of total 0.1-100                  10         no    max_leg_fraction (fraction)
taker_fee_pct                   %          0-5                      0.25       no    fee_rate (fraction; fees count
                                                                                     against the budget)
max_empty_legs                  count      1-100                    5          yes   max_empty_legs (stop after this
                                (int)                                                many legs in a row fill nothing)
no_fill_alert_minutes           minutes    0-10080 (0 = off)        15         yes   none: the bridge's no-fill alert
==============================  =========  =======================  =========  ====  ===============================

Cross-field: order_amount_quote <= total_amount_quote * max_leg_pct / 100.

``no_fill_alert_minutes`` is the bridge's own: a running bot with no fill for that long raises an alert
(bots/services/alerts.py); its default per strategy follows how often each one trades. It never reaches Hummingbot.

"live": the parameter can change on a running bot (``live_change``): its controller field is marked
``is_updatable``, which is all a running bot applies (docs/hummingbot-api.md §4.1). The others apply only at start:
stop the bot, change it, start it again. Connector, pair and strategy never change on a bot. pmm_v1's marks are
upstream's; volume_taker's are ours, chosen like a desk: pacing, band and filters are live; the money limits are not.
The budget (total_amount_quote), the leg cap (max_leg_pct) and the fee estimate the budget counts with
(taker_fee_pct) are the bounds that make the controller safe: growing them is a money decision that deserves a
stop and a fresh review, shrinking them gains nothing over Stop, and leaving them unmarked means no POST to
Hummingbot, ours or anyone's, can raise them under a running bot. order_amount_quote is live because every leg
stays capped by max_leg_pct of the budget; a wider price band changes where legs may trade, never how much.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, fields
from decimal import Decimal, localcontext
from functools import cache
from pathlib import Path
from typing import Any, Callable, Literal, NamedTuple

# --- connectors ------------------------------------------------------------------------------

# Gateway connectors (DEX routers/pools) -> the Gateway network id that a controller's
# connector_name must carry (docs/hummingbot-strategies.md d; defaults per chain as Condor picks them).
GATEWAY_NETWORKS: dict[str, str] = {
    "jupiter": "solana-mainnet-beta",
    "raydium": "solana-mainnet-beta",
    "meteora": "solana-mainnet-beta",
    "orca": "solana-mainnet-beta",
    "uniswap": "ethereum-mainnet",
    "0x": "ethereum-mainnet",
    "pancakeswap": "ethereum-bsc",
    "quickswap": "ethereum-polygon",
    "traderjoe": "ethereum-avalanche",
}

_CONNECTOR_RE = re.compile(r"[a-z0-9_]{1,64}")
_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")  # docs/hummingbot-strategies.md e: config names == ids, used as file names
_PAIR_PART = {"exchange": r"[A-Za-z0-9]{1,32}", "gateway": r"[A-Za-z0-9]{1,64}"}


# Gateway names its chains so (every EVM chain is `ethereum`); a network id is `<chain>-<network>`.
GATEWAY_CHAINS = ("solana", "ethereum")


def venue_for(connector: str) -> Literal["exchange", "gateway"]:
    return "gateway" if network_for(connector) else "exchange"


def network_for(connector: str) -> str | None:
    """Gateway network id for a gateway connector, None for an exchange. A network id is its own network: a
    controller config names the network, not the DEX (docs/hummingbot-strategies.md d), and that is all a bot
    made elsewhere tells us."""
    chain, _, network = connector.partition("-")
    return GATEWAY_NETWORKS.get(connector) or (connector if chain in GATEWAY_CHAINS and network else None)


def chain_for(connector: str) -> Literal["solana", "evm"]:
    """The seed's chain value kept for the frontend: jupiter... or a Solana network -> solana."""
    network = network_for(connector) or ""
    return "solana" if connector.startswith("jupiter") or network.startswith("solana-") else "evm"


# --- errors ------------------------------------------------------------------------------------


class ParamsError(ValueError):
    """Invalid input; ``errors`` maps each field to a message a person can act on."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


class _Invalid(ValueError):
    """One field's problem; collected into ParamsError."""


def clean_connector(connector: Any) -> str:
    text = connector.strip().lower() if isinstance(connector, str) else ""
    if not _CONNECTOR_RE.fullmatch(text):
        raise ParamsError({"connector": "Connector must be a Hummingbot connector name such as bitmart "
                                        "or jupiter (lower-case letters, digits and _)"})
    return text


def clean_trading_pair(connector: str, pair: Any) -> str:
    """BASE-QUOTE for a cleaned connector name; upper-cased on exchanges, case kept on Gateway
    (mint addresses are case-sensitive)."""
    venue = venue_for(connector)
    text = pair.strip() if isinstance(pair, str) else ""
    part = _PAIR_PART[venue]
    if not re.fullmatch(f"{part}-{part}", text):
        raise ParamsError({"trading_pair": "Trading pair must look like BASE-QUOTE, e.g. SHARP-USDT"})
    return text.upper() if venue == "exchange" else text


# --- parameter specs -----------------------------------------------------------------------------

_REQUIRED = object()
_NUMBER_RE = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")  # ASCII digits only
_D = Decimal
MAX_BUDGET = _D("10000000")
MAX_SIZE = _D("1000000000000")  # prices and base amounts: generous, but finite
MAX_TEXT = 64  # characters of a numeric string
# Decimal's default precision: with more digits the controller's arithmetic (and normalize) would round.
MAX_DIGITS = 28
PLACES = 18  # the Decimal(38, 18) columns; percentages keep 2 fewer so their fractions fit too


def _fmt(value: Decimal) -> str:
    # "or" turns -0 (falsy) into 0; format "f" avoids exponent notation such as 1E+2.
    # Only for bounded values (see _Number.clean): "f" writes every digit of the exponent.
    return format(value.normalize() or _D(0), "f")


def _decimal(raw: Any, label: str) -> Decimal:
    """A finite Decimal from a JSON number or a plain numeric string; bools and anything else refused.

    Building the Decimal is cheap whatever the exponent ("1e-999990"); nothing here does arithmetic.
    """
    if isinstance(raw, bool) or not isinstance(raw, (int, float, Decimal, str)):
        raise _Invalid(f"{label} must be a number")
    if isinstance(raw, str):
        raw = raw.strip()
        if len(raw) > MAX_TEXT:
            raise _Invalid(f"{label} must be a number of at most {MAX_TEXT} characters")
        if not _NUMBER_RE.fullmatch(raw):
            raise _Invalid(f"{label} must be a number")
    value = _D(repr(raw)) if isinstance(raw, float) else _D(raw)
    if not value.is_finite():
        raise _Invalid(f"{label} must be a finite number")
    return value


def _without_trailing_zeros(value: Decimal) -> Decimal:
    """The same number with the fewest digits (1.50 -> 1.5, 1E+3 stays), exact: no context rounding."""
    sign, digits, exponent = value.as_tuple()
    end = len(digits)
    while end > 1 and digits[end - 1] == 0:
        end -= 1
    return _D((sign, digits[:end], exponent + len(digits) - end))


def _show(value: Decimal, unit: str) -> str:
    return f"{value:,}{unit}"


@dataclass(frozen=True)
class _Number:
    label: str
    low: Decimal
    high: Decimal
    low_open: bool = False  # True: value must be greater than low
    unit: str = ""
    integer: bool = False
    default: Any = _REQUIRED  # None: optional, off when not given
    places: int = PLACES

    def clean(self, raw: Any) -> Decimal | int | None:
        raw = self.default if raw is None else raw
        if raw is None:
            return None
        if raw is _REQUIRED:
            raise _Invalid(f"{self.label} is required")
        value = _decimal(raw, self.label)
        # Comparisons first: they are exact for any exponent, so "1e999999" is a range error, not a 1 MB string.
        above_low = value > self.low if self.low_open else value >= self.low
        if not (above_low and value <= self.high):
            raise _Invalid(self._range_message())
        if self.integer:
            if value != value.to_integral_value():
                raise _Invalid(f"{self.label} must be a whole number")
            return int(value)
        if not value:
            return _D(0)
        value = _without_trailing_zeros(value)
        _, digits, exponent = value.as_tuple()
        if -exponent > self.places:
            raise _Invalid(f"{self.label} has more than {self.places} decimal places: "
                           f"the smallest step is {_D(1).scaleb(-self.places):f}")
        if len(digits) > MAX_DIGITS:
            raise _Invalid(f"{self.label} has more than {MAX_DIGITS} significant digits")
        return value

    def _range_message(self) -> str:
        low, high = _show(self.low, self.unit), _show(self.high, self.unit)
        if self.low_open:
            return f"{self.label} must be greater than {low} and at most {high}"
        return f"{self.label} must be between {low} and {high}"


@dataclass(frozen=True)
class _NumberList:
    label: str
    item: _Number
    default: tuple
    max_items: int = 5

    def clean(self, raw: Any) -> tuple:
        raw = self.default if raw is None else raw
        if not isinstance(raw, (list, tuple)) or not 1 <= len(raw) <= self.max_items:
            raise _Invalid(f"{self.label} must be a list of 1 to {self.max_items} numbers, e.g. [0.5, 1]")
        return tuple(self.item.clean(value) for value in raw)


@dataclass(frozen=True)
class _Flag:
    label: str
    default: bool

    def clean(self, raw: Any) -> bool:
        raw = self.default if raw is None else raw
        if not isinstance(raw, bool):
            raise _Invalid(f"{self.label} must be true or false")
        return raw


class _Ordering(NamedTuple):
    """Cross-field rule: params[low] < params[high] (strict) or <=, where high is scaled by
    params[share_pct] % when given; the message (formatted with the values) goes on ``field``."""

    field: str
    low: str
    high: str
    strict: bool
    message: str
    share_pct: str | None = None

    def broken_by(self, values: dict) -> bool:
        low, high = values.get(self.low), values.get(self.high)
        share = 100 if self.share_pct is None else values.get(self.share_pct)
        if low is None or high is None or share is None:
            return False  # missing, off, or already reported
        with localcontext(prec=2 * MAX_DIGITS + 4):  # products of bounded values are exact
            low, high = low * 100, high * share
        return low > high or (self.strict and low == high)


def _spread_pct(side: str) -> _NumberList:
    return _NumberList(f"{side} spreads", _percent(f"each {side} spread", "0.01", "20", default=_REQUIRED),
                       default=("0.5",))


def _positive(label: str, high: Decimal, default: Any = _REQUIRED) -> _Number:
    return _Number(label, _D(0), high, low_open=True, default=default)


def _seconds(label: str, low: int, high: int, default: int) -> _Number:
    return _Number(label, _D(low), _D(high), unit=" s", integer=True, default=default)


def _count(label: str, low: int, high: int, default: int) -> _Number:
    return _Number(label, _D(low), _D(high), integer=True, default=default)


def _percent(label: str, low: str, high: str, default: str) -> _Number:
    return _Number(label, _D(low), _D(high), unit="%", default=default, places=PLACES - 2)


# The bridge's own parameters: no controller key, never sent to Hummingbot (alerts, bots/services/alerts.py).
BRIDGE_PARAMS = frozenset({"no_fill_alert_minutes"})

SPREAD_PARAMS = {
    "order_amount": _positive("order amount", MAX_SIZE),
    "buy_spreads_pct": _spread_pct("buy"),
    "sell_spreads_pct": _spread_pct("sell"),
    "order_refresh_time": _seconds("order refresh time", 5, 3600, 30),
    "order_refresh_tolerance_pct": _percent("order refresh tolerance", "0", "10", "0.2"),
    "filled_order_delay": _seconds("filled order delay", 0, 3600, 60),
    "inventory_skew_enabled": _Flag("inventory skew", default=True),
    "target_base_pct": _percent("target base share", "0", "100", "50"),
    "inventory_range_multiplier": _Number("inventory range multiplier", _D("0.1"), _D("10"), default="1"),
    "price_floor": _positive("price floor", MAX_SIZE, default=None),
    "price_ceiling": _positive("price ceiling", MAX_SIZE, default=None),
    "budget_quote": _positive("budget", MAX_BUDGET),
    "max_loss_quote": _positive("max loss", MAX_BUDGET, default=None),
    "no_fill_alert_minutes": _count("no-fill alert", 0, 10_080, 60),
}

VOLUME_PARAMS = {
    "total_amount_quote": _positive("total budget", MAX_BUDGET),
    "order_amount_quote": _positive("order amount", MAX_BUDGET),
    "order_interval": _seconds("order interval", 5, 86400, 60),
    "min_price": _positive("min price", MAX_SIZE),
    "max_price": _positive("max price", MAX_SIZE),
    "max_book_spread_pct": _percent("max book spread", "0.01", "50", "2"),
    "order_timeout": _seconds("order timeout", 5, 3600, 30),
    "max_loss_quote": _positive("max loss", MAX_BUDGET, default=None),
    "max_slippage_pct": _percent("max slippage", "0.01", "10", "0.5"),
    "max_leg_pct": _percent("max leg", "0.1", "100", "10"),
    "taker_fee_pct": _percent("taker fee", "0", "5", "0.25"),
    "max_empty_legs": _count("max empty legs", 1, 100, 5),
    "no_fill_alert_minutes": _count("no-fill alert", 0, 10_080, 15),
}

# --- typed parameters ------------------------------------------------------------------------------


class _Params:
    """The typed values of one strategy; fields in the order of its table above."""

    def to_json(self) -> dict:
        """The Bot row's form: decimals as normalised strings, tuples as lists, None for "off"."""
        return {field.name: _to_json(getattr(self, field.name)) for field in fields(self)}


def _to_json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _fmt(value)
    if isinstance(value, tuple):
        return [_to_json(item) for item in value]
    return value


@dataclass(frozen=True, kw_only=True)
class SpreadParams(_Params):
    order_amount: Decimal
    buy_spreads_pct: tuple[Decimal, ...]
    sell_spreads_pct: tuple[Decimal, ...]
    order_refresh_time: int
    order_refresh_tolerance_pct: Decimal
    filled_order_delay: int
    inventory_skew_enabled: bool
    target_base_pct: Decimal
    inventory_range_multiplier: Decimal
    price_floor: Decimal | None
    price_ceiling: Decimal | None
    budget_quote: Decimal
    max_loss_quote: Decimal | None
    no_fill_alert_minutes: int


@dataclass(frozen=True, kw_only=True)
class VolumeParams(_Params):
    total_amount_quote: Decimal
    order_amount_quote: Decimal
    order_interval: int
    min_price: Decimal
    max_price: Decimal
    max_book_spread_pct: Decimal
    order_timeout: int
    max_loss_quote: Decimal | None
    max_slippage_pct: Decimal
    max_leg_pct: Decimal
    taker_fee_pct: Decimal
    max_empty_legs: int
    no_fill_alert_minutes: int


Params = SpreadParams | VolumeParams

# --- controller configs --------------------------------------------------------------------------


def _fraction(percent: Decimal) -> str:
    return _fmt(percent / 100)


def _price_or_off(price: Decimal | None) -> str:
    return "-1" if price is None else _fmt(price)  # pmm_v1: -1 disables the band


def _pmm_v1_fields(connector: str, params: SpreadParams) -> dict:
    return {
        "connector_name": connector,
        "total_amount_quote": _fmt(params.budget_quote),  # informational in pmm_v1; sizing is order_amount
        "order_amount": _fmt(params.order_amount),
        "buy_spreads": [_fraction(s) for s in params.buy_spreads_pct],
        "sell_spreads": [_fraction(s) for s in params.sell_spreads_pct],
        "order_refresh_time": params.order_refresh_time,
        "order_refresh_tolerance_pct": _fraction(params.order_refresh_tolerance_pct),
        "filled_order_delay": params.filled_order_delay,
        "inventory_skew_enabled": params.inventory_skew_enabled,
        "target_base_pct": _fraction(params.target_base_pct),
        "inventory_range_multiplier": _fmt(params.inventory_range_multiplier),
        "price_floor": _price_or_off(params.price_floor),
        "price_ceiling": _price_or_off(params.price_ceiling),
    }


def _volume_taker_fields(connector: str, params: VolumeParams) -> dict:
    return {
        # Gateway executors take the network id, not the DEX name (docs/hummingbot-strategies.md d).
        "connector_name": network_for(connector) or connector,
        "total_amount_quote": _fmt(params.total_amount_quote),
        "order_amount_quote": _fmt(params.order_amount_quote),
        "order_interval": params.order_interval,
        "min_price": _fmt(params.min_price),
        "max_price": _fmt(params.max_price),
        "max_book_spread_pct": _fraction(params.max_book_spread_pct),
        "order_timeout": params.order_timeout,
        "max_slippage": _fraction(params.max_slippage_pct),
        "max_leg_fraction": _fraction(params.max_leg_pct),
        "fee_rate": _fraction(params.taker_fee_pct),
        "max_empty_legs": params.max_empty_legs,
    }


@dataclass(frozen=True)
class _Strategy:
    controller: tuple[str, str]  # (type, module); a versioned one is stored as <module>_<sha256[:8]>
    params: dict
    typed: type
    orderings: tuple[_Ordering, ...]
    build: Callable[[str, Any], dict]  # canonical connector, typed params -> strategy-specific config keys
    live: frozenset[str]  # parameters whose controller fields are is_updatable (the table's "live" column)
    gateway_ok: bool = True
    versioned: bool = False  # our reviewed file, trusted by content: a bot names the version it was deployed with


STRATEGIES = {
    "spread": _Strategy(
        controller=("generic", "pmm_v1"),
        params=SPREAD_PARAMS,
        typed=SpreadParams,
        orderings=(
            _Ordering("price_ceiling", "price_floor", "price_ceiling", True,
                      "price ceiling must be above the price floor"),
            _Ordering("max_loss_quote", "max_loss_quote", "budget_quote", False,
                      "max loss must not exceed the budget"),
        ),
        build=_pmm_v1_fields,
        live=frozenset(SPREAD_PARAMS) - {"budget_quote", "max_loss_quote"},
        gateway_ok=False,
    ),
    "volume": _Strategy(
        controller=("generic", "volume_taker"),
        params=VOLUME_PARAMS,
        typed=VolumeParams,
        orderings=(
            _Ordering("order_amount_quote", "order_amount_quote", "total_amount_quote", False,
                      "order amount must not exceed the total budget"),
            _Ordering("order_amount_quote", "order_amount_quote", "total_amount_quote", False,
                      "order amount must be at most max leg ({max_leg_pct}%) of the total budget "
                      "({total_amount_quote}): lower order_amount_quote or raise max_leg_pct",
                      share_pct="max_leg_pct"),
            _Ordering("max_price", "min_price", "max_price", True, "max price must be above min price"),
            _Ordering("max_loss_quote", "max_loss_quote", "total_amount_quote", False,
                      "max loss must not exceed the total budget"),
        ),
        build=_volume_taker_fields,
        live=frozenset(VOLUME_PARAMS) - {"total_amount_quote", "max_leg_pct", "taker_fee_pct", "max_loss_quote"},
        versioned=True,
    ),
}
_STRATEGY_OF_TYPE = {spec.typed: name for name, spec in STRATEGIES.items()}


def _swap_only_message(connector: str) -> str:
    return (f"{connector} is a Gateway connector: Gateway connectors like jupiter only swap at market and "
            "cannot hold resting limit orders, so spread (market making) cannot run there. "
            "Use the volume strategy instead.")


def _strategy_spec(strategy: Any) -> _Strategy:
    spec = STRATEGIES.get(strategy) if isinstance(strategy, str) else None
    if spec is None:
        raise ParamsError({"strategy": "Strategy must be one of: " + ", ".join(STRATEGIES)})
    return spec


def _clean_values(spec: _Strategy, raw: dict, errors: dict[str, str]) -> dict:
    cleaned = {}
    for name in raw.keys() - spec.params.keys():
        shown = str(name)[:64]
        errors[shown] = f"unknown parameter '{shown}'"
    for name, param in spec.params.items():
        try:
            cleaned[name] = param.clean(raw.get(name))
        except _Invalid as exc:
            errors[name] = str(exc)
    for rule in spec.orderings:
        if rule.broken_by(cleaned):
            errors.setdefault(rule.field, rule.message.format(**{k: _to_json(v) for k, v in cleaned.items()}))
    return cleaned


def parse_params(strategy: str, raw: Any) -> Params:
    """A strategy's parameters (desk input or a stored ``to_json()``) -> typed values.

    Raises ParamsError naming every field with a problem.
    """
    spec = _strategy_spec(strategy)
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise ParamsError({"params": "Parameters must be an object of name: value"})
    errors: dict[str, str] = {}
    cleaned = _clean_values(spec, raw, errors)
    if errors:
        raise ParamsError(errors)
    return spec.typed(**cleaned)


@dataclass(frozen=True)
class BotSetup:
    """What a new bot runs: canonical connector, its pair rules applied, typed parameters."""

    strategy: str
    connector: str
    trading_pair: str
    params: Params


def _collect(errors: dict[str, str], parse: Callable, *args: Any) -> Any:
    """Run one parser; on ParamsError record its messages and return None."""
    try:
        return parse(*args)
    except ParamsError as exc:
        errors.update(exc.errors)
        return None


def parse_bot(*, strategy: str, connector: Any, trading_pair: Any, params: Any) -> BotSetup:
    """Parse a new bot's input once; raise ParamsError with every problem found."""
    errors: dict[str, str] = {}
    connector = _collect(errors, clean_connector, connector) or ""
    pair = _collect(errors, clean_trading_pair, connector, trading_pair)
    spec = _collect(errors, _strategy_spec, strategy)
    if spec is not None and not spec.gateway_ok and venue_for(connector) == "gateway":
        errors["strategy"] = _swap_only_message(connector)
    if "strategy" in errors:
        # The parameters belong to a strategy that cannot run here: checking them would only add noise.
        raise ParamsError(errors)
    typed = _collect(errors, parse_params, strategy, params)
    if errors:
        raise ParamsError(errors)
    return BotSetup(strategy=strategy, connector=connector, trading_pair=pair, params=typed)


# --- the tables as data (GET /strategies, the API schema, the panel's labels) ------------------------

# The unit column of the tables above where the name does not say it (``_pct``: %, ``_quote``: quote).
PARAM_UNITS = {"order_amount": "base", "price_floor": "quote", "price_ceiling": "quote", "min_price": "quote",
               "max_price": "quote", "inventory_range_multiplier": "×", "max_empty_legs": "legs",
               "no_fill_alert_minutes": "minutes"}


def param_unit(name: str, param: Any) -> str:
    """A parameter's unit as the tables above give it (a list's: its items')."""
    param = getattr(param, "item", param)
    if name in PARAM_UNITS:
        return PARAM_UNITS[name]
    if name.endswith("_pct"):
        return "%"
    if name.endswith("_quote"):
        return "quote"
    return "seconds" if getattr(param, "unit", "") == " s" else ""


def _param_facts(name: str, param: Any, live: frozenset[str]) -> dict:
    """key, label, type, unit, range, default and whether it changes live; numbers as the Bot row writes them."""
    number = getattr(param, "item", param)
    kind = ("boolean" if isinstance(param, _Flag) else "decimal_list" if isinstance(param, _NumberList)
            else "integer" if number.integer else "decimal")
    facts = {"key": name, "label": param.label, "type": kind, "unit": param_unit(name, param),
             "required": param.default is _REQUIRED,
             "default": None if param.default is _REQUIRED else _to_json(param.default), "live": name in live}
    if kind != "boolean":
        bound = int if number.integer else _fmt
        facts.update(min=bound(number.low), min_exclusive=number.low_open, max=bound(number.high))
    if kind in ("decimal", "decimal_list"):
        facts["decimal_places"] = number.places
    if kind == "decimal_list":
        facts.update(min_items=1, max_items=param.max_items)
    return facts


def _rule_text(rule: _Ordering) -> str:
    high = rule.high if rule.share_pct is None else f"{rule.high} × {rule.share_pct} / 100"
    return f"{rule.low} {'<' if rule.strict else '<='} {high}"


def strategy_facts() -> list[dict]:
    """Every strategy with its parameters in table order, its cross-field rules and where it runs: what a frontend
    needs to build and check a create form without reading this module."""
    return [
        {"name": name, "controller": "/".join(spec.controller),
         "venues": ["exchange", "gateway"] if spec.gateway_ok else ["exchange"],
         "params": [_param_facts(key, param, spec.live) for key, param in spec.params.items()],
         "rules": [{"field": rule.field, "rule": _rule_text(rule)} for rule in spec.orderings]}
        for name, spec in STRATEGIES.items()
    ]


# What defines a bot: another market or strategy is another bot.
_NEVER_CHANGES = {"connector": "connector", "trading_pair": "trading pair", "pair": "trading pair",
                  "strategy": "strategy", "account": "account"}


class LiveChange(NamedTuple):
    params: Params  # the bot's parameters after the change
    config: dict  # the controller keys that change, as controller_config writes them: the body Hummingbot merges
    # (empty when only the bridge's own parameters change: nothing is sent)


def live_change(params: Params, changes: Any, *, connector: str) -> LiveChange:
    """Apply desk-unit ``changes`` to a running bot's typed ``params`` (docs/hummingbot-api.md §4.1).

    Only "live" parameters are accepted; the result is parsed with every rule of a new bot (ranges, cross-field).
    A null value means the parameter's default ("off" for optional ones). Raises ParamsError naming each field.
    """
    name = _STRATEGY_OF_TYPE[type(params)]
    spec = STRATEGIES[name]
    if not isinstance(changes, dict) or not changes:
        raise ParamsError({"config": 'Changes must be an object of parameter: new value, e.g. {"buy_spreads_pct": [0.3]}'})
    errors: dict[str, str] = {}
    for key in changes:
        shown = str(key)[:64]
        if key in _NEVER_CHANGES:
            errors[shown] = f"the {_NEVER_CHANGES[key]} never changes on a bot: create a new bot for another one"
        elif key not in spec.params:
            errors[shown] = f"unknown parameter '{shown}'"
        elif key not in spec.live:
            errors[shown] = (f"{spec.params[key].label} cannot change while the bot runs (Hummingbot applies it only "
                             "at start): stop the bot, change it, start it again")
    if errors:
        raise ParamsError(errors)
    new = parse_params(name, {**params.to_json(), **changes})
    before, after = spec.build(connector, params), spec.build(connector, new)
    delta = {key: value for key, value in after.items() if before[key] != value}
    if new == params:
        raise ParamsError({"config": "Nothing to change: the bot already runs with these values"})
    return LiveChange(new, delta)  # an empty delta: only the bridge's own parameters changed


def controller_ref(strategy: str, controller_sha256: str = "") -> tuple[str, str]:
    """(controller_type, controller_name) a bot's config names, for ``POST /controllers/{type}/{name}/config/validate``.

    Our reviewed controller is named by its content (docs/design.md §11): `controller_sha256` is the version a bot
    was deployed with (``Bot.controller_sha256``); blank means the one this release ships.
    """
    spec = STRATEGIES[strategy]
    controller_type, module = spec.controller
    if not spec.versioned:
        return controller_type, module
    return controller_type, versioned_name(module, controller_sha256 or volume_taker().sha256)


def controller_config(config_id: str, connector: str, trading_pair: str, params: Params,
                      controller_sha256: str = "") -> dict:
    """The body of ``POST /controllers/configs/{config_id}`` for a connector and pair as ``parse_bot``
    returned them (the Bot row stores those) and typed parameters; `controller_sha256` as in ``controller_ref``.

    Decimals are written as decimal strings (exact; the controller's Decimal and float fields
    accept them), seconds as ints. The config id names a file upstream: checked here.
    """
    if not isinstance(config_id, str) or not _NAME_RE.fullmatch(config_id):
        raise ParamsError({"config_id": "Config id must be 1-64 letters, digits, _ or -"})
    name = _STRATEGY_OF_TYPE[type(params)]
    controller_type, controller_name = controller_ref(name, controller_sha256)
    return {
        "id": config_id,
        "controller_type": controller_type,
        # Hummingbot imports controllers.<type>.<controller_name>: the file stored under that name runs.
        "controller_name": controller_name,
        "trading_pair": trading_pair,
        **STRATEGIES[name].build(connector, params),
        "manual_kill_switch": False,
        "initial_positions": [],
    }


def deploy_limits(params: Params) -> dict:
    """Extra fields for ``POST /bot-orchestration/deploy-v2-controllers``."""
    max_loss = params.max_loss_quote
    return {"max_controller_drawdown_quote": None if max_loss is None else float(max_loss)}


_VOLUME_TAKER_PATH = Path(__file__).resolve().parent / "controllers" / "volume_taker.py"


@cache
def volume_taker_source() -> str:
    """The reviewed controller file, uploaded verbatim (fixed path, never user input)."""
    return _VOLUME_TAKER_PATH.read_text(encoding="utf-8")


class ReviewedController(NamedTuple):
    """Our controller file as this release ships it and the content-versioned name it is stored under upstream."""

    name: str  # volume_taker_<sha256[:8]>
    sha256: str  # of the source's UTF-8 bytes: what is uploaded and what a read-back is compared with
    source: str


def versioned_name(module: str, sha256: str) -> str:
    """The module a version is stored under: another release's file has another name, so none of ours is
    overwritten and an old file under the bare name is never run (docs/design.md §11)."""
    return f"{module}_{sha256[:8]}"


@cache
def volume_taker() -> ReviewedController:
    """The version of the volume controller this release ships: new volume bots run it."""
    source = volume_taker_source()
    sha256 = hashlib.sha256(source.encode("utf-8")).hexdigest()
    return ReviewedController(versioned_name(STRATEGIES["volume"].controller[1], sha256), sha256, source)
