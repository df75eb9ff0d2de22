"""Reads: what the admin, the API and the commands show. No writes, no HTTP."""
import re
from datetime import datetime, timedelta

import orjson
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Func, Max, Q, QuerySet, Sum, TextField
from django.db.models.functions import Cast, Trunc
from django.utils import timezone

from bots import precompiled, strategies
from bots.models import Account, Bot, BotEvent, HummingbotServer, SyncState, Trade
from bots.states import ACTIVE, PENDING, PENDING_GRACE
from bots.validators import NAME_PATTERN

NAME_RE = re.compile(NAME_PATTERN)


def bot_list() -> QuerySet[Bot]:
    # upstream_status is big and only the detail view shows it.
    return Bot.objects.select_related("account", "server").defer("upstream_status").order_by("name")


class DrfTimestamp(Func):
    """A UTC timestamp column as the text DRF renders for it, '2026-01-02T03:04:05.678900Z' (the fraction only
    when not zero), written by the database: reshaping 3,000 of them in Python took about a quarter of GET /bots.
    SQLite holds Django's own text, '2026-01-02 03:04:05.678900' (USE_TZ: naive UTC, six digits or none)."""

    template = "REPLACE(%(expressions)s, ' ', 'T') || 'Z'"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        # One TO_CHAR: three of them (the fraction apart) took ~0.7 ms of the list query's ~2 at 1,000 bots.
        template = ("REPLACE(TO_CHAR((%(expressions)s AT TIME ZONE 'UTC'), 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
                    "'.000000Z', 'Z')")
        return self.as_sql(compiler, connection, template=template, **extra)


TIMESTAMP_COLUMNS = ["status_synced_at", "trades_synced_at", "created_at"]


def bot_list_rows(*, failed_servers: set, server_name: str | None = None) -> list[dict]:
    """What BotSerializer renders for bot_list(), from one query compiled once per process: at 1,000 bots the
    serializer's per-field work costs more than the upstream call the list replaces (tests pin that both agree, on
    SQLite and PostgreSQL). The costliest columns come as text from the database, never parsed to be re-encoded:
    `params` as stored, embedded as is by orjson, timestamps in the form DRF writes (bench/bots_list.py)."""
    rows = precompiled.fetch_rows(_bot_rows, server_name)
    markets = {}
    listed = []
    for (name, status, strategy, connector, pair, account, server, hummingbot_name, last_error, synced_at,
         trades_synced_at, trades_sync_error, params, created_at) in rows:
        if connector not in markets:
            markets[connector] = {"chain": strategies.chain_for(connector), "venue": strategies.venue_for(connector),
                                  "network": strategies.network_for(connector)}
        listed.append({
            "id": name, "name": name, "status": status, "strategy": strategy, "connector": connector,
            "pair": pair.replace("-", "/"), "trading_pair": pair, **markets[connector], "account": account,
            "server": server, "hummingbot_name": hummingbot_name, "last_error": last_error,
            "synced_at": synced_at, "trades_synced_at": trades_synced_at,
            "trades_sync_error": trades_sync_error,
            "stale": server in failed_servers or (status != Bot.Status.ARCHIVED and synced_at is None),
            "params": orjson.Fragment(params), "created_at": created_at,
        })
    return listed


def _bot_rows(server_name: str | None) -> QuerySet:
    as_text = {f"{column}_text": DrfTimestamp(column) for column in TIMESTAMP_COLUMNS}
    bots = Bot.objects.order_by("name")
    if server_name is not None:
        bots = bots.filter(server__name=server_name)
    return bots.annotate(**as_text, params_text=Cast("params", TextField())).values_list(
        "name", "status", "strategy", "connector", "trading_pair", "account__name", "server__name", "hummingbot_name",
        "last_error", "status_synced_at_text", "trades_synced_at_text", "trades_sync_error", "params_text",
        "created_at_text",
    )


def bots_listing(states: list[tuple[HummingbotServer, SyncState | None]], *, server_name: str | None = None) -> dict:
    """GET /bots: every bot (of one server when `server_name`) as the database holds it, how old the statuses are,
    per server in `servers`. `synced_at` is the oldest server's; `upstream`, present only when a server did not
    answer its last attempt, says which (the first; each one's reason is in `servers`).

    Nothing here may follow the clock: the list is named by the database's version (bots/list_version.py), which
    writes move and time does not, so a field derived from the time would stay behind a 304 (the view adds the
    top-level `age_seconds` to each answer)."""
    servers = {}
    for server, state in states:
        state = state or SyncState(scope=server.name)
        servers[server.name] = {  # no age here: see above
            "ok": not state.last_error, "synced_at": state.last_ok_at,
            **({"error": state.last_error, "code": state.last_error_code} if state.last_error else {}),
        }
    failed = {name for name, server in servers.items() if not server["ok"]}
    synced = [server["synced_at"] for server in servers.values()]
    oldest = None if None in synced or not synced else min(synced)
    listing = {
        "bots": bot_list_rows(failed_servers=failed, server_name=server_name),
        "synced_at": oldest,
        "servers": servers,
    }
    if failed:
        name = min(failed)
        listing["upstream"] = {"ok": False, "error": servers[name]["error"], "code": servers[name]["code"],
                               "server": name}
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
    trade changelist's (bots/admin/lists.py), whose "Export CSV" link passes its own."""
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


def hummingbot_outage(server_name: str) -> BotEvent | None:
    """The failed sync that started the current outage of a server, or None when its last sync worked. Sync events
    name their server first (services.sync)."""
    last = BotEvent.objects.filter(bot=None, action="sync", detail__startswith=f"{server_name}: ").first()
    return last if last is not None and not last.ok else None


def hummingbot_outages() -> list[BotEvent]:
    """The event that started each current outage, one per server whose last status read failed: one server
    recovering says nothing of another (the panel's banner)."""
    failing = SyncState.objects.exclude(last_error="").order_by("scope").values_list("scope", flat=True)
    return [outage for scope in failing if (outage := hummingbot_outage(scope)) is not None]


# A status read older than this, for a bot that is not archived, means the sync is not running (it reads every
# BOTS_SYNC_SECONDS, at most a minute apart).
STALE_SYNC = timedelta(minutes=5)
ATTENTION_SHOWN = 20


def fleet_overview(*, now: datetime) -> dict:
    """The admin index's fleet: bots by status per account, the bots that need attention, and each account's volume
    and fees today and over 7 days. Three queries whatever the fleet's size; the volume one reads only the last
    7 days of the ledger through the (timestamp, id) index (bench/admin_pages.py, "overview")."""
    by_account: dict[str, dict[str, int]] = {}
    for row in Bot.objects.values("account__name", "status").annotate(n=Count("id")).order_by():
        by_account.setdefault(row["account__name"] or "(adopted)", {})[row["status"]] = row["n"]
    attention = list(Bot.objects.exclude(status=Bot.Status.ARCHIVED).filter(
        Q(status__in=[Bot.Status.ERROR, Bot.Status.NOT_FOUND])
        | Q(status__in=PENDING, updated_at__lt=now - PENDING_GRACE)
        | Q(status_synced_at__lt=now - STALE_SYNC)
        | ~Q(trades_sync_error="")
    ).select_related("account").only(
        "name", "status", "last_error", "updated_at", "status_synced_at", "trades_sync_error", "account__name",
    ).order_by("name")[:ATTENTION_SHOWN + 1])
    statuses = [status for status, _ in Bot.Status.choices]
    return {"statuses": statuses,
            "accounts": [(name, [counts.get(status, 0) for status in statuses]) for name, counts in sorted(by_account.items())],
            "attention": [(bot, _attention_reason(bot, now)) for bot in attention[:ATTENTION_SHOWN]],
            "attention_more": len(attention) > ATTENTION_SHOWN, "volume": account_volume(now=now)}


def _attention_reason(bot: Bot, now: datetime) -> str:
    if bot.status in (Bot.Status.ERROR, Bot.Status.NOT_FOUND):
        return f"{bot.get_status_display()}: {bot.last_error}" if bot.last_error else bot.get_status_display()
    if bot.status in PENDING and bot.updated_at < now - PENDING_GRACE:
        return f"{bot.get_status_display()} not confirmed by Hummingbot since {bot.updated_at:%Y-%m-%d %H:%M} UTC"
    if bot.trades_sync_error:
        return f"trades not read: {bot.trades_sync_error}"
    return f"status last read {bot.status_synced_at:%Y-%m-%d %H:%M} UTC"


def account_volume(*, now: datetime) -> dict[str, dict]:
    """{account: {today_quote, today_fees, week_quote, week_fees}}: one aggregate over the last 7 days (UTC days)."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    notional = ExpressionWrapper(F("price") * F("amount"), output_field=DecimalField(max_digits=38, decimal_places=18))
    is_today = Q(timestamp__gte=today)
    # Bounded on both sides (the end of today: a skewed exchange clock may stamp a fill seconds ahead), so the
    # (timestamp, id) index range is a week whatever the ledger holds.
    window = Q(timestamp__gte=now - timedelta(days=7), timestamp__lt=today + timedelta(days=1))
    rows = Trade.objects.filter(window).values("bot__account__name").annotate(
        today_quote=Sum(notional, filter=is_today, default=0), today_fees=Sum("fee_quote", filter=is_today, default=0),
        week_quote=Sum(notional, default=0), week_fees=Sum("fee_quote", default=0),
    ).order_by()
    return {row.pop("bot__account__name") or "(adopted)": row for row in rows}


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
