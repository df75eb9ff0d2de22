"""Reads: what the admin, the API and the commands show. No writes, no HTTP."""
import decimal
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

import orjson
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Func, Max, Q, QuerySet, Sum, TextField
from django.db.models.functions import Cast, Trunc

from bots import precompiled, rollups, strategies
from bots.models import (
    Account, Alert, Bot, BotEvent, DailyRollup, HummingbotServer, KillSwitchRun, PerformanceSample, SyncState, Trade,
)
from bots.rollups import ExactSum
from bots.states import ACTIVE, PENDING, PENDING_GRACE
from bots.money import plain_decimal
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


TIMESTAMP_COLUMNS = ["status_synced_at", "trades_synced_at", "created_at", "perf_read_at"]
MONEY_COLUMNS = ["perf_net_pnl_quote", "perf_volume_quote"]


class PlainMoneyText(Func):
    """A money column as the text plain_decimal writes ('3.535'), written by PostgreSQL: its numeric read as Decimals
    and formatted in Python cost the list ~1.5 ms at 1,000 bots. SQLite holds a float, read in Python
    (_plain_money)."""

    template = "%(expressions)s"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="TRIM_SCALE(%(expressions)s)::text", **extra)


def bot_list_rows(*, failed_servers: set, server_name: str | None = None) -> list[dict]:
    """What BotSerializer renders for bot_list(), from one query compiled once per process: at 1,000 bots the
    serializer's per-field work costs more than the upstream call the list replaces (tests pin that both agree, on
    SQLite and PostgreSQL). The costliest columns come as text from the database, never parsed to be re-encoded:
    `params` as stored, embedded as is by orjson, timestamps in the form DRF writes; money as the driver gives it,
    written once per value (_plain_money), never through Django's per-value converters (bench/bots_list.py)."""
    rows = precompiled.fetch_rows(_bot_rows, server_name, converted=False)
    archived = str(Bot.Status.ARCHIVED)
    markets = {}
    listed = []
    for (name, status, strategy, connector, pair, account, server, hummingbot_name, last_error, synced_at,
         trades_synced_at, trades_sync_error, params, created_at, net_pnl, volume, perf_read_at) in rows:
        if connector not in markets:
            markets[connector] = (strategies.chain_for(connector), strategies.venue_for(connector),
                                  strategies.network_for(connector))
        chain, venue, network = markets[connector]
        listed.append({  # constant keys only: one dict built in one step
            "id": name, "name": name, "status": status, "strategy": strategy, "connector": connector,
            "pair": pair.replace("-", "/"), "trading_pair": pair, "chain": chain, "venue": venue, "network": network,
            "account": account, "server": server, "hummingbot_name": hummingbot_name, "last_error": last_error,
            "synced_at": synced_at, "trades_synced_at": trades_synced_at, "trades_sync_error": trades_sync_error,
            "stale": server in failed_servers or (status != archived and synced_at is None),
            "params": orjson.Fragment(params), "created_at": created_at,
            "performance": None if perf_read_at is None else {"net_pnl_quote": _plain_money(net_pnl),
                                                              "volume_quote": _plain_money(volume),
                                                              "read_at": perf_read_at},
        })
    return listed


def _bot_rows(server_name: str | None) -> QuerySet:
    as_text = {f"{column}_text": DrfTimestamp(column) for column in TIMESTAMP_COLUMNS}
    bots = Bot.objects.order_by("name")
    if server_name is not None:
        bots = bots.filter(server__name=server_name)
    as_text.update({f"{column}_text": PlainMoneyText(column) for column in MONEY_COLUMNS})
    return bots.annotate(**as_text, params_text=Cast("params", TextField())).values_list(
        "name", "status", "strategy", "connector", "trading_pair", "account__name", "server__name",
        "hummingbot_name", "last_error", "status_synced_at_text", "trades_synced_at_text", "trades_sync_error",
        "params_text", "created_at_text", "perf_net_pnl_quote_text", "perf_volume_quote_text", "perf_read_at_text",
    )


_sqlite_decimal = decimal.Context(prec=15).create_decimal_from_float
_MONEY_PLACES = Decimal(1).scaleb(-Bot._meta.get_field("perf_net_pnl_quote").decimal_places)
_MONEY_CONTEXT = Bot._meta.get_field("perf_net_pnl_quote").context


@lru_cache(maxsize=16_384)
def _plain_money(value: str | float | int | None) -> str | None:
    """A PlainMoneyText column as plain_decimal writes it: PostgreSQL's text as is; SQLite's float (or integer) read
    as Django's converter reads a DecimalField (15 significant digits, then the field's places). Cached: a bot's
    figures change only when Hummingbot reports a change, and converting 2,000 of them per list cost more than the
    list's query (bench/bots_list.py)."""
    if value is None or isinstance(value, str):
        return value
    return plain_decimal(_sqlite_decimal(value).quantize(_MONEY_PLACES, context=_MONEY_CONTEXT))


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


def hummingbot_outages() -> list[dict]:
    """Each current outage, one per server whose last status read failed, with the event that started it: one
    server recovering says nothing of another (the panel's banner, which the live status script keeps by server)."""
    failing = SyncState.objects.exclude(last_error="").order_by("scope").values_list("scope", flat=True)
    return [{"server": scope, "at": outage.at, "detail": outage.detail}
            for scope in failing if (outage := hummingbot_outage(scope)) is not None]


def last_kill_switch_run() -> KillSwitchRun | None:
    return KillSwitchRun.objects.select_related("account").first()  # Meta.ordering: newest first


# A status read older than this, for a bot that is not archived, means the sync is not running (it reads every
# BOTS_SYNC_SECONDS, at most a minute apart).
STALE_SYNC = timedelta(minutes=5)
ATTENTION_SHOWN = 20


def fleet_overview(*, now: datetime, since: date, until: date) -> dict:
    """The admin index's fleet: bots by status per account, the bots that need attention, and each account's volume
    and fees over UTC days since..until. Four queries whatever the fleet's size, the totals from the daily rollups
    (bench/admin_pages.py, "overview")."""
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
            "attention_more": len(attention) > ATTENTION_SHOWN, "totals": ledger_totals(since=since, until=until)}


def _attention_reason(bot: Bot, now: datetime) -> str:
    if bot.status in (Bot.Status.ERROR, Bot.Status.NOT_FOUND):
        return f"{bot.get_status_display()}: {bot.last_error}" if bot.last_error else bot.get_status_display()
    if bot.status in PENDING and bot.updated_at < now - PENDING_GRACE:
        return f"{bot.get_status_display()} not confirmed by Hummingbot since {bot.updated_at:%Y-%m-%d %H:%M} UTC"
    if bot.trades_sync_error:
        return f"trades not read: {bot.trades_sync_error}"
    return f"status last read {bot.status_synced_at:%Y-%m-%d %H:%M} UTC"


# Totals over UTC days, read from the daily rollups (docs/design.md §12): the named periods end today, included.
PERIOD_DAYS = {"day": 1, "week": 7, "month": 30}
DEFAULT_PERIOD = "week"
QUOTE_SUMS = ["bought_quote", "sold_quote", "fees_quote"]


def period_dates(period: str, today: date) -> tuple[date, date]:
    """The first and last UTC day (both included) of a named period."""
    return today - timedelta(days=PERIOD_DAYS[period] - 1), today


def quote_of(trading_pair: str) -> str:
    return trading_pair.rsplit("-", 1)[-1]


def ledger_totals(*, since: date, until: date, account: Account | None = None) -> dict:
    """Fills, volume and fees over the UTC days since..until (both included), from the daily rollups, never the
    ledger: two aggregate queries whatever the fleet's size (bench/admin_pages.py). For the fleet, or one account.

    Quote amounts add up per quote asset only (USDT and SOL do not), base amounts per pair only:
    - `totals`: per quote asset, {quote, fills, bought_quote, sold_quote, volume_quote, fees_quote};
    - `rows`: the fleet's per account and quote asset ({account, ...}, "(adopted)" for bots of no account), or an
      account's per bot and pair ({bot, trading_pair, quote, ..., bought_base, sold_base});
    - `days`: per quote asset, every day of the period in order (days without fills as zeros), for the charts.
    """
    rollups_in = DailyRollup.objects.filter(day__gte=since, day__lte=until)
    if account is not None:
        rollups_in = rollups_in.filter(bot__account=account)
    by = "bot__name" if account is not None else "bot__account__name"
    sums = ["bought_base", "sold_base", *QUOTE_SUMS] if account is not None else QUOTE_SUMS
    summed = {"fills": Sum("fills"), **{column: ExactSum(column) for column in sums}}
    rows, totals = {}, {}
    for row in rollups_in.values(by, "trading_pair").annotate(**summed).order_by():
        name, pair = row.pop(by), row.pop("trading_pair")
        quote = quote_of(pair)
        if account is not None:
            rows[name, pair] = {"bot": name, "trading_pair": pair, "quote": quote, **_with_volume(row)}
        else:
            _add_into(rows, (name or "(adopted)", quote), row)
        _add_into(totals, quote, row)
    days = {}
    for row in rollups_in.values("day", "trading_pair").annotate(**summed).order_by():
        day, quote = row.pop("day"), quote_of(row.pop("trading_pair"))
        _add_into(days.setdefault(quote, {}), day, row)
    span = [since + timedelta(days=n) for n in range((until - since).days + 1)]
    return {
        "since": since, "until": until,
        "totals": [{"quote": quote, **_with_volume(totals[quote])} for quote in sorted(totals)],
        "rows": [row for _, row in sorted(rows.items())] if account is not None else
                [{"account": name, "quote": quote, **_with_volume(row)} for (name, quote), row in sorted(rows.items())],
        "days": {quote: [{"day": day, **_with_volume(by_day.get(day) or _zeros())} for day in span]
                 for quote, by_day in sorted(days.items())},
    }


def _zeros() -> dict:
    return {"fills": 0, **{column: Decimal(0) for column in QUOTE_SUMS}}


def _add_into(into: dict, key, row: dict) -> None:
    """Adds a row's fills and quote sums into `into[key]`, exactly."""
    target = into.setdefault(key, _zeros())
    target["fills"] += row["fills"]
    for column in QUOTE_SUMS:
        target[column] = rollups.EXACT.add(target[column], row[column])


def _with_volume(row: dict) -> dict:
    return {**row, "volume_quote": rollups.EXACT.add(row["bought_quote"], row["sold_quote"])}


# The bot page's charts: every sync's sample of the last hours, the last of each hour before (docs/design.md §14).
RECENT_PERFORMANCE = timedelta(hours=6)


def bot_performance_points(bot: Bot, *, now: datetime) -> list[tuple[datetime, Decimal, Decimal]]:
    """(read time, net PnL, volume) of the bot's performance samples, oldest first, in one query: every one of the
    last RECENT_PERFORMANCE, the last of each hour before. Ends with the bot's current figures at their read time,
    the page's cards: the chart's last point is the card (unchanged figures add no sample, so that read comes
    later than the newest sample)."""
    samples = PerformanceSample.objects.filter(bot=bot)
    recent = now - RECENT_PERFORMANCE
    last_of_each_hour = samples.filter(read_at__lt=recent).annotate(hour=Trunc("read_at", "hour")).values(
        "hour").annotate(last=Max("id")).values("last")
    points = list(samples.filter(Q(read_at__gte=recent) | Q(id__in=last_of_each_hour)).order_by("read_at").values_list(
        "read_at", "net_pnl_quote", "volume_quote"))
    if bot.perf_read_at is not None and (not points or points[-1][0] < bot.perf_read_at):
        points.append((bot.perf_read_at, bot.perf_net_pnl_quote, bot.perf_volume_quote))
    return points


ALERT_STATES = ("open", "acknowledged", "resolved")  # Alert.state


def alert_state(state: str) -> Q:
    """The rows whose Alert.state is `state` (open: not resolved and nobody acknowledged it yet)."""
    return {"open": Q(resolved_at=None, acknowledged_at=None),
            "acknowledged": Q(resolved_at=None, acknowledged_at__isnull=False),
            "resolved": Q(resolved_at__isnull=False)}[state]


def alerts(*, state: str | None = None, bot: Bot | None = None) -> QuerySet[Alert]:
    """Newest first, of one state (ALERT_STATES) or all."""
    listed = Alert.objects.select_related("bot", "server", "account").order_by("-opened_at", "-id")
    if state is not None:
        listed = listed.filter(alert_state(state))
    return listed if bot is None else listed.filter(bot=bot)


def alert_get(alert_id: str) -> Alert | None:
    """An alert by the id in an API path; None for one that names no alert (refused before the query when it is no
    row id at all: PostgreSQL refuses a bigint out of range)."""
    if not (alert_id.isascii() and alert_id.isdigit() and len(alert_id) <= 18):
        return None
    return alerts().filter(pk=int(alert_id)).first()


def alert_counts() -> dict[str, int]:
    """Unresolved alerts, open and acknowledged, for the panel's header: one aggregate over the unresolved rows
    (those the one-open-alert constraint's partial index holds)."""
    return Alert.objects.filter(resolved_at=None).aggregate(
        open=Count("id", filter=Q(acknowledged_at=None)),
        acknowledged=Count("id", filter=Q(acknowledged_at__isnull=False)))


def last_delivery_failure() -> Alert | None:
    """The alert whose notice failed last and is still not through (the alerts page shows it with the channels)."""
    return Alert.objects.exclude(delivery_error="").order_by("-delivery_failed_at").first()


def bot_open_alerts(bot: Bot) -> list[Alert]:
    """The bot page's unresolved alerts, open or acknowledged, newest first."""
    return list(Alert.objects.filter(bot=bot, resolved_at=None).order_by("-opened_at", "-id"))


def day_net_pnl(day: date) -> dict[str, dict[str, Decimal]]:
    """Net PnL over one UTC day as Hummingbot reported it, per account name ("(adopted)" for bots of none) and quote
    asset: each bot's last performance sample before the day's end less its last one before the day's start (0 when
    it had none: it started that day). Bots with no sample before the end reported nothing and are left out. Two
    queries whatever the fleet's size (sample ids grow with read time, services/performance.py)."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    at_start, at_end = _net_pnl_at(start), _net_pnl_at(start + timedelta(days=1))
    pnl: dict[str, dict[str, Decimal]] = {}
    for bot, (account, pair, net) in at_end.items():
        quotes = pnl.setdefault(account or "(adopted)", {})
        quote = pair.rsplit("-", 1)[-1]
        quotes[quote] = quotes.get(quote, Decimal(0)) + net - at_start.get(bot, (None, None, Decimal(0)))[2]
    return pnl


def _net_pnl_at(moment: datetime) -> dict[int, tuple[str | None, str, Decimal]]:
    """Each bot's net PnL in its last sample read before `moment`: {bot id: (account name, pair, net PnL)}."""
    last = PerformanceSample.objects.filter(read_at__lt=moment).values("bot").annotate(last=Max("id")).values("last")
    return {bot: (account, pair, net) for bot, account, pair, net in PerformanceSample.objects.filter(
        id__in=last).values_list("bot", "bot__account__name", "bot__trading_pair", "net_pnl_quote")}


# Where an open alert of no bot and no account (a server's) is listed in the daily report.
NO_ACCOUNT = "(no account)"


def daily_report(day: date) -> list[dict]:
    """The daily desk report's figures for one UTC day, per account by name (every account, "(adopted)" for
    bots of no account when they filled): net PnL per quote asset (day_net_pnl), fills, volume and fees per quote asset from the
    daily rollups, and what needs attention now: bots in error or not found, and open alerts. Seven queries
    whatever the fleet's size."""
    pnl = day_net_pnl(day)
    report = {name: {"account": name, "pnl": pnl.get(name), "quotes": [], "attention": []}
              for name in Account.objects.order_by("name").values_list("name", flat=True)}

    def of(name: str) -> dict:
        return report.setdefault(name, {"account": name, "pnl": pnl.get(name), "quotes": [], "attention": []})

    for row in ledger_totals(since=day, until=day)["rows"]:
        of(row["account"])["quotes"].append(row)
    for bot in Bot.objects.filter(status__in=[Bot.Status.ERROR, Bot.Status.NOT_FOUND]).values(
            "name", "status", "account__name").order_by("name"):
        of(bot["account__name"] or "(adopted)")["attention"].append(
            f"bot {bot['name']}: {Bot.Status(bot['status']).label}")
    for alert in Alert.objects.filter(resolved_at=None).values(
            "rule", "subject", "severity", "account__name", "bot", "bot__account__name").order_by("opened_at", "id"):
        name = alert["account__name"] or alert["bot__account__name"] or ("(adopted)" if alert["bot"] else NO_ACCOUNT)
        of(name)["attention"].append(f"{alert['severity']} alert: {Alert.Rule(alert['rule']).label}: {alert['subject']}")
    return [report[name] for name in sorted(report)]
