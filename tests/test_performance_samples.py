"""Hummingbot's reported performance, kept per status sync (issue 18): one truth for a bot's PnL. Each sync stores
the figures of the bots whose report changed, in one statement for all of them; samples are thinned with age; the
bot page's cards are the chart's last point; the list and GET /bots carry the latest figures."""
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import responses
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bots import services
from bots.models import Bot, PerformanceSample, Trade
from bots.services.performance import DETAIL_KEPT, performance_samples_thin, reported_figures

pytestmark = pytest.mark.django_db
STATUS_URL = "/bot-orchestration/status"


def controller(realized, unrealized, volume):
    """One controller's entry of the status payload (docs/hummingbot-api.md §2, captured
    bot-orchestration-status_running.json): PerformanceReport figures as JSON numbers."""
    return {"status": "running", "custom_info": {}, "performance": {
        "realized_pnl_quote": realized, "unrealized_pnl_quote": unrealized, "unrealized_pnl_pct": 0.0,
        "realized_pnl_pct": 0.0, "global_pnl_quote": round(realized + unrealized, 8), "global_pnl_pct": 0.0,
        "volume_traded": volume, "positions_summary": [], "close_type_counts": {}}}


def status_body(reports: dict[str, dict]) -> dict:
    return {"status": "success", "data": {name: {
        "status": "running", "performance": performance, "error_logs": [], "general_logs": [],
        "recently_active": True, "source": "docker"} for name, performance in reports.items()}}


def seed(account, count) -> list[Bot]:
    Bot.objects.bulk_create(
        Bot(name=f"bot{i:04}", hummingbot_name=f"bot{i:04}-20260101-000000", account=account, strategy="spread",
            connector="bitmart", trading_pair="SHARP-USDT", status="running") for i in range(count))
    return list(Bot.objects.order_by("name"))


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("django.utils.timezone.now", lambda: clock.now)
    return clock


def sync_with(reports: dict[str, dict], **kwargs):
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{settings.HUMMINGBOT_API_URL}{STATUS_URL}", json=status_body(reports))
        return services.bots_sync(**kwargs)


def test_each_sync_keeps_the_reported_figures_only_when_they_changed(account, clock):
    bot, = seed(account, 1)
    report = {"a": controller(1.25, -0.4, 1520.5), "b": controller(0.5, 0.1, 100)}  # summed over controllers
    sync_with({bot.hummingbot_name: report})
    clock.advance(seconds=10)
    sync_with({bot.hummingbot_name: report})  # unchanged: no new sample, the figures were read again
    clock.advance(seconds=10)
    sync_with({bot.hummingbot_name: {**report, "b": controller(0.75, 0.1, 120)}})

    samples = list(PerformanceSample.objects.filter(bot=bot).values_list(
        "read_at", "realized_pnl_quote", "unrealized_pnl_quote", "net_pnl_quote", "volume_quote"))
    start = clock.now - timedelta(seconds=20)
    assert samples == [(start, Decimal("1.75"), Decimal("-0.3"), Decimal("1.45"), Decimal("1620.5")),
                       (clock.now, Decimal("2"), Decimal("-0.3"), Decimal("1.7"), Decimal("1640.5"))]
    bot.refresh_from_db()
    assert (bot.perf_realized_pnl_quote, bot.perf_unrealized_pnl_quote, bot.perf_net_pnl_quote,
            bot.perf_volume_quote, bot.perf_read_at) == (*samples[-1][1:], clock.now)


def test_a_bot_that_stops_reporting_keeps_its_last_figures_and_their_read_time(account, clock):
    bot, = seed(account, 1)
    sync_with({bot.hummingbot_name: {"c": controller(1, 0, 50)}})
    read = clock.now
    clock.advance(seconds=10)
    sync_with({bot.hummingbot_name: {"c": {}}})  # a stopped v2 bot: empty controller reports (§10)
    bot.refresh_from_db()
    assert bot.status == "stopped" and PerformanceSample.objects.filter(bot=bot).count() == 1
    assert (bot.perf_net_pnl_quote, bot.perf_volume_quote, bot.perf_read_at) == (Decimal(1), Decimal(50), read)


def test_a_report_with_a_figure_that_is_no_number_is_not_sampled(account, clock):
    bot, = seed(account, 1)
    broken = controller(1, 0, 50)
    broken["performance"]["volume_traded"] = "lots"
    sync_with({bot.hummingbot_name: {"c": broken}})
    assert not PerformanceSample.objects.exists() and Bot.objects.get().perf_read_at is None
    assert reported_figures({"c": {**controller(1, 0, 50), "performance": {"volume_traded": float("nan")}}}) is None
    assert reported_figures({"c": controller(1e30, 0, 1)}) is None  # beyond the ledger's 38 digits


@pytest.mark.parametrize("store_details", [True, False])
def test_one_sync_stores_the_samples_of_every_changed_bot_in_the_same_statements_at_10_and_200_bots(
        account, clock, store_details):
    sync_with({})  # the first sync of a database also makes the default server and its sync state
    counts = []
    for size in (10, 200):
        Bot.objects.all().delete()
        bots = seed(account, size)
        with CaptureQueriesContext(connection) as queries:
            sync_with({bot.hummingbot_name: {"c": controller(i, 0, 10 * i)} for i, bot in enumerate(bots)},
                      store_details=store_details)
        counts.append(len(queries))
        inserts = [q["sql"] for q in queries if 'INSERT INTO "bots_performancesample"' in q["sql"]]
        assert len(inserts) == 1 and PerformanceSample.objects.count() == size
        clock.advance(seconds=10)
    assert counts[0] == counts[1]


def test_thinning_keeps_every_sync_for_two_days_then_the_last_sample_of_each_hour(account, clock):
    bot, = seed(account, 1)
    start = clock.now
    volume = 0
    for _ in range(3 * 24 * 6):  # three days, a report every 10 minutes, each one changed
        volume += 1
        sync_with({bot.hummingbot_name: {"c": controller(0, 0, volume)}})
        clock.advance(minutes=10)
    assert PerformanceSample.objects.count() == 3 * 24 * 6

    deleted = performance_samples_thin(now=clock.now)

    kept = list(PerformanceSample.objects.values_list("read_at", flat=True))
    cutoff = clock.now - DETAIL_KEPT
    old = [at for at in kept if at < cutoff]
    assert len(old) == 24 and all(at.minute == 50 for at in old)  # the last of each hour of the first day
    assert [at for at in kept if at >= cutoff] == [start + timedelta(minutes=10 * i) for i in range(24 * 6, 3 * 24 * 6)]
    assert deleted == 24 * 5
    assert performance_samples_thin(now=clock.now) == 0  # idempotent
    assert Bot.objects.get().perf_volume_quote == PerformanceSample.objects.last().volume_quote


# --- the bot page: one truth, on the sandbox ---


def card(html: str, label: str) -> str:
    return re.search(rf'<span class="card-label">{label}</span><b>([^<]*)</b>', html).group(1)


def chart_last(html: str, chart: str) -> str:
    return re.search(rf'<figure class="bot-chart" data-chart="{chart}" data-last-value="([^"]*)"', html).group(1)


def test_on_the_sandbox_the_pnl_card_is_the_charts_last_point_and_both_volumes_are_side_by_side(
        panel, shared_clock, upstream_account):
    bot = services.bot_create(name="sharp_mm", account=upstream_account, strategy="spread", connector="bitmart",
                              trading_pair="SHARP-USDT", user=None,
                              params={"order_amount": "1000", "budget_quote": "500", "buy_spreads_pct": [0.5, 1],
                                      "sell_spreads_pct": [0.5, 1]})
    for _ in range(6):  # a report per sync, a minute apart, fills in between
        shared_clock.state.inject_fills(bot.hummingbot_name, 3)
        shared_clock.advance(60)
        services.bots_sync()
    services.trades_sync()
    shared_clock.state.inject_fills(bot.hummingbot_name, 2)  # made after the trade sync: not in the ledger yet
    shared_clock.advance(10)
    services.bots_sync()

    html = panel.get(reverse("admin:bots_bot_change", args=[bot.pk])).content.decode()
    bot.refresh_from_db()
    assert card(html, "Net PnL") == chart_last(html, "net-pnl") == format(bot.perf_net_pnl_quote.normalize(), "f")
    assert card(html, "Volume traded") == chart_last(html, "volume-traded")
    assert PerformanceSample.objects.filter(bot=bot).count() == 7
    ledger = sum((t.price * t.amount for t in Trade.objects.filter(bot=bot)), Decimal(0))
    assert card(html, "Volume in the ledger") == format(ledger.normalize(), "f")
    difference = format((bot.perf_volume_quote - ledger).quantize(Decimal("1e-8")).normalize(), "f")
    assert (f"Hummingbot reports {difference} USDT more volume than the 18 fills read so far: the trade sync "
            f"reads the rest every minute") in html


def page_of(panel, bot) -> str:
    return panel.get(reverse("admin:bots_bot_change", args=[bot.pk])).content.decode()


@pytest.fixture
def reported_bot(account, clock):
    bot, = seed(account, 1)
    sync_with({bot.hummingbot_name: {"c": controller(0, 0, 110)}})
    bot.refresh_from_db()
    return bot


def ledger(bot, *notionals):
    Trade.objects.bulk_create(
        Trade(bot=bot, trade_id=f"t{i}", timestamp=bot.perf_read_at - timedelta(minutes=1), trading_pair="SHARP-USDT",
              side="buy", price=Decimal(notional), amount=Decimal(1)) for i, notional in enumerate(notionals))


def test_the_page_says_when_ledger_and_hummingbot_volumes_agree(panel, reported_bot):
    ledger(reported_bot, "100", "10")
    html = page_of(panel, reported_bot)
    assert "Hummingbot&#x27;s volume and the ledger&#x27;s agree: 110 USDT from 2 fills." in html


def test_the_page_says_the_ledger_holds_more_than_hummingbots_last_report(panel, reported_bot, clock):
    ledger(reported_bot, "100", "20")
    Trade.objects.filter(trade_id="t1").update(timestamp=clock.now + timedelta(seconds=5))
    assert ("The ledger holds 10 USDT more volume than Hummingbot&#x27;s last report: fills made after that report"
            in page_of(panel, reported_bot))


def test_a_bot_never_reported_says_so_on_its_cards_and_charts(panel, account):
    bot, = seed(account, 1)
    html = page_of(panel, bot)
    assert "Hummingbot has reported no figures for this bot yet" in html and "Net PnL: none reported yet." in html


def test_the_chart_has_a_point_per_sync_for_recent_hours_and_one_per_hour_before(account, clock):
    from bots import selectors

    bot, = seed(account, 1)
    for minute in range(12 * 60):  # twelve hours, a changed report every minute
        sync_with({bot.hummingbot_name: {"c": controller(0, 0, minute + 1)}})
        clock.advance(minutes=1)
    bot.refresh_from_db()
    points = selectors.bot_performance_points(bot, now=clock.now)
    recent = [at for at, _, _ in points if at >= clock.now - selectors.RECENT_PERFORMANCE]
    assert len(recent) == 6 * 60
    assert len(points) - len(recent) == 6  # the last of each of the six older hours
    assert points[-1] == (bot.perf_read_at, bot.perf_net_pnl_quote, bot.perf_volume_quote)


# --- the list and the API ---


def test_bot_list_has_pnl_and_volume_columns(panel, reported_bot):
    html = panel.get(reverse("admin:bots_bot_changelist")).content.decode()
    assert '<th scope="col" class="sortable column-net_pnl">' in html and "column-volume" in html
    assert '<td class="field-net_pnl">0</td><td class="field-volume">110</td>' in html


def test_get_bots_rows_carry_performance_as_plain_decimals(api, account, clock):
    bot, = seed(account, 2)[:1]
    sync_with({bot.hummingbot_name: {"c": controller(1.5, 0.25, 1014.65)}})
    rows = {row["id"]: row for row in api.get("/bots").json()["bots"]}
    assert rows["bot0000"]["performance"] == {"net_pnl_quote": "1.75", "volume_quote": "1014.65",
                                              "read_at": clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert rows["bot0001"]["performance"] is None
    assert api.get("/bots/bot0000").json()["performance"] == rows["bot0000"]["performance"]


def test_schema_says_performance_figures_are_decimal_strings(api):
    import json

    schema = json.loads(api.get("/api/schema?format=json").content)["components"]["schemas"]
    figures = schema["Performance"]["properties"]
    assert figures["net_pnl_quote"]["type"] == "string" and figures["net_pnl_quote"]["format"] == "decimal"
    assert figures["volume_quote"]["format"] == "decimal" and figures["read_at"]["format"] == "date-time"
