"""Hummingbot's reported performance over time: a sample per status sync when a bot's figures changed, thinned
with age. The one source of a bot's PnL on its page (cards and charts), in the list and in GET /bots; the trade
ledger stays the record of fills, fees and inventory (docs/design.md §10)."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import connection
from django.db.models import Case, F, Max, OuterRef, Subquery, Value, When
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
    bot's controllers; None when no controller reports figures (a stopped v2 bot's reports are empty, §10) or one
    is no finite number the ledger's columns can hold. A figure a report leaves out counts 0."""
    reports = [entry["performance"] for entry in (performance or {}).values()
               if isinstance(entry, dict) and isinstance(entry.get("performance"), dict) and entry["performance"]]
    if not reports:
        return None
    totals = {}
    for key, field in REPORT_FIGURES.items():
        values = [_number(report.get(key)) for report in reports]
        if None in values:
            return None
        totals[field] = sum(values, Decimal(0))
    return totals if all(abs(total) < _LIMIT for total in totals.values()) else None


def _number(value) -> Decimal | None:
    if value is None:
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = Decimal(str(value))  # str: a float's shortest text, 0.85 and not 0.84999999999999997779...
    except InvalidOperation:
        return None
    return number.quantize(_QUANTUM) if number.is_finite() and abs(number) < _LIMIT else None


def record_samples(reported: dict[Bot, dict[str, Decimal] | None], *, now: datetime) -> dict:
    """One sample for each bot whose figures differ from its last ones, in one INSERT for them all; returns the
    fields that bring the bots' perf_* columns up to date, for the sync's own UPDATE of those rows: its `now` as the
    read time of every bot that reported figures, and the newest sample's figures for those that changed (so a
    bot's perf_* columns are always its newest sample)."""
    fields = {}
    reporting = [bot.pk for bot, figures in reported.items() if figures is not None]
    if reporting:
        fields["perf_read_at"] = Case(When(pk__in=reporting, then=Value(now)), default=F("perf_read_at"))
    changed = {bot: figures for bot, figures in reported.items()
               if figures is not None and figures != {field: getattr(bot, f"perf_{field}") for field in FIGURES}}
    if changed:
        _insert([PerformanceSample(bot=bot, read_at=now, **figures) for bot, figures in changed.items()])
        newest = PerformanceSample.objects.filter(bot=OuterRef("pk")).order_by("-read_at")
        changed_pks = [bot.pk for bot in changed]
        fields.update({f"perf_{field}": Case(When(pk__in=changed_pks, then=Subquery(newest.values(field)[:1])),
                                             default=F(f"perf_{field}")) for field in FIGURES})
    return fields


def _insert(samples: list[PerformanceSample]) -> None:
    """One executemany of the values as each field adapts them: bulk_create would split 1,000 bots' samples into
    batches of 166 on SQLite (999 variables a statement), so the sync's query count would grow with the fleet.
    Two syncs reading at the same instant (a frozen test clock) keep the first one's sample."""
    fields = [PerformanceSample._meta.get_field(name) for name in ["bot", "read_at", *FIGURES]]
    quote = connection.ops.quote_name
    sql = (f"INSERT INTO {quote(PerformanceSample._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT (bot_id, read_at) DO NOTHING")
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[field.get_db_prep_save(getattr(sample, field.attname), connection)
                                  for field in fields] for sample in samples])


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
