"""Hummingbot's reported performance over time: a sample per status sync when a bot's figures changed, thinned
with age. The one source of a bot's PnL on its page (cards and charts), in the list and in GET /bots; the trade
ledger stays the record of fills, fees and inventory (docs/design.md §14)."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import connection
from django.db.models import Max, OuterRef, Subquery
from django.db.models.functions import Trunc

from bots.models import MONEY, Bot, PerformanceSample

# A controller's PerformanceReport keys (docs/hummingbot-api.md §2) and the sample's fields they are summed into.
# The report has no fee figure: fees come from the ledger.
REPORT_FIGURES = {"realized_pnl_quote": "realized_pnl_quote", "unrealized_pnl_quote": "unrealized_pnl_quote",
                  "global_pnl_quote": "net_pnl_quote", "volume_traded": "volume_quote"}
FIGURES = list(REPORT_FIGURES.values())
_QUANTUM = Decimal(1).scaleb(-MONEY["decimal_places"])
_LIMIT = Decimal(10) ** (MONEY["max_digits"] - MONEY["decimal_places"])

DETAIL_KEPT = timedelta(days=2)  # every sync's sample; older ones: the last of each hour
# How far back each (hourly) thinning looks: a worker down for longer leaves finer samples, never wrong ones.
THINNING_LOOKBACK = timedelta(days=7)


def reported_figures(performance: dict | None) -> dict[str, Decimal] | None:
    """A status entry's `performance` ({controller_id: {status, performance: {...}, custom_info}}) summed over the
    bot's controllers; None when no controller reports figures (a stopped v2 bot's reports are empty,
    docs/hummingbot-api.md §10) or one is no finite number the ledger's columns can hold. A figure a report leaves
    out counts 0."""
    reports = [entry["performance"] for entry in (performance or {}).values()
               if isinstance(entry, dict) and isinstance(entry.get("performance"), dict) and entry["performance"]]
    if not reports:
        return None
    totals = dict.fromkeys(FIGURES, Decimal(0))
    for report in reports:
        for key, field in REPORT_FIGURES.items():
            value = report.get(key)
            if value is not None:
                number = _number(value)
                if number is None:
                    return None
                totals[field] += number
    return totals if all(abs(total) < _LIMIT for total in totals.values()) else None


def _number(value) -> Decimal | None:
    if type(value) not in (int, float, str):  # JSON's numbers (a bool is no figure)
        return None
    try:
        number = Decimal(str(value))  # str: a float's shortest text, 0.85 and not 0.84999999999999997779...
    except InvalidOperation:
        return None
    return number.quantize(_QUANTUM) if number.is_finite() and abs(number) < _LIMIT else None


def record_performance(reported: dict[Bot, dict[str, Decimal] | None], *, now: datetime) -> list[tuple[list, dict]]:
    """A status read's figures (`reported_figures` of each bot it saw, read at `now`): one sample for each bot whose
    figures differ from its last ones, in one INSERT for them all. Returns the bots in disjoint groups, each with
    the perf_* columns the caller's UPDATE of their rows sets: the changed ones their new sample's figures (a bot's
    perf_* columns are always its newest sample), those that reported figures `now` as their read time, the others
    nothing. The caller writes each row once per sync: a second write would double the row versions PostgreSQL
    keeps in place (bots/migrations/0012); no CASE over a list of ids on every row either."""
    changed, unchanged, silent = [], [], []
    for bot, figures in reported.items():
        if figures is None:
            silent.append(bot.pk)
        elif figures == {field: getattr(bot, f"perf_{field}") for field in FIGURES}:
            unchanged.append(bot.pk)
        else:
            changed.append((bot.pk, figures))
    if changed:
        _insert(changed, now)
    new_sample = PerformanceSample.objects.filter(bot=OuterRef("pk"), read_at=now)
    groups = [([pk for pk, _ in changed], {"perf_read_at": now, **{
                  f"perf_{field}": Subquery(new_sample.values(field)) for field in FIGURES}}),
              (unchanged, {"perf_read_at": now}), (silent, {})]
    return [(pks, columns) for pks, columns in groups if pks]


def _insert(changed: list[tuple[int, dict[str, Decimal]]], now: datetime) -> None:
    """One statement for every changed bot, whatever their number: bulk_create's UNNEST on PostgreSQL; one
    executemany on SQLite (in-process), where bulk_create would make a statement per 166 rows (999 variables).
    Two syncs reading at the same instant (a frozen test clock) keep the first one's sample."""
    if connection.vendor == "postgresql":
        PerformanceSample.objects.bulk_create(
            [PerformanceSample(bot_id=pk, read_at=now, **figures) for pk, figures in changed], ignore_conflicts=True)
        return
    columns, quote = ["bot_id", "read_at", *FIGURES], connection.ops.quote_name
    sql = (f"INSERT INTO {quote(PerformanceSample._meta.db_table)} ({', '.join(map(quote, columns))}) "
           f"VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT (bot_id, read_at) DO NOTHING")
    read_at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:  # Decimals: the sqlite3 adapter Django registers writes them as text
        cursor.executemany(sql, [(pk, read_at, *(figures[field] for field in FIGURES)) for pk, figures in changed])


def performance_samples_thin(*, now: datetime) -> int:
    """Keeps every sample of the last DETAIL_KEPT and, before that, the last sample of each hour of each bot (each
    bot's newest sample among them: its perf_* columns stay its newest sample's). Idempotent; returns how many
    were deleted. Ids grow with read time: a sync inserts its samples in one statement."""
    cutoff = now - DETAIL_KEPT
    old = PerformanceSample.objects.filter(read_at__lt=cutoff, read_at__gte=cutoff - THINNING_LOOKBACK)
    last_of_each_hour = old.annotate(hour=Trunc("read_at", "hour")).values("bot_id", "hour").annotate(
        last=Max("id")).values("last")
    deleted, _ = old.exclude(id__in=Subquery(last_of_each_hour)).delete()
    return deleted
