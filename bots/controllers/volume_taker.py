"""
Volume Taker - generic Hummingbot v2 controller (reviewed file, uploaded verbatim by Trading Bridge).

Trades volume in round trips of taker legs, and is built so that it cannot run away:
- at most ONE own executor at a time (one that is still cancelling counts);
- the side comes from the net filled position, never from the last leg: flat -> BUY one leg, long -> SELL
  exactly what is held, short -> BUY it back. However legs fill (fully, partly, not at all), the position
  stays between flat and one leg;
- every leg is a LIMIT order at a capped price: a BUY at min(best_ask * (1 + max_slippage), max_price), a SELL
  at max(best_bid * (1 - max_slippage), min_price); no leg is placed while the touch it would take (the ask
  for a BUY, the bid for a SELL) is outside [min_price, max_price]; what has not filled after order_timeout
  seconds is cancelled and the partial fill counts;
- the budget total_amount_quote counts filled notional AND fees (at fee_rate); a BUY is only as big as the
  budget left can pay for it and for selling it back at max_price, so the round trip can always be closed;
- a leg is at most min(order_amount_quote, max_leg_fraction * total_amount_quote) worth of quote;
- after max_empty_legs legs in a row that filled nothing (rejected, failed or expired) it stops placing legs;
  custom_info says why it is (not) trading.

Only one own order exists at a time, so the controller cannot trade with itself; the bridge refuses to run
"spread" on the same account and pair (docs/hummingbot-strategies.md c). The unfilled rest of a leg rests on the
book until order_timeout. On a Gateway network (connector_name such as solana-mainnet-beta) each leg is a swap,
bid = ask = the rate feed's price, and the limit price is not a cap: Gateway swaps at its own quote within the
network's slippage setting (docs/hummingbot-strategies.md c).

The decision is next_leg(), a pure function over stdlib types, unit-tested and simulated without Hummingbot.
"""

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext
from typing import List, Optional, Tuple

from pydantic import Field, field_validator, model_validator

from hummingbot.core.data_type.common import MarketDict, PriceType, TradeType
from hummingbot.strategy_v2.controllers.controller_base import ControllerBase, ControllerConfigBase
from hummingbot.strategy_v2.executors.data_types import ConnectorPair
from hummingbot.strategy_v2.executors.order_executor.data_types import ExecutionStrategy, OrderExecutorConfig
from hummingbot.strategy_v2.models.base import RunnableStatus
from hummingbot.strategy_v2.models.executor_actions import CreateExecutorAction, ExecutorAction, StopExecutorAction
from hummingbot.strategy_v2.models.executors import CloseType

BUY = "BUY"
SELL = "SELL"
ZERO = Decimal("0")
ONE = Decimal("1")
# A position worth less than this share of a leg counts as flat, and a leg smaller than it is not placed:
# it would likely be under the exchange's minimum order and only fill nothing.
DUST_SHARE = Decimal("0.1")


# === The decision (pure) ===

@dataclass(frozen=True)
class Limits:
    total_amount_quote: Decimal
    order_amount_quote: Decimal
    order_interval: float
    min_price: Decimal
    max_price: Decimal
    max_book_spread: Decimal  # fraction of mid
    order_timeout: float
    max_slippage: Decimal  # fraction of the touch
    max_leg_fraction: Decimal  # of total_amount_quote
    fee_rate: Decimal  # fraction of the notional
    max_empty_legs: int

    @property
    def leg_quote(self) -> Decimal:
        return min(self.order_amount_quote, self.max_leg_fraction * self.total_amount_quote)


@dataclass(frozen=True)
class OpenLeg:
    executor_id: str
    started_at: float
    cancelling: bool = False  # already stopped: its order is being cancelled and may still fill


@dataclass(frozen=True)
class LegState:
    now: float
    best_bid: Optional[Decimal]
    best_ask: Optional[Decimal]
    open_legs: Tuple[OpenLeg, ...]
    last_leg_at: Optional[float]
    position_base: Decimal  # filled base bought minus filled base sold
    spent_quote: Decimal  # filled notional plus fees, both sides
    empty_legs: int  # finished legs in a row, latest first, that filled nothing
    limits: Limits


@dataclass(frozen=True)
class Decision:
    reason: str
    side: Optional[str] = None  # set when a leg is to be placed
    amount_base: Optional[Decimal] = None
    price: Optional[Decimal] = None  # the limit: a BUY never pays more, a SELL never takes less
    stop_ids: Tuple[str, ...] = ()


def _usable_book(bid: Optional[Decimal], ask: Optional[Decimal]) -> bool:
    # NaN is what connectors report without a price; comparing a Decimal NaN would raise.
    return (bid is not None and ask is not None and bid.is_finite() and ask.is_finite()
            and ZERO < bid <= ask)


def next_leg(state: LegState) -> Decision:
    """What to do now: stop a timed-out leg, wait, skip, stop for good, or place the next leg."""
    limits = state.limits
    if state.open_legs:
        expired = tuple(leg.executor_id for leg in state.open_legs
                        if not leg.cancelling and state.now - leg.started_at > limits.order_timeout)
        return Decision("leg timed out: cancelling the rest" if expired else "leg in flight", stop_ids=expired)
    if state.empty_legs >= limits.max_empty_legs:
        return Decision(f"stopped: {state.empty_legs} legs in a row filled nothing")
    if state.last_leg_at is not None and state.now - state.last_leg_at < limits.order_interval:
        return Decision("waiting for the order interval")
    bid, ask = state.best_bid, state.best_ask
    if not _usable_book(bid, ask):
        return Decision("no usable price")
    if (ask - bid) / ((bid + ask) / 2) > limits.max_book_spread:
        return Decision("book spread too wide")
    # Rounding down keeps every size at or under the bound it is computed from.
    with localcontext() as context:
        context.rounding = ROUND_DOWN
        return _leg(state, bid, ask)


def _leg(state: LegState, bid: Decimal, ask: Decimal) -> Decision:
    limits = state.limits
    position = state.position_base
    dust_quote = DUST_SHARE * limits.leg_quote
    long = position * bid >= dust_quote
    touch = bid if long else ask
    if not limits.min_price <= touch <= limits.max_price:
        return Decision(f"best {'bid' if long else 'ask'} outside the price band")
    # What the budget can still pay in notional, fees set aside. Fills are inside the band, so at most max_price.
    left = (limits.total_amount_quote - state.spent_quote) / (ONE + limits.fee_rate)
    if long:
        side, price = SELL, max(bid * (ONE - limits.max_slippage), limits.min_price)
        amount = min(position, left / limits.max_price)
    else:
        side, price = BUY, min(ask * (ONE + limits.max_slippage), limits.max_price)
        if position * ask <= -dust_quote:  # short (only from an earlier run): buy it back
            amount = min(-position, left / price)
        else:
            # Flat: fill up to one leg, and only as much as the budget can buy at the limit and still sell back
            # at max_price: (target - position) * price + target * max_price <= left.
            target = min(limits.leg_quote / price, (left + position * price) / (price + limits.max_price))
            amount = target - position
    if amount * touch < dust_quote:  # valued like the position above, so only a budget cut gets here
        spent = state.spent_quote.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return Decision(f"budget used: {spent} of {limits.total_amount_quote} quote incl. fees")
    return Decision(f"placing a {side} leg", side=side, amount_base=amount, price=price)


# === Hummingbot glue ===

class VolumeTakerConfig(ControllerConfigBase):
    # is_updatable: a running bot applies the field within 10 s (ControllerBase.update_config); the budget, leg cap and
    # fee rate are not, so nothing can raise them under a running bot (bots/strategies.py, docs/hummingbot-api.md §4.1).
    controller_type: str = "generic"
    # Only a default: the bridge's config names the module it stored this file as, volume_taker_<sha256[:8]>.
    controller_name: str = "volume_taker"
    connector_name: str = Field(..., description="Exchange connector or Gateway network, e.g. bitmart")
    trading_pair: str = Field(..., description="BASE-QUOTE, e.g. SHARP-USDT")
    total_amount_quote: Decimal = Field(..., gt=0, description="Budget cap: filled quote volume plus fees")
    order_amount_quote: Decimal = Field(..., gt=0, description="Quote amount per leg",
                                        json_schema_extra={"is_updatable": True})
    order_interval: int = Field(..., ge=5, description="Seconds between legs",
                                json_schema_extra={"is_updatable": True})
    min_price: Decimal = Field(..., gt=0, description="No SELL below it, no leg while the touch is below it",
                               json_schema_extra={"is_updatable": True})
    max_price: Decimal = Field(..., gt=0, description="No BUY above it, no leg while the touch is above it",
                               json_schema_extra={"is_updatable": True})
    max_book_spread_pct: Decimal = Field(..., gt=0, le=1, description="Fraction of mid, 0.02 = 2%",
                                         json_schema_extra={"is_updatable": True})
    order_timeout: int = Field(..., ge=5, description="Seconds before the unfilled rest of a leg is cancelled",
                               json_schema_extra={"is_updatable": True})
    max_slippage: Decimal = Field(..., gt=0, le=Decimal("0.1"),
                                  description="Limit price distance from the touch, fraction, 0.01 = 1%",
                                  json_schema_extra={"is_updatable": True})
    max_leg_fraction: Decimal = Field(..., gt=0, le=1, description="Largest leg as a fraction of the budget")
    fee_rate: Decimal = Field(..., ge=0, le=Decimal("0.05"),
                              description="Fee per fill as a fraction of its notional, counted in the budget")
    max_empty_legs: int = Field(..., ge=1, le=100, description="Stop after this many legs in a row fill nothing",
                                json_schema_extra={"is_updatable": True})

    @field_validator("trading_pair")
    @classmethod
    def validate_trading_pair(cls, value: str) -> str:
        base, dash, quote = value.partition("-")
        if not (base and dash and quote) or "-" in quote:
            raise ValueError("trading_pair must look like BASE-QUOTE")
        return value

    @model_validator(mode="after")
    def validate_limits(self):
        if self.order_amount_quote > self.total_amount_quote * self.max_leg_fraction:
            raise ValueError("order_amount_quote must not exceed total_amount_quote * max_leg_fraction")
        if self.min_price >= self.max_price:
            raise ValueError("min_price must be below max_price")
        return self

    def update_markets(self, markets: MarketDict) -> MarketDict:
        return markets.add_or_update(self.connector_name, self.trading_pair)


def _signed(side: TradeType, amount: Decimal) -> Decimal:
    return amount if side == TradeType.BUY else -amount


def _filled_base(executor) -> Decimal:
    # OrderExecutor.get_custom_info publishes executed_amount_base; ExecutorInfo has no base figure of its own.
    return Decimal(str(executor.custom_info.get("executed_amount_base") or 0))


class VolumeTaker(ControllerBase):
    def __init__(self, config: VolumeTakerConfig, *args, **kwargs):
        super().__init__(config, *args, **kwargs)
        self.config = config
        # Gateway networks have no order book: their price comes from this rate feed.
        self.market_data_provider.initialize_rate_sources([ConnectorPair(
            connector_name=config.connector_name, trading_pair=config.trading_pair)])

    async def update_processed_data(self):
        self.processed_data.update(best_bid=self._price(PriceType.BestBid),
                                   best_ask=self._price(PriceType.BestAsk))

    def _price(self, price_type: PriceType) -> Optional[Decimal]:
        try:
            price = self.market_data_provider.get_price_by_type(
                self.config.connector_name, self.config.trading_pair, price_type)
        except Exception:  # a connector without a book yet raises; treat it as "no price"
            return None
        return None if price is None else Decimal(str(price))

    def _position_and_spend(self) -> Tuple[Decimal, Decimal]:
        """Net filled base and quote spent (notional + fees) over this controller's legs, this run and earlier."""
        # A done executor that held fills is merged into positions_held by the orchestrator before the controller
        # sees it (ExecutorOrchestrator.get_all_reports); count it there only. positions_held also holds the
        # positions read back from the bot's database after a restart.
        unmerged = [executor for executor in self.executors_info
                    if not (executor.is_done and executor.close_type == CloseType.POSITION_HOLD)]
        position = (sum((_signed(e.config.side, _filled_base(e)) for e in unmerged), ZERO)
                    + sum((_signed(held.side, held.amount) for held in self.positions_held), ZERO))
        spent = (sum((e.filled_amount_quote + e.cum_fees_quote for e in unmerged), ZERO)
                 + sum((held.volume_traded_quote + held.cum_fees_quote for held in self.positions_held), ZERO))
        # The performance report also counts legs of earlier runs that held nothing; it carries no fees.
        reported = getattr(self.performance_report, "volume_traded", None) or ZERO
        return position, max(spent, reported * (ONE + self.config.fee_rate))

    def _empty_legs(self) -> int:
        """Finished legs in a row, latest first, that filled nothing (failed, rejected or cancelled unfilled)."""
        count = 0
        for executor in sorted((e for e in self.executors_info if e.is_done),
                               key=lambda e: e.timestamp, reverse=True):
            if _filled_base(executor) > 0:
                break
            count += 1
        return count

    def _leg_state(self) -> LegState:
        executors = self.executors_info
        config = self.config
        position, spent = self._position_and_spend()
        return LegState(
            now=self.market_data_provider.time(),
            best_bid=self.processed_data.get("best_bid"),
            best_ask=self.processed_data.get("best_ask"),
            # is_active is False while a stopped executor is still cancelling (SHUTTING_DOWN): not done yet.
            open_legs=tuple(OpenLeg(e.id, e.timestamp, cancelling=not e.is_active)
                            for e in executors if not e.is_done),
            last_leg_at=max((e.timestamp for e in executors), default=None),
            position_base=position,
            spent_quote=spent,
            empty_legs=self._empty_legs(),
            limits=Limits(
                total_amount_quote=config.total_amount_quote,
                order_amount_quote=config.order_amount_quote,
                order_interval=config.order_interval,
                min_price=config.min_price,
                max_price=config.max_price,
                max_book_spread=config.max_book_spread_pct,
                order_timeout=config.order_timeout,
                max_slippage=config.max_slippage,
                max_leg_fraction=config.max_leg_fraction,
                fee_rate=config.fee_rate,
                max_empty_legs=config.max_empty_legs,
            ),
        )

    def determine_executor_actions(self) -> List[ExecutorAction]:
        if self.status == RunnableStatus.TERMINATED:
            return []
        decision = next_leg(self._leg_state())
        self.processed_data["decision"] = decision.reason
        actions: List[ExecutorAction] = [
            StopExecutorAction(controller_id=self.config.id, executor_id=executor_id, keep_position=True)
            for executor_id in decision.stop_ids
        ]
        if decision.side is not None:
            actions.append(CreateExecutorAction(controller_id=self.config.id, executor_config=OrderExecutorConfig(
                timestamp=self.market_data_provider.time(),
                connector_name=self.config.connector_name,
                trading_pair=self.config.trading_pair,
                side=TradeType[decision.side],
                amount=decision.amount_base,
                price=decision.price,
                execution_strategy=ExecutionStrategy.LIMIT,
            )))
        return actions

    def get_custom_info(self) -> dict:
        """Published with the performance report: why the controller is (not) trading."""
        position, spent = self._position_and_spend()
        return {
            "decision": self.processed_data.get("decision", "starting"),
            "position_base": str(position),
            "spent_quote": str(spent),
            "budget_quote": str(self.config.total_amount_quote),
            "empty_legs": self._empty_legs(),
        }
