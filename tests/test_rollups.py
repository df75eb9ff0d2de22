"""Daily rollups (issue 18): written with the fills they sum, from the rows really inserted, in UTC days; rebuilt from
the ledger they equal what the syncs kept, to the last digit, on SQLite and PostgreSQL."""
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import responses
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError
from django.utils import timezone

from bots import ledger, rollups, services
from bots.hummingbot.client import Fill
from bots.models import Bot, DailyRollup, Trade
from tests.test_trades import history_body

pytestmark = pytest.mark.django_db
BASE = settings.HUMMINGBOT_API_URL
NIGHT = datetime(2026, 11, 20, 23, 59, 59, 500_000, tzinfo=UTC)


def fill(trade_id, at, side="BUY", price="0.005", qty="1000"):
    """A history fill as GET /bot-orchestration/{bot}/history gives it, with a 0.1 % fee."""
    return {"market": "bitmart", "trade_id": trade_id, "price": price, "quantity": qty, "symbol": "SHARP-USDT",
            "trade_timestamp": int(at.timestamp() * 1000), "trade_type": side, "base_asset": "SHARP",
            "quote_asset": "USDT", "raw_json": {"trade_fee": {"fee_type": "DeductedFromReturns", "percent": "0.001",
                                                              "percent_token": None, "flat_fees": []}}}


@pytest.fixture
def bots(account):
    return [Bot.objects.create(name=f"b{i}", hummingbot_name=f"b{i}-20261120-000000", account=account,
                               strategy="spread", connector="bitmart", trading_pair="SHARP-USDT", status="running")
            for i in range(2)]


def sync(bot, fills):
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{BASE}/bot-orchestration/{bot.hummingbot_name}/history", json=history_body(fills))
        return services.trades_sync(bot_names=[bot.name])


def kept() -> list[tuple]:
    return sorted(DailyRollup.objects.values_list("bot__name", "day", "trading_pair", "fills", *rollups.SUMS))


def assert_rebuilt_equals_kept() -> list[tuple]:
    before = kept()
    services.rollups_rebuild()
    assert kept() == before
    return before


def test_a_days_fills_are_summed_per_bot_and_pair_in_utc_days(bots):
    sync(bots[0], [fill("T1", NIGHT), fill("T2", NIGHT + timedelta(seconds=1), "SELL", "0.006", "500"),
                   fill("T3", NIGHT + timedelta(hours=12), "BUY", "0.004", "10")])
    assert kept() == [
        ("b0", date(2026, 11, 20), "SHARP-USDT", 1, Decimal(1000), Decimal(5), 0, 0, Decimal("0.005")),
        ("b0", date(2026, 11, 21), "SHARP-USDT", 2, Decimal(10), Decimal("0.04"), Decimal(500), Decimal(3),
         Decimal("0.00304")),
    ]


def test_sums_keep_every_digit_of_the_fills_in_batches_or_at_once(bots):
    """Sums longer than the 15 digits of a float (SQLite's NUMERIC), added in two batches, then rebuilt at once."""
    amount = "99999999.9999999"
    sync(bots[0], [fill("T1", NIGHT, price="0.1", qty=amount)])
    sync(bots[0], [fill("T2", NIGHT, price="0.1", qty=amount), fill("T3", NIGHT, price="0.1", qty=amount)])
    [(*_, fills, bought_base, bought_quote, _, _, fees)] = assert_rebuilt_equals_kept()
    assert (fills, bought_base, bought_quote) == (3, Decimal("299999999.9999997"), Decimal("29999999.99999997"))
    assert fees == Decimal("29999.99999999997")


def test_fills_read_again_add_nothing_and_a_batch_that_partly_repeats_adds_only_its_new_fills(bots):
    first = [fill("T1", NIGHT), fill("T2", NIGHT + timedelta(seconds=1), "SELL", "0.006", "500")]
    sync(bots[0], first)
    once = kept()
    assert sync(bots[0], first)["new"] == 0 and kept() == once
    assert sync(bots[0], [first[1], fill("T3", NIGHT + timedelta(hours=12), "BUY", "0.004", "10")])["new"] == 1
    assert [row[3] for row in kept()] == [1, 2]
    assert_rebuilt_equals_kept()


def ledger_fill(trade_id, at, side="buy", price="64148.123456789012345678", amount="0.000123450000000001"):
    price, amount = Decimal(price), Decimal(amount)
    return Fill(trade_id=trade_id, timestamp=at, trading_pair="SHARP-USDT", side=side, price=price, amount=amount,
                fee_quote=Decimal("0.00075") * price * amount, raw={})


@pytest.mark.parametrize("synced_before", [False, True], ids=["never synced", "synced before"])
def test_fills_another_sync_stored_meanwhile_are_added_once(bots, synced_before):
    """The ledger's insert skips fills stored meanwhile (and a fill twice in one batch): only the rows it really
    inserts are added. A bot never synced goes through PostgreSQL's direct COPY first, which such a fill refuses."""
    bot = bots[0]
    if synced_before:
        Bot.objects.filter(pk=bot.pk).update(trades_synced_at=NIGHT)
        bot.refresh_from_db()
    stored_meanwhile = [ledger_fill("T1", NIGHT), ledger_fill("T2", NIGHT, "sell")]
    assert ledger.insert_fills([(bot, stored_meanwhile)]) == [2]
    batch = [*stored_meanwhile, ledger_fill("T3", NIGHT + timedelta(seconds=1)),
             ledger_fill("T3", NIGHT + timedelta(seconds=1)), ledger_fill("T4", NIGHT + timedelta(days=1), "sell")]
    assert ledger.insert_fills([(bot, batch), (bots[1], [ledger_fill("T1", NIGHT)])]) == [2, 1]
    assert [(name, fills) for name, _, _, fills, *_ in kept()] == [("b0", 2), ("b0", 2), ("b1", 1)]
    assert_rebuilt_equals_kept()


def test_fills_and_their_rollups_are_stored_together_or_not_at_all(bots, monkeypatch):
    def refused(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(rollups, "add", refused)
    monkeypatch.setattr(rollups, "upsert_sql", refused)
    report = sync(bots[0], [fill("T1", NIGHT)])
    assert list(report["failed"]) == ["b0"] and "disk full" in report["failed"]["b0"]
    assert not Trade.objects.exists() and not DailyRollup.objects.exists()
    bots[0].refresh_from_db()
    assert bots[0].trades_synced_at is None


@pytest.mark.parametrize("bots_count, fills_per_bot", [(10, 200), pytest.param(100, 1000, marks=pytest.mark.slow)])
def test_rollups_rebuilt_from_the_ledger_equal_those_kept_by_an_ingest(hummingbot, bots_count, fills_per_bot, capsys):
    """Fills over the last 7 days (the sandbox's prices and fees, in many decimals), ingested as the syncs do: bots
    never synced, then the same bots again, their week read again with new fills in it."""
    names = hummingbot.state.spawn_bots(bots_count, prefix="ingest")
    half, step = fills_per_bot // 2, 7 * 86400 / fills_per_bot
    week_ago = hummingbot.state.now() - 7 * 86400
    for name in names:
        hummingbot.state.inject_fills(name, half, start_ts=week_ago, step_s=step)
    services.bots_sync()
    Bot.objects.update(created_at=timezone.now() - timedelta(days=8))  # the history read covers the week
    assert services.trades_sync()["new"] == bots_count * half
    for name in names:
        hummingbot.state.inject_fills(name, half, start_ts=week_ago + half * step, step_s=step)
    Bot.objects.update(trades_synced_at=timezone.now() - timedelta(days=8))
    again = services.trades_sync()
    assert (again["new"], again["known"]) == (bots_count * half, bots_count * half)
    rows = kept()
    assert sum(row[3] for row in rows) == Trade.objects.count() == bots_count * fills_per_bot
    assert len({row[1] for row in rows}) >= 7
    call_command("rebuild_rollups")
    assert f"{len(rows)} daily rollups of {bots_count * fills_per_bot} fills" in capsys.readouterr().out
    assert kept() == rows


@pytest.mark.django_db(transaction=True)
def test_the_migration_sums_a_ledger_stored_before_rollups_existed():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("bots", "0016_desk_limits")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    bot = old.get_model("bots", "Bot").objects.create(name="old_bot", strategy="spread", trading_pair="SHARP-USDT")
    for n, side in enumerate(["buy", "buy", "sell"]):
        old.get_model("bots", "Trade").objects.create(
            bot_id=bot.pk, trade_id=f"T{n}", timestamp=NIGHT, trading_pair="SHARP-USDT", side=side,
            price=Decimal("0.5"), amount=Decimal(10), fee_quote=Decimal("0.005"))
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert kept() == [("old_bot", NIGHT.date(), "SHARP-USDT", 3, 20, 10, 10, 5, Decimal("0.015"))]
