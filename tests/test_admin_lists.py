"""The bot and trade lists at scale: the same number of queries at 10 and 1,000 bots, nothing that scans the
ledger, plain decimals, relative times, and a CSV export of exactly the filtered list (issue 10)."""
import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.admin_pages import ACCOUNTS, BOT_NAME, PAGES, page_path, seed
from bots.admin import TradeAdmin
from bots.models import Account, Bot, Trade
from bots.templatetags.bots_format import plain_decimal, relative_time

pytestmark = pytest.mark.django_db
TRADES = 3000
QUERIES = {  # per page, the same at 10 and 1,000 bots (session and user included; +1 everywhere: the header's
    # alert counts; the bot page +1 more: its open alerts)
    "bot list": 11, "bot page": 12, "trade list, all": 8, "trade list, one bot": 8, "trade list, page 500": 8,
    "trade list, a date filter": 8,
    # the bot list: +1 for the kill switch's last run
    # the overview: the list of servers, and the totals per account and per day (two queries on the daily rollups)
    "overview (admin index)": 10, "overview, 30 days": 10,
    # the account page: the account (twice: ours, then the admin's), its server, the totals (two queries on the rollups)
    "account page": 10, "account page, today": 10, "account page, 30 days": 10, "account page, from/to": 10,
}


@pytest.fixture
def five_per_page(monkeypatch):
    """Page 500 exists with a few thousand trades."""
    monkeypatch.setattr(TradeAdmin, "list_per_page", 5)


@pytest.mark.parametrize("bots", [10, 1000])
@pytest.mark.parametrize("label, path", PAGES, ids=[label for label, _ in PAGES])
def test_admin_pages_run_the_same_queries_at_10_and_1000_bots(admin_client, five_per_page, django_assert_num_queries,
                                                             hummingbot, bots, label, path):
    for name in ACCOUNTS:  # the account pages ask Hummingbot about their account
        hummingbot.state.add_account(name)
    seed(bots=bots, trades=TRADES, vendor=connection.vendor)
    page = page_path(path)
    ContentType.objects.clear_cache()  # a warm cache would save a query depending on which test ran first
    with django_assert_num_queries(QUERIES[label]):
        assert admin_client.get(page).status_code == 200


@pytest.mark.parametrize("path", [path for label, path in PAGES if label.startswith("trade list")])
def test_trade_list_never_counts_or_aggregates_the_whole_ledger(admin_client, five_per_page, path):
    seed(bots=10, trades=TRADES, vendor=connection.vendor)
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.get(page_path(path)).status_code == 200
    on_trades = [q["sql"] for q in queries if '"bots_trade"' in q["sql"]]
    assert on_trades and all("LIMIT" in sql for sql in on_trades), on_trades


def test_trade_list_counts_a_few_pages_ahead_and_says_there_are_more(admin_client, five_per_page):
    seed(bots=10, trades=TRADES, vendor=connection.vendor)
    first = admin_client.get("/admin/bots/trade/").content.decode()
    assert "more than 55 trades" in first
    deep = admin_client.get("/admin/bots/trade/?p=500").content.decode()
    assert "more than 2550 trades" in deep
    last = admin_client.get("/admin/bots/trade/?p=600").content.decode()
    assert "3000 trades" in last and "more than" not in last


def test_trade_list_refuses_lookups_the_csv_export_cannot_repeat(admin_client):
    assert admin_client.get("/admin/bots/trade/?trade_id=T1").status_code == 400


def test_a_date_that_is_not_a_date_is_refused_not_a_server_error(admin_client):
    response = admin_client.get("/admin/bots/trade/?since=yesterday")
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))[1:]


def export_link(page: str) -> str:
    start = page.rindex('href="', 0, page.index("Export CSV")) + len('href="')
    return page[start:page.index('"', start)].replace("&amp;", "&")


def test_export_of_an_empty_filtered_list_is_empty_not_every_bot(admin_client):
    seed(bots=3, trades=30, vendor=connection.vendor)
    quiet = Bot.objects.create(name="quiet", account=Account.objects.first(), strategy="spread", connector="bitmart",
                               trading_pair="SHARP-USDT", status="stopped")
    page = admin_client.get(f"/admin/bots/trade/?bot={quiet.name}").content.decode()
    link = export_link(page)
    assert link == "/trades.csv?bot=quiet"
    assert rows_of(admin_client.get(link)) == []


def test_export_is_exactly_the_filtered_list(admin_client):
    seed(bots=3, trades=300, vendor=connection.vendor)
    bot = Bot.objects.order_by("id").first()
    today = datetime.now(UTC).date()
    window = f"since={today - timedelta(days=5)}&until={today - timedelta(days=2)}"  # the seed's week, in part
    response = admin_client.get(f"/admin/bots/trade/?bot={bot.name}&side=buy&{window}&p=2")
    link = export_link(response.content.decode())
    assert link == f"/trades.csv?bot={bot.name}&side=buy&{window}"
    listed = set(response.context["cl"].queryset.values_list("trade_id", flat=True))
    exported = {row[2] for row in rows_of(admin_client.get(link))}
    assert listed and exported == listed


def test_lists_show_plain_decimals_and_relative_times_with_the_exact_time_on_hover(admin_client):
    account = Account.objects.create(name="client_sharp")
    bot = Bot.objects.create(name=BOT_NAME.format(1), account=account, strategy="spread", connector="bitmart",
                             trading_pair="SHARP-USDT", status="running", status_synced_at=datetime.now(UTC))
    Trade.objects.create(bot=bot, trade_id="T1", timestamp=datetime.now(UTC) - timedelta(days=3),
                         trading_pair="SHARP-USDT", side="buy", price=Decimal("64148.000000000000000000"),
                         amount=Decimal(1000), fee_quote=Decimal("0.012300000000000000"))
    trades = admin_client.get("/admin/bots/trade/").content.decode()
    assert ">64148<" in trades and ">1000<" in trades and ">0.0123<" in trades and "64148.0000" not in trades
    assert "3\xa0days ago</time>" in trades and 'title="20' in trades
    bots = admin_client.get("/admin/bots/bot/").content.decode()
    assert "ago</time>" in bots
    detail = admin_client.get(f"/admin/bots/bot/{bot.pk}/change/").content.decode()
    assert "<td>1000</td>" in detail and "1E+3" not in detail


@pytest.mark.parametrize("value, shown", [("64148.000000000000000000", "64148"), ("1E+3", "1000"), ("0E-18", "0"),
                                          ("0.000000000000000001", "0.000000000000000001"), (None, None)])
def test_plain_decimal_has_no_trailing_zeros_and_no_exponent(value, shown):
    assert plain_decimal(None if value is None else Decimal(value)) == shown


def test_relative_time_puts_the_exact_utc_time_in_the_title():
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert relative_time(now - timedelta(seconds=200), now) == (
        '<time datetime="2026-01-01T11:56:40+00:00" title="2026-01-01 11:56:40 UTC">3\xa0minutes ago</time>')
