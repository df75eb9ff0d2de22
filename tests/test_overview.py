"""The fleet overview on the admin index (issue 10 item 3): statuses per account, what needs attention, volume and
fees per account over a chosen period from the daily rollups (issue 18), Hummingbot's reachability and version,
balances."""
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bots import ledger
from bots.hummingbot.client import Fill
from bots.models import Account, Bot

pytestmark = pytest.mark.django_db


def bot(account, name, status="running", **fields):
    fields.setdefault("status_synced_at", timezone.now())
    fields.setdefault("trading_pair", "SHARP-USDT")
    return Bot.objects.create(name=name, account=account, strategy="spread", connector="bitmart", status=status,
                              **fields)


def trade(bot, trade_id, at, price="2", amount="3", fee="0.1", pair="SHARP-USDT"):
    """Stored as a sync stores fills: with the daily rollups."""
    ledger.insert_fills([(bot, [Fill(trade_id=trade_id, timestamp=at, trading_pair=pair, side="buy",
                                     price=Decimal(price), amount=Decimal(amount), fee_quote=Decimal(fee), raw={})])])


def midnight(days_ago=0) -> datetime:
    """The start of a UTC day (fills stamped from it belong to that day, whatever the time of the test)."""
    return datetime.combine(timezone.now().date(), datetime.min.time(), tzinfo=UTC) - timedelta(days=days_ago)


def volume(page) -> dict:
    return {(row["account"], row["quote"]): (row["volume_quote"], row["fees_quote"], row["fills"])
            for row in page.context["overview"]["totals"]["rows"]}


def test_overview_counts_bots_by_status_per_account_and_lists_what_needs_attention(panel, upstream_account):
    other = Account.objects.create(name="client_b")
    bot(upstream_account, "ok_1")
    bot(upstream_account, "ok_2")
    bot(upstream_account, "broken", status="error", last_error="keys refused")
    bot(other, "gone", status="not_found")
    bot(other, "unsynced", status_synced_at=timezone.now() - timedelta(hours=1))
    bot(other, "unread", trades_sync_error="history timed out")
    waiting = bot(other, "waiting", status="starting")
    Bot.objects.filter(pk=waiting.pk).update(updated_at=timezone.now() - timedelta(minutes=10))
    page = panel.get(reverse("admin:index"))
    overview = page.context["overview"]
    running = overview["statuses"].index("running")
    counts = dict(overview["accounts"])
    assert counts["client_sharp"][running] == 2 and counts["client_b"][running] == 2
    reasons = {b.name: reason for b, reason in overview["attention"]}
    assert sorted(reasons) == ["broken", "gone", "unread", "unsynced", "waiting"]
    assert reasons["broken"] == "Error: keys refused" and reasons["unread"] == "trades not read: history timed out"
    assert "not confirmed by Hummingbot" in reasons["waiting"] and "status last read" in reasons["unsynced"]


def test_overview_sums_volume_and_fees_per_account_and_quote_asset_over_the_chosen_period(panel, upstream_account):
    b = bot(upstream_account, "mm")
    other = bot(Account.objects.create(name="client_b"), "sol_mm", trading_pair="SHARP-SOL")
    trade(b, "today", midnight())
    trade(b, "three_days_ago", midnight(3) + timedelta(hours=23, minutes=59))
    trade(b, "eight_days_ago", midnight(8))
    trade(other, "in_sol", midnight(), price="0.5", amount="10", fee="0.01", pair="SHARP-SOL")
    week = panel.get(reverse("admin:index"))
    assert volume(week) == {("client_sharp", "USDT"): (12, Decimal("0.2"), 2),
                            ("client_b", "SOL"): (5, Decimal("0.01"), 1)}
    totals = week.context["overview"]["totals"]["totals"]
    assert [(total["quote"], total["volume_quote"]) for total in totals] == [("SOL", 5), ("USDT", 12)]
    assert "all accounts" in week.content.decode() and "Volume per day, USDT" in week.content.decode()
    today = volume(panel.get(reverse("admin:index"), {"period": "day"}))
    assert today[("client_sharp", "USDT")] == (6, Decimal("0.1"), 1)
    assert volume(panel.get(reverse("admin:index"), {"period": "month"}))[("client_sharp", "USDT")][0] == 18
    days = {"period": "custom", "since": midnight(8).date().isoformat(), "until": midnight(3).date().isoformat()}
    assert volume(panel.get(reverse("admin:index"), days)) == {("client_sharp", "USDT"): (12, Decimal("0.2"), 2)}


@pytest.mark.parametrize("query, message", [
    ({"period": "custom", "since": "2026-13-01", "until": "2026-12-01"}, "since: Enter a valid date."),
    ({"period": "custom", "until": "2026-12-01"}, "since: Give the first and the last day (UTC)"),
    ({"period": "custom", "since": "2026-12-02", "until": "2026-12-01"}, "is after the last (2026-12-01): swap them"),
    ({"period": "custom", "since": "2024-01-01", "until": "2026-12-01"}, "at most 366 at once"),
    ({"period": "fortnight"}, "period: Select a valid choice."),
])
def test_a_period_that_cannot_be_read_is_said_and_the_last_7_days_shown(panel, account, query, message):
    page = panel.get(reverse("admin:index"), query)
    assert page.status_code == 200
    assert message in page.content.decode() and "(showing the last 7 days)" in page.content.decode()
    totals = page.context["overview"]["totals"]
    assert (totals["until"] - totals["since"]).days == 6


def test_overview_reads_the_rollups_never_the_ledger(panel, upstream_account):
    trade(bot(upstream_account, "mm"), "today", midnight())
    with CaptureQueriesContext(connection) as queries:
        assert volume(panel.get(reverse("admin:index")))[("client_sharp", "USDT")][0] == 6
    assert not [query["sql"] for query in queries if '"bots_trade"' in query["sql"]]


def test_overview_shows_hummingbot_version_and_balances(panel, upstream_account, hummingbot):
    hummingbot.state.portfolio.set_balance("client_sharp", "bitmart", "USDT", units=50, available=40)
    page = panel.get(reverse("admin:index"))
    [(server, reachable)] = page.context["hummingbots"]
    assert server.name == "default" and reachable["ok"] and reachable["version"]
    assert page.context["balances"][0][0] == "client_sharp"
    assert "Hummingbot default:\n  <b style=\"color:#1a7f37\">reachable</b>, version" in page.content.decode()


def test_overview_says_hummingbot_is_unreachable_without_asking_for_balances(panel, account, settings):
    settings.HUMMINGBOT_API_URL = "http://127.0.0.1:9"
    settings.HUMMINGBOT_RETRIES = 0
    page = panel.get(reverse("admin:index"))
    [(_, reachable)] = page.context["hummingbots"]
    assert not reachable["ok"] and page.context["balances"] == []
    assert "Balances not read from default: Hummingbot is unreachable." in page.content.decode()
