"""A seeded simulation of the volume_taker decision (next_leg) against hostile markets.

Every step the clock moves, a random book arrives (sane, wide, crossed, NaN, missing, zero, out of the band),
the open leg may end, and next_leg decides. A placed leg fills fully, partly or not at all, at any price between
its limit and the touch it took, pays fees at or under fee_rate, and may never end by itself (then the decision
has to stop it at order_timeout; the cancel may still fill). A bot whose budget is used is replaced by a new one
with other random limits; a bot stopped for empty legs is restarted (its executors are forgotten, its position
and spend are not). The accounting runs at 100 digits, so a breach is the decision's, not rounding's.

After every step these hold, or simulate() raises AssertionError naming the seed and step:
- inventory: 0 <= position <= the position the latest BUY aimed at, and that BUY was at most one leg
  (min(order_amount_quote, max_leg_fraction * budget) at its limit price): never more than one leg from flat;
- spend: filled notional + fees <= total_amount_quote;
- band: every fill is inside [min_price, max_price];
and no leg is placed while one is open, or after max_empty_legs empty legs in a row.
Used by tests/test_volume_taker.py and bench/volume_sim.py.
"""

import random
from dataclasses import dataclass
from decimal import Decimal as D
from decimal import localcontext
from typing import Optional

ZERO = D("0")


@dataclass
class Figures:
    seeds: int = 0
    steps: int = 0
    bots: int = 0  # configurations run (a new one each time a budget was used up)
    restarts: int = 0  # after a stop for legs that filled nothing
    legs: int = 0
    full_fills: int = 0
    partial_fills: int = 0
    empty_legs: int = 0
    stopped_at_timeout: int = 0
    volume_quote: D = ZERO
    worst_inventory_legs: D = ZERO  # the largest position, in legs (1 = one full leg)
    worst_spend_share: D = ZERO  # the largest spend incl. fees over budget

    def add(self, other: "Figures") -> None:
        for name, value in vars(other).items():
            combine = max if name.startswith("worst_") else (lambda a, b: a + b)
            setattr(self, name, combine(getattr(self, name), value))

    def summary(self) -> str:
        return (f"{self.seeds} seeds x {self.steps // max(self.seeds, 1)} steps = {self.steps} steps; "
                f"{self.bots} bots, {self.restarts} restarts; {self.legs} legs: {self.full_fills} full, "
                f"{self.partial_fills} partial, {self.empty_legs} empty, {self.stopped_at_timeout} stopped at "
                f"timeout; volume {self.volume_quote:.2f} quote; worst inventory "
                f"{self.worst_inventory_legs:.4f} legs; worst spend/budget {self.worst_spend_share:.6f}")


@dataclass
class _Leg:
    id: str
    side: str
    amount: D
    price: D
    fill_price: D
    fill_share: D
    fee_rate: D
    started: float
    ends_at: Optional[float]  # None: rests until stopped
    cancelling: bool = False


def _share(rng: random.Random, scale: int = 1000) -> D:
    return D(rng.randint(0, scale)) / scale


def _random_limits(vt, rng: random.Random):
    budget = D(rng.choice(["50", "100", "500", "2000", "10000"]))
    leg_fraction = D(rng.choice(["0.01", "0.05", "0.1", "0.2", "0.5", "1"]))
    centre = D(rng.choice(["0.005", "1", "250"]))
    return vt.Limits(
        total_amount_quote=budget,
        order_amount_quote=budget * leg_fraction * D(rng.choice(["0.1", "0.5", "1"])),
        order_interval=rng.choice([5, 30, 60, 120]),
        min_price=centre * D("0.8"), max_price=centre * D("1.25"),
        max_book_spread=D(rng.choice(["0.005", "0.02", "0.1"])),
        order_timeout=rng.choice([5, 30, 120]),
        max_slippage=D(rng.choice(["0.001", "0.01", "0.1"])),
        max_leg_fraction=leg_fraction,
        fee_rate=D(rng.choice(["0", "0.001", "0.0025", "0.05"])),
        max_empty_legs=rng.choice([1, 3, 5, 20]),
    )


def _random_book(rng: random.Random, mid: D) -> tuple:
    half_spread = mid * _share(rng, 10_000) * D("0.03")
    kind = rng.random()
    if kind < 0.70:
        return mid - half_spread, mid + half_spread
    if kind < 0.80:
        return mid, mid  # a Gateway rate
    if kind < 0.85:
        return mid + half_spread + mid / 100, mid - half_spread  # crossed
    if kind < 0.90:
        return rng.choice([(D("NaN"), D("NaN")), (mid, D("NaN")), (D("sNaN"), mid)])
    if kind < 0.95:
        return rng.choice([(None, None), (mid, None)])
    return rng.choice([(ZERO, mid), (-mid, mid), (D("Infinity"), D("Infinity"))])


def _fill_share(rng: random.Random) -> D:
    kind = rng.random()
    return ZERO if kind < 0.3 else D("1") if kind < 0.6 else _share(rng)


def simulate(vt, seed: int, steps: int) -> Figures:
    rng = random.Random(seed)
    figures = Figures(seeds=1, steps=steps)
    with localcontext() as context:
        context.prec = 100
        _run(vt, rng, steps, figures, seed)
    return figures


def _run(vt, rng, steps, figures, seed):
    limits, position, spent, empty, cap, cap_price, leg, last_leg_at = None, ZERO, ZERO, 0, ZERO, ZERO, None, None
    now, mid = 0.0, ZERO
    for step in range(steps):
        if limits is None:  # a new bot
            limits, position, spent, empty, leg, last_leg_at = _random_limits(vt, rng), ZERO, ZERO, 0, None, None
            cap, cap_price = ZERO, ZERO
            mid = (limits.min_price + limits.max_price) / 2
            figures.bots += 1
        where = f"seed {seed} step {step}"
        now += rng.randint(1, 30)
        # The price wanders inside and outside the band: 0.5x to 2x the band's middle.
        centre = (limits.min_price + limits.max_price) / 2
        mid = min(max(mid * (1 + (_share(rng) - D("0.5")) / 10), centre / 2), centre * 2)
        bid, ask = _random_book(rng, mid)

        if leg is not None and leg.ends_at is not None and now >= leg.ends_at:
            filled = leg.amount * leg.fill_share
            assert limits.min_price <= leg.fill_price <= limits.max_price, f"{where}: fill outside the band"
            position += filled if leg.side == "BUY" else -filled
            spent += filled * leg.fill_price * (1 + leg.fee_rate)
            figures.volume_quote += filled * leg.fill_price
            empty = empty + 1 if filled == 0 else 0
            figures.empty_legs += filled == 0
            figures.full_fills += leg.fill_share == 1
            figures.partial_fills += 0 < leg.fill_share < 1
            leg = None

        state = vt.LegState(now=now, best_bid=bid, best_ask=ask, last_leg_at=last_leg_at,
                            open_legs=() if leg is None else (vt.OpenLeg(leg.id, leg.started, leg.cancelling),),
                            position_base=position, spent_quote=spent, empty_legs=empty, limits=limits)
        decision = vt.next_leg(state)

        if decision.stop_ids:
            assert leg is not None and decision.stop_ids == (leg.id,), f"{where}: stopped {decision.stop_ids}"
            assert now - leg.started > limits.order_timeout, f"{where}: stopped before order_timeout"
            leg.cancelling, leg.ends_at = True, now + rng.randint(1, 10)
            figures.stopped_at_timeout += 1
        if decision.side is not None:
            assert leg is None, f"{where}: a second leg while one is open"
            assert empty < limits.max_empty_legs, f"{where}: a leg after {empty} empty legs in a row"
            leg = _place(rng, state, decision, f"{seed}-{step}")
            last_leg_at = now
            figures.legs += 1
            if decision.side == "BUY":
                cap, cap_price = position + decision.amount_base, decision.price
                assert cap * cap_price <= limits.leg_quote, f"{where}: a BUY above one leg"
            else:
                assert decision.amount_base == position, f"{where}: a SELL that does not close the position"
        if decision.reason.startswith("budget used"):
            assert position * bid < vt.DUST_SHARE * limits.leg_quote, f"{where}: budget used while long"
            limits = None
        elif decision.reason.startswith("stopped:"):  # restarted: a new run knows no executors
            empty, last_leg_at = 0, None
            figures.restarts += 1

        assert ZERO <= position <= cap, f"{where}: position {position} outside [0, {cap}]"
        assert spent <= state.limits.total_amount_quote, f"{where}: spent {spent} over the budget"
        figures.worst_inventory_legs = max(figures.worst_inventory_legs, position * cap_price / state.limits.leg_quote)
        figures.worst_spend_share = max(figures.worst_spend_share, spent / state.limits.total_amount_quote)


def _place(rng, state, decision, leg_id) -> _Leg:
    limits = state.limits
    assert decision.amount_base > 0
    if decision.side == "BUY":
        touch = state.best_ask
        assert touch <= decision.price <= limits.max_price, f"leg {leg_id}: BUY limit {decision.price}"
    else:
        touch = state.best_bid
        assert limits.min_price <= decision.price <= touch, f"leg {leg_id}: SELL limit {decision.price}"
    ends_at = None if rng.random() < 0.3 else state.now + rng.randint(0, 2 * int(limits.order_timeout))
    return _Leg(id=leg_id, side=decision.side, amount=decision.amount_base, price=decision.price,
                fill_price=touch + (decision.price - touch) * _share(rng), fill_share=_fill_share(rng),
                fee_rate=rng.choice([limits.fee_rate, limits.fee_rate * _share(rng)]), started=state.now,
                ends_at=ends_at)


def simulate_seeds(vt, seeds, steps: int) -> Figures:
    total = Figures()
    for seed in seeds:
        total.add(simulate(vt, seed, steps))
    return total
