"""Reads: what the admin, the API and the commands show. No writes, no HTTP."""
import re

import orjson
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Func, Max, Q, QuerySet, Sum, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from bots import strategies
from bots.models import Account, Bot, BotEvent, SyncState, Trade
from bots.states import ACTIVE
from bots.validators import NAME_PATTERN

NAME_RE = re.compile(NAME_PATTERN)


def bot_list() -> QuerySet[Bot]:
    # upstream_status is big and only the detail view shows it.
    return Bot.objects.select_related("account").defer("upstream_status").order_by("name")


class DrfTimestamp(Func):
    """A UTC timestamp column as the text DRF renders for it, '2026-01-02T03:04:05.678900Z' (the fraction only
    when not zero), written by the database: reshaping 3,000 of them in Python took about a quarter of GET /bots.
    SQLite holds Django's own text, '2026-01-02 03:04:05.678900' (USE_TZ: naive UTC, six digits or none)."""

    template = "REPLACE(%(expressions)s, ' ', 'T') || 'Z'"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        utc = "(%(expressions)s AT TIME ZONE 'UTC')"
        template = (f"TO_CHAR({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
                    f"|| CASE TO_CHAR({utc}, 'US') WHEN '000000' THEN '' ELSE TO_CHAR({utc}, '.US') END || 'Z'")
        return self.as_sql(compiler, connection, template=template, **extra)


TIMESTAMP_COLUMNS = ["status_synced_at", "trades_synced_at", "created_at"]


def bot_list_rows(*, upstream_ok: bool) -> list[dict]:
    """What BotSerializer renders for bot_list(), from one `.values_list()` query: at 1,000 bots the serializer's
    per-field work costs more than the upstream call the list replaces (tests pin that both agree, on SQLite and
    PostgreSQL). The costliest columns come as text from the database, never parsed to be re-encoded: `params`
    as stored, embedded as is by orjson, timestamps in the form DRF writes (bench/bots_list.py)."""
    as_text = {f"{column}_text": DrfTimestamp(column) for column in TIMESTAMP_COLUMNS}
    rows = Bot.objects.order_by("name").annotate(**as_text, params_text=Cast("params", TextField())).values_list(
        "name", "status", "strategy", "connector", "trading_pair", "account__name", "hummingbot_name",
        "last_error", "status_synced_at_text", "trades_synced_at_text", "trades_sync_error", "params_text",
        "created_at_text",
    )
    markets = {}
    listed = []
    for (name, status, strategy, connector, pair, account, hummingbot_name, last_error, synced_at, trades_synced_at,
         trades_sync_error, params, created_at) in rows:
        if connector not in markets:
            markets[connector] = {"chain": strategies.chain_for(connector), "venue": strategies.venue_for(connector),
                                  "network": strategies.network_for(connector)}
        listed.append({
            "id": name, "name": name, "status": status, "strategy": strategy, "connector": connector,
            "pair": pair.replace("-", "/"), "trading_pair": pair, **markets[connector], "account": account, "hummingbot_name": hummingbot_name, "last_error": last_error,
            "synced_at": synced_at, "trades_synced_at": trades_synced_at,
            "trades_sync_error": trades_sync_error,
            "stale": not upstream_ok or (status != Bot.Status.ARCHIVED and synced_at is None),
            "params": orjson.Fragment(params), "created_at": created_at,
        })
    return listed


def bots_listing(state: SyncState) -> dict:
    """GET /bots: every bot as the database holds it, how old the statuses are, and why when Hummingbot did not
    answer the last attempt (`upstream`, present only then)."""
    upstream_ok = not state.last_error
    listing = {
        "bots": bot_list_rows(upstream_ok=upstream_ok),
        "synced_at": state.last_ok_at,
        "age_seconds": None if state.last_ok_at is None else int((timezone.now() - state.last_ok_at).total_seconds()),
    }
    if not upstream_ok:
        listing["upstream"] = {"ok": False, "error": state.last_error, "code": state.last_error_code}
    return listing


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
