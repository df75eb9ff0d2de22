"""Reads: what the admin, the API and the commands show. No writes, no HTTP."""
import re
from datetime import timedelta

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Trunc
from django.utils import timezone

from bots.models import Account, Bot, BotEvent, Trade
from bots.states import ACTIVE
from bots.validators import NAME_PATTERN

NAME_RE = re.compile(NAME_PATTERN)


def bot_list() -> QuerySet[Bot]:
    # upstream_status is big and only the detail view shows it.
    return Bot.objects.select_related("account").defer("upstream_status").order_by("name")


def bot_get(name: str) -> Bot:
    """A bot by its name, its id in API paths (the integer key stays internal); raises Bot.DoesNotExist."""
    return _by_name(bot_list(), name)


def account_get(name: str) -> Account:
    return _by_name(Account.objects.all(), name)


def _by_name(queryset: QuerySet, name: str):
    """A key outside the name charset can name nothing: refused before the query (PostgreSQL refuses NUL)."""
    if not NAME_RE.fullmatch(name):
        raise queryset.model.DoesNotExist(f"No {queryset.model._meta.model_name} named {name!r}.")
    return queryset.get(name=name)


def bot_market_warnings(bot: Bot) -> list[str]:
    """Adopted bots active on the bot's connector and pair: their account is unknown, so they may trade against it."""
    adopted = Bot.objects.filter(
        strategy=Bot.Strategy.EXTERNAL, connector=bot.connector, trading_pair=bot.trading_pair, status__in=ACTIVE,
    ).exclude(pk=bot.pk).values_list("name", flat=True)
    return [
        f"Bot '{name}' (adopted from Hummingbot, account unknown) is active on {bot.connector} {bot.trading_pair}: "
        f"check that it does not trade against '{bot.name}'."
        for name in adopted
    ]


def bot_recent_events(bot: Bot, limit: int = 20) -> list[BotEvent]:
    return list(bot.events.all()[:limit])


def _in_window(trades: QuerySet[Trade], since, until) -> QuerySet[Trade]:
    """`since` inclusive, `until` exclusive, either may be None."""
    if since:
        trades = trades.filter(timestamp__gte=since)
    if until:
        trades = trades.filter(timestamp__lt=until)
    return trades


def bot_trades(bot: Bot, *, since=None, until=None, side=None) -> QuerySet[Trade]:
    """Newest first, on the (bot, -timestamp) index."""
    trades = _in_window(Trade.objects.filter(bot=bot), since, until)
    if side:
        trades = trades.filter(side=side)
    return trades.order_by("-timestamp", "-id")


EXPORT_COLUMNS = ["bot__name", "bot__account__name", "trade_id", "timestamp", "trading_pair", "side", "price", "amount", "fee_quote"]


def trades_for_export(*, bot: str | None = None, account: str | None = None, side: str | None = None,
                      since=None, until=None):
    """Rows for the CSV export, streamed from the database in chunks (constant memory). The filters are the
    trade changelist's (bots/admin_lists.py), whose "Export CSV" link passes its own."""
    trades = Trade.objects.all()
    if bot:
        trades = trades.filter(bot__name=bot)
    if account:
        trades = trades.filter(bot__account__name=account)
    if side:
        trades = trades.filter(side=side)
    return _in_window(trades, since, until).order_by("timestamp", "id").values_list(*EXPORT_COLUMNS).iterator(chunk_size=2000)


def bot_trade_summary(bot: Bot) -> dict:
    """Counts and volumes in one aggregate query."""
    notional = ExpressionWrapper(F("price") * F("amount"), output_field=DecimalField(max_digits=38, decimal_places=18))
    buy, sell = Q(side=Trade.Side.BUY), Q(side=Trade.Side.SELL)
    return Trade.objects.filter(bot=bot).aggregate(
        trades=Count("id"),
        bought_base=Sum("amount", filter=buy, default=0),
        sold_base=Sum("amount", filter=sell, default=0),
        bought_quote=Sum(notional, filter=buy, default=0),
        sold_quote=Sum(notional, filter=sell, default=0),
        fees_quote=Sum("fee_quote", default=0),
        last_trade_at=Max("timestamp"),
    )


def hummingbot_outage() -> BotEvent | None:
    """The failed sync that started the current outage, or None when the last sync worked."""
    last = BotEvent.objects.filter(bot=None, action="sync").first()
    return last if last is not None and not last.ok else None


def bot_trade_buckets(bot: Bot) -> list[dict]:
    """The bot's ledger per hour (a bot younger than 3 days) or per day, oldest first, in ONE aggregate query:
    the bot page's charts of cumulative volume and PnL read these rows, whatever the ledger's size."""
    kind = "hour" if timezone.now() - bot.created_at <= timedelta(days=3) else "day"
    notional = ExpressionWrapper(F("price") * F("amount"), output_field=DecimalField(max_digits=38, decimal_places=18))
    buy, sell = Q(side=Trade.Side.BUY), Q(side=Trade.Side.SELL)
    return list(
        Trade.objects.filter(bot=bot).annotate(bucket=Trunc("timestamp", kind)).values("bucket").annotate(
            bought_base=Sum("amount", filter=buy, default=0),
            sold_base=Sum("amount", filter=sell, default=0),
            bought_quote=Sum(notional, filter=buy, default=0),
            sold_quote=Sum(notional, filter=sell, default=0),
            fees_quote=Sum("fee_quote", default=0),
        ).order_by("bucket")
    )
