"""
Volume Taker - generic Hummingbot v2 controller (reviewed file, uploaded verbatim by Trading Bridge).

Trades volume with taker legs:
- at most ONE own executor active at a time;
- legs alternate BUY and SELL, each a MARKET order of order_amount_quote / mid (base asset);
- a leg is skipped while mid is outside [min_price, max_price], while the book spread is above
  max_book_spread_pct (a fraction of mid), before order_interval seconds have passed since the last
  leg, or when it would take the filled quote volume above total_amount_quote (the budget cap);
- an executor still active after order_timeout seconds is stopped.

Every leg takes other participants' resting orders and the controller never rests an order of its
own, so it cannot trade with itself. On a Gateway network (connector_name such as
solana-mainnet-beta) each leg is a swap and bid = ask = the rate feed's price.

The decision is next_leg(), a pure function over stdlib types, unit-tested without Hummingbot.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import List, Optional, Tuple

from pydantic import Field, field_validator, model_validator

from hummingbot.core.data_type.common import MarketDict, PriceType, TradeType
from hummingbot.strategy_v2.controllers.controller_base import ControllerBase, ControllerConfigBase
from hummingbot.strategy_v2.executors.data_types import ConnectorPair
from hummingbot.strategy_v2.executors.order_executor.data_types import ExecutionStrategy, OrderExecutorConfig
from hummingbot.strategy_v2.models.base import RunnableStatus
from hummingbot.strategy_v2.models.executor_actions import CreateExecutorAction, ExecutorAction, StopExecutorAction

BUY = "BUY"
SELL = "SELL"


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


@dataclass(frozen=True)
class OpenLeg:
    executor_id: str
    started_at: float


@dataclass(frozen=True)
class LegState:
    now: float
    best_bid: Optional[Decimal]
    best_ask: Optional[Decimal]
    open_legs: Tuple[OpenLeg, ...]
    last_side: Optional[str]  # BUY, SELL or None before the first leg
    last_leg_at: Optional[float]
    filled_quote: Decimal
    limits: Limits


@dataclass(frozen=True)
class Decision:
    reason: str
    side: Optional[str] = None  # set when a leg is to be placed
    amount_base: Optional[Decimal] = None
    stop_ids: Tuple[str, ...] = ()


def _usable_book(bid: Optional[Decimal], ask: Optional[Decimal]) -> bool:
    # NaN is what connectors report without a price; comparing a Decimal NaN would raise.
    return (bid is not None and ask is not None and bid.is_finite() and ask.is_finite()
            and Decimal("0") < bid <= ask)


def next_leg(state: LegState) -> Decision:
    """What to do now: stop a timed-out leg, wait, skip, or place the next leg."""
    limits = state.limits
    if state.open_legs:
        expired = tuple(leg.executor_id for leg in state.open_legs
                        if state.now - leg.started_at > limits.order_timeout)
        return Decision("leg timed out: stopping it" if expired else "leg in flight", stop_ids=expired)
    if state.filled_quote + limits.order_amount_quote > limits.total_amount_quote:
        return Decision("budget used up")
    if state.last_leg_at is not None and state.now - state.last_leg_at < limits.order_interval:
        return Decision("waiting for the order interval")
    if not _usable_book(state.best_bid, state.best_ask):
        return Decision("no usable price")
    mid = (state.best_bid + state.best_ask) / 2
    if not limits.min_price <= mid <= limits.max_price:
        return Decision("mid price outside the band")
    if (state.best_ask - state.best_bid) / mid > limits.max_book_spread:
        return Decision("book spread too wide")
    side = SELL if state.last_side == BUY else BUY
    return Decision(f"placing a {side} leg", side=side, amount_base=limits.order_amount_quote / mid)


# === Hummingbot glue ===

class VolumeTakerConfig(ControllerConfigBase):
    controller_type: str = "generic"
    controller_name: str = "volume_taker"
    connector_name: str = Field(..., description="Exchange connector or Gateway network, e.g. bitmart")
    trading_pair: str = Field(..., description="BASE-QUOTE, e.g. SHARP-USDT")
    total_amount_quote: Decimal = Field(..., gt=0, description="Budget cap: total filled quote volume")
    order_amount_quote: Decimal = Field(..., gt=0, description="Quote amount per leg")
    order_interval: int = Field(..., ge=5, description="Seconds between legs")
    min_price: Decimal = Field(..., gt=0)
    max_price: Decimal = Field(..., gt=0)
    max_book_spread_pct: Decimal = Field(..., gt=0, le=1, description="Fraction of mid, 0.02 = 2%")
    order_timeout: int = Field(..., ge=5, description="Seconds before an active leg is stopped")
    # Written by bots/strategies.py; the bounded rewrite of this controller uses them.
    max_slippage: Decimal = Field(Decimal("0.005"), gt=0, le=Decimal("0.1"), description="Fraction from the touch")
    max_leg_fraction: Decimal = Field(Decimal("0.1"), gt=0, le=1, description="Largest leg, fraction of the budget")
    fee_rate: Decimal = Field(Decimal("0.0025"), ge=0, le=Decimal("0.05"), description="Taker fee, fraction")
    max_empty_legs: int = Field(5, ge=1, le=100, description="Stop after this many legs in a row fill nothing")

    @field_validator("trading_pair")
    @classmethod
    def validate_trading_pair(cls, value: str) -> str:
        base, dash, quote = value.partition("-")
        if not (base and dash and quote) or "-" in quote:
            raise ValueError("trading_pair must look like BASE-QUOTE")
        return value

    @model_validator(mode="after")
    def validate_limits(self):
        if self.order_amount_quote > self.total_amount_quote:
            raise ValueError("order_amount_quote must not exceed total_amount_quote")
        if self.min_price >= self.max_price:
            raise ValueError("min_price must be below max_price")
        return self

    def update_markets(self, markets: MarketDict) -> MarketDict:
        return markets.add_or_update(self.connector_name, self.trading_pair)


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

    def _filled_quote(self) -> Decimal:
        own = sum((executor.filled_amount_quote for executor in self.executors_info), Decimal("0"))
        # executors_info only holds this run's executors; after a container restart the performance
        # report (rebuilt from the bot's trade database) still counts earlier fills.
        reported = getattr(self.performance_report, "volume_traded", None) or Decimal("0")
        return max(own, reported)

    def _leg_state(self) -> LegState:
        executors = self.executors_info
        last = max(executors, key=lambda executor: executor.timestamp, default=None)
        config = self.config
        return LegState(
            now=self.market_data_provider.time(),
            best_bid=self.processed_data.get("best_bid"),
            best_ask=self.processed_data.get("best_ask"),
            open_legs=tuple(OpenLeg(e.id, e.timestamp) for e in executors if e.is_active),
            last_side=last.config.side.name if last else None,
            last_leg_at=last.timestamp if last else None,
            filled_quote=self._filled_quote(),
            limits=Limits(
                total_amount_quote=config.total_amount_quote,
                order_amount_quote=config.order_amount_quote,
                order_interval=config.order_interval,
                min_price=config.min_price,
                max_price=config.max_price,
                max_book_spread=config.max_book_spread_pct,
                order_timeout=config.order_timeout,
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
                execution_strategy=ExecutionStrategy.MARKET,
            )))
        return actions

    def get_custom_info(self) -> dict:
        """Published with the performance report: why the controller is (not) trading."""
        return {
            "decision": self.processed_data.get("decision", "starting"),
            "filled_quote": str(self._filled_quote()),
            "budget_quote": str(self.config.total_amount_quote),
        }
