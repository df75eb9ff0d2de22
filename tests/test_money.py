"""Money leaves the API, the CSV and the panel written the same way: a plain decimal string, `3019.2`, never padded to
the columns' 18 places, never an exponent (issue 18). One function writes it (bots/money.py)."""
import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import responses
from django.conf import settings

from bots.api.serializers import PLAIN_DECIMAL_PATTERN
from bots.models import Bot, Trade
from bots.money import plain_decimal

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture
def bot(account):
    bot = Bot.objects.create(name="sharp", hummingbot_name="sharp-20260101-000000", account=account, strategy="spread",
                             connector="bitmart", trading_pair="ETH-USDT", status="stopped")
    Trade.objects.create(bot=bot, trade_id="T1", timestamp=T0, trading_pair="ETH-USDT", side="buy",
                         price=Decimal("3019.2"), amount=Decimal("0.5"), fee_quote=Decimal("0.005005"))
    Trade.objects.create(bot=bot, trade_id="T2", timestamp=T0.replace(second=1), trading_pair="ETH-USDT", side="sell",
                         price=Decimal("3020"), amount=Decimal("0.000000000000000001"), fee_quote=Decimal(0))
    Trade.objects.create(bot=bot, trade_id="T3", timestamp=T0.replace(second=2), trading_pair="ETH-USDT", side="sell",
                         price=Decimal("3020"), amount=Decimal(1), fee_quote=None)
    return bot


def rows_of(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize("value, written", [
    (Decimal("3019.200000000000000000"), "3019.2"), (Decimal("0.005005000000000000"), "0.005005"),
    (Decimal("0E-18"), "0"), (Decimal("-0E-18"), "0"), (Decimal("1E+3"), "1000"), (Decimal("-2.50"), "-2.5"),
    (Decimal("0.000000000000000001"), "0.000000000000000001"),
    # 38 digits, the columns' width: written whole, not rounded to Decimal's 28-digit context
    (Decimal("12345678901234567890.123456789012345678"), "12345678901234567890.123456789012345678"),
    (3.535, "3.535"), (1e-05, "0.00001"), (7, "7"), ("1.50", "1.5"), (None, None),
])
def test_plain_decimal_writes_every_digit_and_nothing_more(value, written):
    assert plain_decimal(value) == written


def test_api_trades_are_plain_decimal_strings(api, bot):
    trades = {t["trade_id"]: t for t in api.get(f"/bots/{bot.name}/trades").json()["results"]}
    assert (trades["T1"]["price"], trades["T1"]["amount"], trades["T1"]["fee_quote"]) == ("3019.2", "0.5", "0.005005")
    assert (trades["T2"]["amount"], trades["T2"]["fee_quote"]) == ("0.000000000000000001", "0")
    assert trades["T3"]["fee_quote"] is None


def test_api_trade_summary_is_plain_decimal_strings(api, bot):
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{settings.HUMMINGBOT_API_URL}/bot-orchestration/{bot.hummingbot_name}/status",
                 json={"status": "success", "data": {"status": "stopped", "performance": {}, "error_logs": [],
                                                     "general_logs": [], "recently_active": False}})
        summary = api.get(f"/bots/{bot.name}").json()["trades"]
    # (sums of the fills whose digits SQLite's floating point keeps too)
    assert {key: summary[key] for key in ("bought_base", "bought_quote", "fees_quote")} == {
        "bought_base": "0.5", "bought_quote": "1509.6", "fees_quote": "0.005005"}


def test_csv_money_is_plain_decimals(api, bot):
    rows = rows_of(api.get("/trades.csv", {"bot": bot.name}))
    assert [(row["price"], row["amount"], row["fee_quote"]) for row in rows] == [
        ("3019.2", "0.5", "0.005005"), ("3020", "0.000000000000000001", "0"), ("3020", "1", "")]


def test_api_csv_and_panel_write_a_trade_alike(api, admin_client, bot):
    api_price = api.get(f"/bots/{bot.name}/trades").json()["results"][-1]["price"]
    csv_price = rows_of(api.get("/trades.csv"))[0]["price"]
    panel = admin_client.get("/admin/bots/trade/").content.decode()
    assert api_price == csv_price == "3019.2" and ">3019.2<" in panel and "3019.20" not in panel


def _decimal_properties(node, path=""):
    """Every schema property the OpenAPI document declares as format: decimal, with its path."""
    if isinstance(node, dict):
        if node.get("format") == "decimal":
            yield path, node
        for key, child in node.items():
            yield from _decimal_properties(child, f"{path}/{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _decimal_properties(child, f"{path}/{index}")


def test_schema_says_money_is_a_plain_decimal_string(api):
    schema = json.loads(api.get("/api/schema?format=json").content)
    price = schema["components"]["schemas"]["Trade"]["properties"]["price"]
    assert (price["type"], price["format"], price["pattern"]) == ("string", "decimal", PLAIN_DECIMAL_PATTERN)
    declared = dict(_decimal_properties(schema))
    assert len(declared) >= 8  # the trade's price, amount, fee and the summary's five sums at least
    # Any decimal a serializer declares with DRF's own DecimalField would be padded: each one is ours.
    assert {path: node.get("pattern") for path, node in declared.items()} == {
        path: PLAIN_DECIMAL_PATTERN for path in declared}
