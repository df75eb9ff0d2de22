"""Pre-trade checks: the one place every write path asks before anything is sent to Hummingbot (docs/design.md §10).

Two outcomes. *Refused* (raised as `Refused`, a ValidationError: 400 in the API, field errors in the panel): a
connector the server does not list, a pair the connector does not list, an order under the exchange's minimum at
the current price, an exchange without keys on the account, an account Hummingbot has lost, anything over the
account's desk limits. *Asked* (raised as `ConfirmationRequired` until the caller confirms: 409 in the API, the
"despite the warnings" tick in the panel): sizes against the budget at the current price, spreads far from the book,
wide price bands, a budget above what the account has available, a live change that multiplies size or spread, and
every check that could not be made (never passed silently).

`assess` is pure: typed facts in, findings out. `new_bot_facts` / `live_change_facts` read the facts: the market
(prices, trading rules: docs/hummingbot-api.md §13) and the account's keys from Hummingbot, kept PRETRADE_CACHE_SECONDS
per server, connector and pair (or account), read side by side and waited for at most HUMMINGBOT_TIMEOUT; the desk
limits and live budgets from the database. Findings name the request's fields: `account`, `connector`, `pair`,
`config.<parameter>` (the panel's forms map them to their own).
"""
from __future__ import annotations

import difflib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError

from bots import strategies
from bots.hummingbot.client import TradingRule, get_client
from bots.hummingbot.errors import HummingbotError, HummingbotNotFound, HummingbotTimeout
from bots.models import Account, Bot
from bots.services.accounts import (
    CONNECTORS_CACHE_SECONDS,
    PORTFOLIO_CACHE_SECONDS,
    connectors_cache_key,
    keys_cache_key,
    portfolio_cache_key,
    read_portfolio,
)
from bots.states import ACTIVE

SPREAD_FAR_PCT = Decimal(5)
WIDE_BAND_RATIO = Decimal(2)
LIVE_CHANGE_RATIO = Decimal(3)
BUDGET_PARAMS = {"spread": "budget_quote", "volume": "total_amount_quote"}
ORDER_PARAMS = {"spread": "order_amount", "volume": "order_amount_quote"}


# --- findings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    code: str
    field: str  # the request's field: account, connector, pair, config.<parameter>
    message: str

    def as_dict(self) -> dict:
        return {"code": self.code, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class Assessment:
    refusals: tuple[Finding, ...] = ()
    warnings: tuple[Finding, ...] = ()


def _by_field(findings) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for finding in findings:
        errors.setdefault(finding.field, []).append(finding.message)
    return errors


class Refused(ValidationError):
    """What no confirmation lets through; nothing was sent."""

    def __init__(self, findings):
        self.findings = tuple(findings)
        super().__init__(_by_field(self.findings))


class ConfirmationRequired(ValidationError):
    """Warnings the caller must confirm (`confirm=True`); nothing was sent. A ValidationError on `confirm`, so a form
    shows the texts on its tick."""

    def __init__(self, warnings):
        self.warnings = tuple(warnings)
        super().__init__({"confirm": [warning.message for warning in self.warnings]})


def enforce(assessment: Assessment, *, confirm: bool) -> tuple[Finding, ...]:
    """Raise for refusals, and for warnings not confirmed; return the warnings the caller confirmed (for the audit)."""
    if assessment.refusals:
        raise Refused(assessment.refusals)
    if assessment.warnings and not confirm:
        raise ConfirmationRequired(assessment.warnings)
    return assessment.warnings


def confirmed_text(warnings, user) -> str:
    """What the audit event adds: who confirmed which warnings."""
    from bots.services.common import actor

    if not warnings:
        return ""
    return f"; warnings confirmed by {actor(user)}: " + "; ".join(f"{w.code} ({w.message})" for w in warnings)


# --- facts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeskLimits:
    max_bot_budget: Decimal | None = None
    max_live_budget: Decimal | None = None
    max_order_notional: Decimal | None = None

    @classmethod
    def of(cls, account: Account) -> DeskLimits:
        return cls(account.max_bot_budget, account.max_live_budget, account.max_order_notional)


@dataclass(frozen=True)
class Facts:
    """What the checks know. None = not read; `unread[fact]` then says why ("connectors", "keys", "price",
    "rules", "balance")."""

    account: str
    connectors: tuple[str, ...] | None = None  # the server's exchange connectors
    keys: frozenset[str] | None = None  # connectors with keys on the account
    account_lost: bool = False
    price: Decimal | None = None
    rule: TradingRule | None = None
    unlisted: str | None = None  # Hummingbot's reason the connector does not list the pair
    available: Decimal | None = None  # the account's available quote on the connector
    live_budgets: Decimal = Decimal(0)  # budgets of the account's other live bots quoted in the same asset
    limits: DeskLimits = DeskLimits()
    unread: dict[str, str] = field(default_factory=dict)


# --- the checks (pure) ---------------------------------------------------------------------------


def assess(setup: strategies.BotSetup, facts: Facts, *, before: strategies.Params | None = None) -> Assessment:
    """Refusals and warnings for a new bot (`before` None) or for a live change from `before` to setup.params:
    a live change keeps its account, connector, pair and budget, so only what it can change is checked."""
    market = _Market(setup)
    refusals, warnings = [], []
    if before is None:
        refusals += _account_refusals(market, facts)
        if any(r.code in ("account_lost", "unknown_connector") for r in refusals):
            return Assessment(tuple(refusals))  # nothing more to say about a market this account cannot reach
    refusals += _market_refusals(market, facts)
    refusals += _limit_refusals(market, facts, new_bot=before is None)
    warnings += _unread_warnings(market, facts, new_bot=before is None)
    warnings += _size_warnings(market, facts)
    warnings += _shape_warnings(market, facts)
    if before is None:
        warnings += _available_warnings(market, facts)
    else:
        warnings += _live_change_warnings(market, before)
    return Assessment(tuple(refusals), tuple(warnings))


class _Market:
    """A setup's market and sizes, in the units the messages use."""

    def __init__(self, setup: strategies.BotSetup):
        self.setup, self.params = setup, setup.params
        self.connector, self.pair = setup.connector, setup.trading_pair
        self.base, self.quote = setup.trading_pair.split("-", 1)
        self.gateway = strategies.venue_for(setup.connector) == "gateway"
        self.spread = isinstance(self.params, strategies.SpreadParams)
        self.budget_field = f"config.{BUDGET_PARAMS[setup.strategy]}"
        self.order_field = f"config.{ORDER_PARAMS[setup.strategy]}"
        self.budget = self.params.budget_quote if self.spread else self.params.total_amount_quote

    def order_base(self, price: Decimal | None) -> Decimal | None:
        if self.spread:
            return self.params.order_amount
        return None if price is None else self.params.order_amount_quote / price

    def order_quote(self, price: Decimal | None) -> Decimal | None:
        if not self.spread:
            return self.params.order_amount_quote
        return None if price is None else self.params.order_amount * price

    def order_text(self) -> str:
        if self.spread:
            return f"order amount {_num(self.params.order_amount)} {self.base}"
        return f"order amount {_num(self.params.order_amount_quote)} {self.quote}"


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _values(value: Decimal | tuple) -> str:
    return ", ".join(map(_num, value)) if isinstance(value, tuple) else _num(value)


def _money(value: Decimal) -> str:
    """Quote amounts in messages: 2 decimals from 1 up, 6 significant digits below."""
    return f"{value:,.2f}" if abs(value) >= 1 else _num(Decimal(f"{value:.6g}"))


def _account_refusals(market: _Market, facts: Facts) -> list[Finding]:
    if facts.account_lost:
        return [Finding("account_lost", "account", (
            f"Hummingbot no longer has account {facts.account} (its server was reset or the account deleted there): "
            "open the account's page, press \"Recreate in Hummingbot\" and enter its keys again."))]
    if market.gateway:  # Gateway connectors use a wallet in Gateway, not keys, and are not in GET /connectors/ (§5)
        return []
    if facts.connectors is not None and market.connector not in facts.connectors:
        close = difflib.get_close_matches(market.connector, facts.connectors, n=3, cutoff=0.6)
        hint = f": did you mean {' or '.join(close)}?" if close else ": choose one of its connectors."
        return [Finding("unknown_connector", "connector",
                        f"Hummingbot has no connector '{market.connector}'{hint}")]
    if facts.keys is not None and market.connector not in facts.keys:
        return [Finding("no_keys", "connector", (
            f"{facts.account} has no keys for {market.connector} in Hummingbot: add them on the account's page "
            "(Exchange keys…) first."))]
    return []


def _market_refusals(market: _Market, facts: Facts) -> list[Finding]:
    if facts.unlisted is not None:
        return [Finding("unlisted_pair", "pair", f"{market.connector} does not list {market.pair} ({facts.unlisted}).")]
    rule, price = facts.rule, facts.price
    if rule is None:
        return []
    if not rule.supports_limit_orders:
        return [Finding("no_limit_orders", "pair", f"{market.connector} takes no limit orders on {market.pair}.")]
    refusals = []
    size = market.order_base(price)
    if size is not None and size < rule.min_order_size:
        refusals.append(Finding("under_min_size", market.order_field, (
            f"The {market.order_text()} is {_num(size)} {market.base} per order, under {market.connector}'s "
            f"minimum order size {_num(rule.min_order_size)} {market.base} for {market.pair}.")))
    notional = market.order_quote(price)
    if notional is not None and notional < rule.min_notional_size:
        at = f" at {_num(price)} {market.quote}" if market.spread else ""
        refusals.append(Finding("under_min_notional", market.order_field, (
            f"The {market.order_text()} is worth {_money(notional)} {market.quote}{at}, under "
            f"{market.connector}'s minimum order value {_num(rule.min_notional_size)} {market.quote} for "
            f"{market.pair}.")))
    return refusals


def _limit_refusals(market: _Market, facts: Facts, *, new_bot: bool) -> list[Finding]:
    limits, quote, refusals = facts.limits, market.quote, []
    if new_bot and limits.max_bot_budget is not None and market.budget > limits.max_bot_budget:
        refusals.append(Finding("over_bot_budget_limit", market.budget_field, (
            f"The budget {_num(market.budget)} {quote} is over {facts.account}'s desk limit of "
            f"{_num(limits.max_bot_budget)} {quote} per bot.")))
    if new_bot and limits.max_live_budget is not None and facts.live_budgets + market.budget > limits.max_live_budget:
        refusals.append(Finding("over_live_budget_limit", market.budget_field, (
            f"{facts.account} already has {_num(facts.live_budgets)} {quote} of budget in live bots; with this "
            f"bot's {_num(market.budget)} {quote} it would be over its desk limit of "
            f"{_num(limits.max_live_budget)} {quote} for live bots.")))
    notional = market.order_quote(facts.price)
    if limits.max_order_notional is not None and notional is not None and notional > limits.max_order_notional:
        refusals.append(Finding("over_order_limit", market.order_field, (
            f"One order is worth {_money(notional)} {quote} at the current price, over {facts.account}'s desk limit "
            f"of {_num(limits.max_order_notional)} {quote} per order.")))
    return refusals


def _unread_warnings(market: _Market, facts: Facts, *, new_bot: bool) -> list[Finding]:
    unread, warnings = facts.unread, []
    if new_bot and "connectors" in unread:
        warnings.append(Finding("connectors_unknown", "connector", (
            f"Hummingbot's connector list could not be read ({unread['connectors']}): '{market.connector}' was "
            "not checked.")))
    if new_bot and "keys" in unread:
        warnings.append(Finding("keys_unknown", "account", (
            f"The keys of {facts.account} could not be read ({unread['keys']}): keys for {market.connector} "
            "were not checked.")))
    if "rules" in unread:
        warnings.append(Finding("rules_unknown", "pair", (
            f"Trading rules of {market.pair} on {market.connector} could not be read ({unread['rules']}): the pair "
            "and the exchange minimums were not checked.")))
    if "price" in unread and facts.unlisted is None:  # an unlisted pair has no price: its refusal says why
        limit = " nor against the desk limit per order" if facts.limits.max_order_notional is not None else ""
        warnings.append(Finding("price_unknown", "pair", (
            f"Price of {market.pair} on {market.connector} unknown ({unread['price']}): size not checked in "
            f"{market.quote}{limit}.")))
    if new_bot and "balance" in unread:
        warnings.append(Finding("balance_unknown", market.budget_field, (
            f"What {facts.account} has available on {market.connector} could not be read ({unread['balance']}): "
            "the budget was not checked against it.")))
    return warnings


def _size_warnings(market: _Market, facts: Facts) -> list[Finding]:
    """Orders at the current price against the budget: every level of both sides of a spread bot."""
    if not market.spread or facts.price is None:
        return []
    params, price = market.params, facts.price
    buys, sells = len(params.buy_spreads_pct), len(params.sell_spreads_pct)
    total = params.order_amount * price * (buys + sells)
    if total <= params.budget_quote:
        return []
    return [Finding("size_over_budget", market.order_field, (
        f"At {_num(price)} {market.quote}, {buys} buy and {sells} sell order(s) of {_num(params.order_amount)} "
        f"{market.base} are worth {_money(total)} {market.quote}: over the {_num(params.budget_quote)} "
        f"{market.quote} budget (order amount is in {market.base}, the base asset)."))]


def _shape_warnings(market: _Market, facts: Facts) -> list[Finding]:
    params, quote, warnings = market.params, market.quote, []
    if market.spread:
        for side in ("buy", "sell"):
            far = [f"{_num(pct)}%" for pct in getattr(params, f"{side}_spreads_pct") if pct > SPREAD_FAR_PCT]
            if far:
                warnings.append(Finding("spread_far", f"config.{side}_spreads_pct", (
                    f"Spreads {', '.join(far)} are far from the book (over {SPREAD_FAR_PCT}%): those orders may "
                    "never fill.")))
        low, high, high_field = params.price_floor, params.price_ceiling, "config.price_ceiling"
    else:
        if params.max_book_spread_pct > SPREAD_FAR_PCT:
            warnings.append(Finding("spread_far", "config.max_book_spread_pct", (
                f"Max book spread {_num(params.max_book_spread_pct)}% lets legs trade in a thin book "
                f"(over {SPREAD_FAR_PCT}%).")))
        low, high, high_field = params.min_price, params.max_price, "config.max_price"
    if low is not None and high is not None and high > low * WIDE_BAND_RATIO:
        warnings.append(Finding("band_wide", high_field, (
            f"The price band {_num(low)}-{_num(high)} {quote} spans more than ×{WIDE_BAND_RATIO}: check it "
            f"brackets the current {market.base} price closely.")))
    price = facts.price
    if price is not None and ((low is not None and price < low) or (high is not None and price > high)):
        band = f"{_num(low) if low is not None else '…'}-{_num(high) if high is not None else '…'}"
        warnings.append(Finding("price_outside_band", high_field, (
            f"{market.pair} trades at {_num(price)} {quote}, outside the band {band} {quote}: the bot places no "
            "order until the price comes back inside.")))
    return warnings


def _available_warnings(market: _Market, facts: Facts) -> list[Finding]:
    if facts.available is None or market.budget <= facts.available:
        return []
    return [Finding("budget_over_available", market.budget_field, (
        f"The budget {_num(market.budget)} {market.quote} exceeds what {facts.account} has available on "
        f"{market.connector}: {_num(facts.available)} {market.quote}."))]


def _live_change_warnings(market: _Market, before: strategies.Params) -> list[Finding]:
    after, warnings = market.params, []
    watched = ("order_amount", "buy_spreads_pct", "sell_spreads_pct") if market.spread else ("order_amount_quote",)
    for name in watched:
        old, new = getattr(before, name), getattr(after, name)
        pairs = zip(old, new, strict=False) if isinstance(new, tuple) else [(old, new)]  # levels may be added
        ratios = [b / a for a, b in pairs if a and b]
        ratio = max(ratios, key=lambda r: max(r, 1 / r), default=Decimal(1))
        if ratio > LIVE_CHANGE_RATIO or ratio < 1 / LIVE_CHANGE_RATIO:
            warnings.append(Finding("live_change_large", f"config.{name}", (
                f"{strategies.STRATEGIES[market.setup.strategy].params[name].label.capitalize()} goes from "
                f"{_values(old)} to {_values(new)} (×{_num(ratio.quantize(Decimal('0.01')))}) on a running bot: more "
                f"than ×{LIVE_CHANGE_RATIO} at once.")))
    return warnings


# --- reading the facts ---------------------------------------------------------------------------


def new_bot_facts(*, account: Account, setup: strategies.BotSetup, exclude: Bot | None = None) -> Facts:
    """Everything a new bot (or a restart, `exclude` = that bot) is checked against."""
    server, market = account.server, _Market(setup)
    found: dict = {"account": account.name, "limits": DeskLimits.of(account), "unread": {},
                   "live_budgets": _live_budgets(account, market.quote, exclude)}
    reads = _market_reads(server, setup)
    reads["balance"] = _Read(portfolio_cache_key(server), read_portfolio, PORTFOLIO_CACHE_SECONDS)
    if not market.gateway:  # Gateway connectors: wallets in Gateway, not keys; not in GET /connectors/ (§5)
        reads["connectors"] = _Read(connectors_cache_key(server), lambda client: sorted(client.list_connectors()),
                                    CONNECTORS_CACHE_SECONDS)
        reads["keys"] = _Read(keys_cache_key(account), lambda client: client.list_credentials(account.name))
    results = _read_side_by_side(server, reads)
    connectors, keys, balances = results.pop("connectors", None), results.pop("keys", None), results.pop("balance")
    if isinstance(connectors, Exception):
        found["unread"]["connectors"] = _why(connectors)
    elif connectors is not None:
        found["connectors"] = tuple(connectors)
    if isinstance(keys, HummingbotNotFound):  # no credentials folder: the account is gone upstream (§5)
        found["account_lost"] = True
    elif isinstance(keys, Exception):
        found["unread"]["keys"] = _why(keys)
    elif keys is not None:
        found["keys"] = frozenset(keys)
    if isinstance(balances, Exception):
        found["unread"]["balance"] = _why(balances)
    else:
        found["available"] = balances.available(account, setup.connector, market.quote)
        if found["available"] is None and not market.gateway:
            found["unread"]["balance"] = f"Hummingbot reports no {market.quote} there"
    _market_facts(results, found)
    return Facts(**found)


def live_change_facts(*, bot: Bot, setup: strategies.BotSetup) -> Facts:
    """A running bot's market and its account's order limit: what a live change can go against."""
    found: dict = {"account": bot.account.name if bot.account else "", "unread": {},
                   "limits": DeskLimits.of(bot.account) if bot.account else DeskLimits()}
    _market_facts(_read_side_by_side(bot.server, _market_reads(bot.server, setup)), found)
    return Facts(**found)


def new_bot_assessment(*, account: Account, setup: strategies.BotSetup, exclude: Bot | None = None) -> Assessment:
    return assess(setup, new_bot_facts(account=account, setup=setup, exclude=exclude))


def live_change_assessment(*, bot: Bot, before: strategies.Params, after: strategies.Params) -> Assessment:
    setup = strategies.BotSetup(strategy=bot.strategy, connector=bot.connector, trading_pair=bot.trading_pair,
                                params=after)
    return assess(setup, live_change_facts(bot=bot, setup=setup), before=before)


def _live_budgets(account: Account, quote: str, exclude: Bot | None) -> Decimal:
    bots = Bot.objects.filter(account=account, status__in=ACTIVE, trading_pair__endswith=f"-{quote}")
    if exclude is not None:
        bots = bots.exclude(pk=exclude.pk)
    total = Decimal(0)
    for strategy, params in bots.values_list("strategy", "params"):
        budget = params.get(BUDGET_PARAMS.get(strategy, ""))
        total += Decimal(str(budget)) if budget is not None else 0
    return total


@dataclass(frozen=True)
class _Read:
    """One fact read from Hummingbot: where it is kept, how to read it (client -> value), for how long."""

    key: str
    call: Callable
    seconds: int | None = None  # None: PRETRADE_CACHE_SECONDS


def _market_reads(server, setup: strategies.BotSetup) -> dict[str, _Read]:
    where, pairs = f"pretrade:{server.pk}:{setup.connector}:{setup.trading_pair}", [setup.trading_pair]
    return {"price": _Read(f"{where}:price", lambda client: client.prices(setup.connector, pairs)),
            "rules": _Read(f"{where}:rules", lambda client: client.trading_rules(setup.connector, pairs))}


def _market_facts(results: dict, found: dict) -> None:
    prices, rules = results["price"], results["rules"]
    if isinstance(prices, Exception):
        found["unread"]["price"] = _why(prices)
    elif not prices:
        found["unread"]["price"] = "Hummingbot gave no last price for it"
    else:
        found["price"] = next(iter(prices.values()))
    if isinstance(rules, Exception):
        found["unread"]["rules"] = _why(rules)
    else:
        found["rule"] = next(iter(rules.rules.values()), None)
        found["unlisted"] = next(iter(rules.unlisted.values()), None)


def _read_side_by_side(server, reads: dict[str, _Read]) -> dict:
    """Each read's value, or the HummingbotError it raised. Kept values are used as they are; the others are read
    from Hummingbot at the same time, waiting at most HUMMINGBOT_TIMEOUT in all: a read not back by then is a check
    not made. Only answers are kept, so a server that recovers is read again at once."""
    results = {name: cache.get(read.key) for name, read in reads.items()}
    missing = {name: read for name, read in reads.items() if results[name] is None}
    if not missing:
        return results
    try:
        client = get_client(server)
    except HummingbotError as exc:
        return {**results, **{name: exc for name in missing}}
    pool = ThreadPoolExecutor(max_workers=len(missing), thread_name_prefix="pretrade")
    futures = {name: pool.submit(read.call, client) for name, read in missing.items()}
    done, _ = wait(futures.values(), timeout=settings.HUMMINGBOT_TIMEOUT)
    pool.shutdown(wait=False, cancel_futures=True)
    for name, future in futures.items():
        if future not in done:
            results[name] = HummingbotTimeout(
                f"no answer within {settings.HUMMINGBOT_TIMEOUT:g} s (HUMMINGBOT_TIMEOUT)")
        elif isinstance(future.exception(), HummingbotError):
            results[name] = future.exception()
        else:
            results[name] = future.result()  # a bug raises here, as it would without the threads
            seconds = missing[name].seconds
            cache.set(missing[name].key, results[name],
                      settings.PRETRADE_CACHE_SECONDS if seconds is None else seconds)
    return results


def _why(exc: HummingbotError) -> str:
    """Hummingbot's own words when it answered (a 404 or 500 detail, §13), else what went wrong reaching it."""
    return f"Hummingbot: {exc.detail}" if isinstance(exc.detail, str) and exc.detail else exc.message
