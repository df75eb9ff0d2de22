"""The fleet overview on the admin index (issue 10 item 3): statuses per account, what needs attention, volume
today and over 7 days, Hummingbot's reachability and version, balances."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from bots.models import Account, Bot, Trade

pytestmark = pytest.mark.django_db


def bot(account, name, status="running", **fields):
    fields.setdefault("status_synced_at", timezone.now())
    return Bot.objects.create(name=name, account=account, strategy="spread", connector="bitmart",
                              trading_pair="SHARP-USDT", status=status, **fields)


def trade(bot, trade_id, at, price="2", amount="3", fee="0.1"):
    Trade.objects.create(bot=bot, trade_id=trade_id, timestamp=at, trading_pair="SHARP-USDT", side="buy",
                         price=Decimal(price), amount=Decimal(amount), fee_quote=Decimal(fee))


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


def test_overview_sums_volume_and_fees_today_and_over_7_days_per_account(panel, upstream_account):
    now = timezone.now()
    b = bot(upstream_account, "mm")
    trade(b, "today", now - timedelta(minutes=1))
    trade(b, "this_week", now - timedelta(days=3))
    trade(b, "older", now - timedelta(days=8))
    volume = panel.get(reverse("admin:index")).context["overview"]["volume"]["client_sharp"]
    assert (volume["today_quote"], volume["week_quote"]) == (Decimal(6), Decimal(12))
    assert (volume["today_fees"], volume["week_fees"]) == (Decimal("0.1"), Decimal("0.2"))


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


def test_overview_volume_counts_neither_trades_older_than_7_days_nor_after_today(panel, upstream_account):
    now = timezone.now()
    b = bot(upstream_account, "mm")
    trade(b, "in", now - timedelta(days=6))
    trade(b, "old", now - timedelta(days=7, minutes=1))
    trade(b, "tomorrow", now + timedelta(days=2))
    assert panel.get(reverse("admin:index")).context["overview"]["volume"]["client_sharp"]["week_quote"] == 6
