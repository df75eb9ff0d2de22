"""An account's volume and fees over a chosen period (issue 18): on its admin page and as
GET /accounts/{name}/performance, from the daily rollups, per quote asset, bot and UTC day."""
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
TODAY = timezone.now().date()


def midnight(days_ago=0) -> datetime:
    return datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC) - timedelta(days=days_ago)


def bot(account, name, pair="SHARP-USDT"):
    return Bot.objects.create(name=name, account=account, strategy="spread", connector="bitmart", trading_pair=pair,
                              status="running")


def fill(bot, trade_id, at, side="buy", price="0.005", amount="1000", fee="0.005000000000000000"):
    """Stored as a sync stores fills, with the daily rollups."""
    ledger.insert_fills([(bot, [Fill(trade_id=trade_id, timestamp=at, trading_pair=bot.trading_pair, side=side,
                                     price=Decimal(price), amount=Decimal(amount), fee_quote=Decimal(fee), raw={})])])


@pytest.fixture
def fills(account):
    """client_sharp: mm (two fills today, one 3 days ago, one 10 days ago) and sol_mm (SOL quote, today);
    another account's bot trades too."""
    mm, sol = bot(account, "mm"), bot(account, "sol_mm", "SHARP-SOL")
    fill(mm, "T1", midnight())
    fill(mm, "T2", midnight() + timedelta(hours=1), side="sell", price="0.006", amount="500", fee="0.003")
    fill(mm, "T3", midnight(3))
    fill(mm, "T4", midnight(10))
    fill(sol, "S1", midnight(), price="0.00002", amount="1000", fee="0.00002")
    fill(bot(Account.objects.create(name="client_b"), "other"), "O1", midnight())
    return account


def page(panel, account, **query):
    return panel.get(reverse("admin:bots_account_change", args=[account.pk]), query)


def test_account_page_sums_its_bots_per_pair_over_the_chosen_period(panel, fills, hummingbot):
    week = page(panel, fills)
    rows = {row["bot"]: row for row in week.context["ledger_totals"]["rows"]}
    assert sorted(rows) == ["mm", "sol_mm"]
    assert (rows["mm"]["fills"], rows["mm"]["bought_base"], rows["mm"]["sold_base"]) == (3, 2000, 500)
    assert (rows["mm"]["volume_quote"], rows["mm"]["fees_quote"]) == (Decimal(13), Decimal("0.013"))
    totals = {total["quote"]: total["volume_quote"] for total in week.context["ledger_totals"]["totals"]}
    assert totals == {"USDT": 13, "SOL": Decimal("0.02")}
    html = week.content.decode()
    assert "Volume and fees" in html and "<td>13</td>" in html and "all bots" in html and "Volume per day, SOL" in html
    today = page(panel, fills, period="day").context["ledger_totals"]["rows"]
    assert [(row["bot"], row["fills"]) for row in today] == [("mm", 2), ("sol_mm", 1)]
    month = page(panel, fills, period="month").context["ledger_totals"]["totals"]
    assert [(total["quote"], total["fills"]) for total in month] == [("SOL", 1), ("USDT", 4)]
    since, until = midnight(10).date(), midnight(3).date()
    custom = page(panel, fills, period="custom", since=since, until=until).context["ledger_totals"]
    assert [(row["bot"], row["fills"]) for row in custom["rows"]] == [("mm", 2)] and custom["since"] == since


def test_account_page_draws_every_day_of_the_period_with_days_without_fills_at_zero(panel, fills, hummingbot):
    days = page(panel, fills).context["ledger_totals"]["days"]["USDT"]
    assert [day["day"] for day in days] == [midnight(n).date() for n in range(6, -1, -1)]
    assert [day["volume_quote"] for day in days] == [0, 0, 0, 5, 0, 0, 8]


def test_account_page_with_unreadable_dates_says_why_and_shows_the_last_7_days(panel, fills, hummingbot):
    response = page(panel, fills, period="custom", since="2026-13-01", until=TODAY)
    assert response.status_code == 200
    assert "since: Enter a valid date. (showing the last 7 days)" in response.content.decode()
    assert response.context["ledger_totals"]["since"] == midnight(6).date()


def test_account_page_reads_the_rollups_never_the_ledger(panel, fills, hummingbot):
    with CaptureQueriesContext(connection) as queries:
        page(panel, fills, period="month")
    assert not [query["sql"] for query in queries if '"bots_trade"' in query["sql"]]


# --- GET /accounts/{name}/performance ----------------------------------------------------------------------------


def test_performance_of_an_account_over_the_last_7_days_in_plain_decimals(api, fills):
    body = api.get("/accounts/client_sharp/performance").json()
    assert (body["account"], body["since"], body["until"]) == ("client_sharp", str(midnight(6).date()), str(TODAY))
    assert body["totals"] == [
        {"quote": "SOL", "fills": 1, "bought_quote": "0.02", "sold_quote": "0", "volume_quote": "0.02",
         "fees_quote": "0.00002"},
        {"quote": "USDT", "fills": 3, "bought_quote": "10", "sold_quote": "3", "volume_quote": "13",
         "fees_quote": "0.013"},
    ]
    assert body["bots"][0] == {"bot": "mm", "trading_pair": "SHARP-USDT", "quote": "USDT", "fills": 3,
                               "bought_base": "2000", "sold_base": "500", "bought_quote": "10", "sold_quote": "3",
                               "volume_quote": "13", "fees_quote": "0.013"}
    usdt_days = [(day["day"], day["volume_quote"]) for day in body["days"] if day["quote"] == "USDT"]
    assert usdt_days[-1] == (str(TODAY), "8") and len(usdt_days) == 7


def test_performance_since_until_are_utc_days_both_included(api, fills):
    since, until = midnight(10).date(), midnight(3).date()
    body = api.get("/accounts/client_sharp/performance", {"since": since, "until": until}).json()
    assert [(total["quote"], total["fills"]) for total in body["totals"]] == [("USDT", 2)]
    assert len(body["days"]) == 8


@pytest.mark.parametrize("query, field, message", [
    ({"since": "2026-13-01"}, "since", "Date has wrong format"),
    ({"until": "2026-12-01T10:00:00Z"}, "until", "Date has wrong format"),
    ({"since": "2026-12-02", "until": "2026-12-01"}, "since", "swap them"),
    ({"since": "2025-01-01", "until": "2026-12-01"}, "until", "at most 366 at once"),
])
def test_performance_dates_that_cannot_be_read_are_a_400_naming_the_field(api, fills, query, field, message):
    response = api.get("/accounts/client_sharp/performance", query)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and message in error["details"][field][0] and error["message"].startswith(field)


def test_performance_of_an_unknown_account_is_a_404(api, fills):
    assert api.get("/accounts/nobody/performance").status_code == 404


def test_performance_needs_the_permission_to_view_accounts(fills, django_user_model):
    from django.contrib.auth.models import Permission
    from rest_framework.test import APIClient

    user = django_user_model.objects.create_user("reader", password="pw-reader-123")
    client = APIClient()
    client.force_authenticate(user)
    assert client.get("/accounts/client_sharp/performance").status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_account"))
    client.force_authenticate(django_user_model.objects.get(pk=user.pk))
    assert client.get("/accounts/client_sharp/performance").status_code == 200
