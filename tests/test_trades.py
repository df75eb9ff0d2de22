"""The trade ledger: idempotent ingestion, failures isolated per bot, endpoints and CSV export."""
import csv
import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import requests
import responses
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone as djtz

from bots import services
from bots.models import Bot, Trade
from tests.contracts.recorded import record

pytestmark = pytest.mark.django_db
BASE = settings.HUMMINGBOT_API_URL
T0 = datetime(2026, 11, 20, tzinfo=timezone.utc)


def history_body(trades):
    body = record("bot-history")["body"]
    body["response"]["data"]["data"]["trades"] = trades
    return body


def fill(n, side="BUY", price="0.005", qty="1000"):
    return {"market": "bitmart", "trade_id": f"T{n}", "price": price, "quantity": qty, "symbol": "SHARP-USDT",
            "trade_timestamp": int((T0 + timedelta(minutes=n)).timestamp() * 1000), "trade_type": side,
            "base_asset": "SHARP", "quote_asset": "USDT",
            "raw_json": {"trade_fee": {"fee_type": "DeductedFromReturns", "percent": "0.001", "percent_token": None, "flat_fees": []}}}


@pytest.fixture
def bots(account):
    return [Bot.objects.create(name=f"b{i}", hummingbot_name=f"b{i}-20261120-000000", account=account,
                               strategy="spread", connector="bitmart", trading_pair="SHARP-USDT", status="running")
            for i in range(2)]


def test_fills_are_stored_once_even_when_synced_twice(bots):
    with responses.RequestsMock() as mock:
        for bot in bots:
            mock.add("GET", f"{BASE}/bot-orchestration/{bot.hummingbot_name}/history",
                     json=history_body([fill(1), fill(2, "SELL", "0.006")]))
        first = services.trades_sync()
        second = services.trades_sync()
    assert (first["new"], first["known"]) == (4, 0)
    assert (second["new"], second["known"]) == (0, 4)
    trade = Trade.objects.get(bot=bots[0], trade_id="T2")
    assert (trade.side, trade.price, trade.amount) == ("sell", Decimal("0.006"), Decimal("1000"))
    assert trade.fee_quote == Decimal("0.006")
    assert trade.timestamp == T0 + timedelta(minutes=2)


def test_history_is_asked_for_whole_days_since_the_last_sync_never_zero(bots):
    Bot.objects.filter(pk=bots[0].pk).update(trades_synced_at=djtz.now() - timedelta(days=3, hours=1))
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{BASE}/bot-orchestration/{bots[0].hummingbot_name}/history", json=history_body([]))
        services.trades_sync(bot_names=["b0"])
        assert "days=4" in mock.calls[0].request.url


def test_a_failing_bot_is_reported_and_the_others_still_sync(bots):
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{BASE}/bot-orchestration/{bots[0].hummingbot_name}/history", body=requests.ReadTimeout())
        mock.add("GET", f"{BASE}/bot-orchestration/{bots[1].hummingbot_name}/history", json=history_body([fill(1)]))
        report = services.trades_sync()
    assert report["new"] == 1 and list(report["failed"]) == ["b0"]
    bots[0].refresh_from_db()
    assert "did not answer" in bots[0].trades_sync_error and bots[0].trades_synced_at is None


def test_archived_bot_trades_come_from_its_archive(bots):
    bot = bots[0]
    Bot.objects.filter(pk=bot.pk).update(status="archived")
    db = f"bots/archived/{bot.hummingbot_name}/data/{bot.hummingbot_name}.sqlite"
    trades = record("archived-bots-trades")["body"]
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{BASE}/archived-bots/", json=[db])
        mock.add("GET", f"{BASE}/archived-bots/{db}/trades", json={**trades, "db_path": db})
        report = services.trades_sync(bot_names=[bot.name])
        assert "limit=1000" in mock.calls[1].request.url
        # read completely once archived: the next run does not ask again
        assert services.trades_sync(bot_names=[bot.name])["bots"] == 0
    assert report["new"] == 2
    assert set(Trade.objects.filter(bot=bot).values_list("trade_id", flat=True)) == {"T0", "T1"}


def test_sync_reports_progress_once_per_bot_with_counts(bots):
    events = []
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{BASE}/bot-orchestration/{bots[0].hummingbot_name}/history", body=requests.ReadTimeout())
        mock.add("GET", f"{BASE}/bot-orchestration/{bots[1].hummingbot_name}/history", json=history_body([fill(1), fill(2)]))
        services.trades_sync(progress=events.append)
    assert [(e.bot, e.new, e.known, bool(e.error), e.done, e.total) for e in events] == [
        ("b0", 0, 0, True, 1, 2), ("b1", 2, 0, False, 2, 2)]


def test_sync_trades_command_prints_counts_and_fails_when_a_bot_failed(bots, capsys):
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{BASE}/bot-orchestration/{bots[0].hummingbot_name}/history", json=history_body([fill(1)]))
        call_command("sync_trades", "--bot", "b0", "--since", "2026-11-01")
    assert "new 1, already known 0, failed bots 0" in capsys.readouterr().out


def test_ingest_takes_the_same_queries_per_bot_whatever_the_number_of_fills(hummingbot):
    few, many = hummingbot.state.spawn_bots(2, prefix="volume")
    hummingbot.state.inject_fills(few, 3)
    hummingbot.state.inject_fills(many, 5000)
    services.bots_sync()
    queries = {}
    for name, fills in ((few, 3), (many, 5000)):
        bot = Bot.objects.get(hummingbot_name=name)
        with CaptureQueriesContext(connection) as captured:
            assert services.trades_sync(bot_names=[bot.name])["new"] == fills
        queries[fills] = len(captured)
    assert queries[5000] == queries[3]


def test_a_fill_already_stored_counts_as_known_even_outside_the_synced_window(bots):
    # Stored by another run with an older timestamp: the insert skips it, so it is not "new".
    Trade.objects.create(bot=bots[0], trade_id="T1", timestamp=T0 - timedelta(days=1), trading_pair="SHARP-USDT",
                         side="buy", price=Decimal(1), amount=Decimal(1))
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{BASE}/bot-orchestration/{bots[0].hummingbot_name}/history",
                 json=history_body([fill(1), fill(2), fill(2)]))
        report = services.trades_sync(bot_names=["b0"])
    assert (report["new"], report["known"]) == (1, 1)
    assert Trade.objects.filter(bot=bots[0]).count() == 2


def test_stored_fill_reads_back_as_the_upstream_sent_it(bots):
    sent = fill(7, "SELL", "0.00512345", "12.5")
    sent["symbol"] = ""  # no pair in the fill: the bot's own
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{BASE}/bot-orchestration/{bots[0].hummingbot_name}/history", json=history_body([sent]))
        services.trades_sync(bot_names=["b0"])
    trade = Trade.objects.get(bot=bots[0])
    assert (trade.trade_id, trade.side, trade.trading_pair) == ("T7", "sell", "SHARP-USDT")
    assert (trade.price, trade.amount, trade.fee_quote) == (Decimal("0.00512345"), Decimal("12.5"), Decimal("0.00006404312500"))
    assert trade.timestamp == T0 + timedelta(minutes=7) and trade.ingested_at is not None
    assert trade.raw == sent


def test_a_fill_with_an_integer_beyond_64_bits_is_stored_whole(bots):
    sent = fill(3)
    sent["raw_json"]["exchange_order_id"] = 2**70  # orjson refuses it: the ledger falls back to json
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{BASE}/bot-orchestration/{bots[0].hummingbot_name}/history", json=history_body([sent]))
        assert services.trades_sync(bot_names=["b0"])["new"] == 1
    assert Trade.objects.get(bot=bots[0]).raw == sent


def seed_trades(bot, count):
    Trade.objects.bulk_create(
        (Trade(bot=bot, trade_id=f"T{i}", timestamp=T0 + timedelta(seconds=i), trading_pair="SHARP-USDT",
               side="buy" if i % 2 else "sell", price=Decimal("0.005"), amount=Decimal(10), fee_quote=Decimal("0.00005"))
         for i in range(count)), batch_size=5000)


def test_bot_trades_are_newest_first_and_filterable(api, bots):
    seed_trades(bots[0], 250)
    page = api.get(f"/bots/{bots[0].name}/trades").json()
    assert len(page["results"]) == 100 and page["results"][0]["trade_id"] == "T249"
    second = api.get(page["next"]).json()
    assert second["results"][0]["trade_id"] == "T149"
    since = (T0 + timedelta(seconds=240)).isoformat()
    sells = api.get(f"/bots/{bots[0].name}/trades", {"since": since, "side": "sell"}).json()["results"]
    assert [t["trade_id"] for t in sells] == ["T248", "T246", "T244", "T242", "T240"]


@pytest.mark.parametrize("query", [{"since": "yesterday"}, {"side": "both"}, {"until": "2026-13-01"}])
def test_bad_trade_filters_are_400(api, bots, query):
    response = api.get(f"/bots/{bots[0].name}/trades", query)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


@pytest.mark.parametrize("count", [1_000, pytest.param(100_000, marks=pytest.mark.slow)])
def test_trade_pages_and_csv_take_constant_queries(api, bots, count, django_assert_max_num_queries):
    seed_trades(bots[0], count)
    with django_assert_max_num_queries(4 + 1):  # and the read throttle's count
        assert api.get(f"/bots/{bots[0].name}/trades").status_code == 200
    with django_assert_max_num_queries(4 + 1):  # and the read throttle's count
        response = api.get("/trades.csv", {"bot": "b0"})
        rows = sum(1 for _ in response.streaming_content)
    assert rows == count + 1


def test_csv_export_filters_and_neutralises_formulas(api, bots):
    seed_trades(bots[0], 3)
    Trade.objects.filter(trade_id="T1").update(trade_id="=HYPERLINK(1)")
    response = api.get("/trades.csv", {"account": "client_sharp", "since": (T0 + timedelta(seconds=1)).isoformat()})
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["bot", "account", "trade_id"]
    assert [r[2] for r in rows[1:]] == ["'=HYPERLINK(1)", "T2"]


def test_bot_detail_has_trade_summary(api, bots):
    seed_trades(bots[0], 4)  # T1, T3 buys; T0, T2 sells; 10 SHARP at 0.005 each
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{BASE}/bot-orchestration/{bots[0].hummingbot_name}/status", json=record("bot-status_running")["body"])
        detail = api.get(f"/bots/{bots[0].name}").json()
    summary = detail["trades"]
    assert summary["trades"] == 4
    assert Decimal(summary["bought_base"]) == 20 and Decimal(summary["sold_quote"]) == Decimal("0.1")
    assert Decimal(summary["fees_quote"]) == Decimal("0.0002")
    assert summary["last_trade_at"].startswith("2026-11-20T00:00:03")
    assert detail["upstream"]["ok"] is True and detail["upstream"]["performance"]


def test_a_batch_that_fails_to_store_leaves_its_bots_unmarked_to_be_read_again(bots, monkeypatch):
    """Bots share a transaction per batch of fills: the batch stored before the failure stays, the failed one
    leaves neither trades nor the mark that they were read."""
    from bots import ledger
    from bots.services import trades

    monkeypatch.setattr(trades, "STORE_BATCH_FILLS", 2)  # each bot's two fills close a batch
    insert_fills = ledger.insert_fills
    calls = []

    def second_batch_fails(fills_of):
        calls.append(fills_of)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return insert_fills(fills_of)

    monkeypatch.setattr(ledger, "insert_fills", second_batch_fails)
    with responses.RequestsMock() as mock, pytest.raises(RuntimeError, match="disk full"):
        for bot in bots:
            mock.add("GET", f"{BASE}/bot-orchestration/{bot.hummingbot_name}/history",
                     json=history_body([fill(1), fill(2)]))
        services.trades_sync()
    for bot in bots:
        bot.refresh_from_db()
    assert Trade.objects.filter(bot=bots[0]).count() == 2 and bots[0].trades_synced_at is not None
    assert Trade.objects.filter(bot=bots[1]).count() == 0 and bots[1].trades_synced_at is None


def test_collections_are_rarer_only_while_a_sync_reads_however_the_reads_end(bots):
    import gc

    from bots.hummingbot.client import get_client
    from bots.services import trades

    before = gc.get_threshold()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for bot in bots:
            mock.add("GET", f"{BASE}/bot-orchestration/{bot.hummingbot_name}/history", json=history_body([fill(1)]))
        first, second = (trades.fetch_fills(bots, client=get_client()) for _ in range(2))
        next(first), next(second)
        assert gc.get_threshold()[0] == trades.RARER_COLLECTIONS_AFTER
        first.close()  # a caller that stops early
        assert gc.get_threshold()[0] == trades.RARER_COLLECTIONS_AFTER  # the other sync still reads
        assert len(list(second)) == 1
    assert gc.get_threshold() == before


def test_a_bot_archived_after_its_history_was_read_is_read_again_from_its_archive(bots, monkeypatch):
    """The read mark is when the read began, not when its batch was stored: an archive that came in between
    is still read, so no fill made before the stop is lost."""
    from bots.services import trades

    bot = bots[0]
    store_batch = trades._store_batch

    def archived_while_the_batch_waits(batch, **how):
        Bot.objects.filter(pk=bot.pk).update(status="archived", updated_at=djtz.now())
        return store_batch(batch, **how)

    db = f"bots/archived/{bot.hummingbot_name}/data/{bot.hummingbot_name}.sqlite"
    archived = record("archived-bots-trades")["body"]
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{BASE}/bot-orchestration/{bot.hummingbot_name}/history", json=history_body([fill(1)]))
        with monkeypatch.context() as patched:
            patched.setattr(trades, "_store_batch", archived_while_the_batch_waits)
            assert services.trades_sync(bot_names=[bot.name])["new"] == 1
        mock.add("GET", f"{BASE}/archived-bots/", json=[db])
        mock.add("GET", f"{BASE}/archived-bots/{db}/trades", json={**archived, "db_path": db})
        again = services.trades_sync(bot_names=[bot.name])
    assert (again["bots"], again["new"], again["known"]) == (1, 1, 1)  # the archive's T0 was made after the read
    assert set(Trade.objects.filter(bot=bot).values_list("trade_id", flat=True)) == {"T0", "T1"}


def test_fills_the_ledger_refuses_fail_only_their_own_bot(bots, monkeypatch):
    from django.db import DataError

    from bots import ledger

    insert_fills = ledger.insert_fills

    def refuses_b0(fills_of):
        if any(bot.name == "b0" for bot, _ in fills_of):
            raise DataError("value too long for type character varying(128)")
        return insert_fills(fills_of)

    monkeypatch.setattr(ledger, "insert_fills", refuses_b0)
    with responses.RequestsMock() as mock:
        for bot in bots:
            mock.add("GET", f"{BASE}/bot-orchestration/{bot.hummingbot_name}/history", json=history_body([fill(1)]))
        report = services.trades_sync()
    assert (report["new"], list(report["failed"])) == (1, ["b0"])
    assert "the ledger refused its fills: value too long" in report["failed"]["b0"]
    for bot in bots:
        bot.refresh_from_db()
    assert bots[0].trades_synced_at is None and "value too long" in bots[0].trades_sync_error
    assert bots[1].trades_synced_at is not None and Trade.objects.filter(bot=bots[1]).count() == 1


def test_a_window_resync_leaves_an_archived_bot_to_be_read_completely_later(bots):
    """`sync_trades --since` reads only the window: the archive is not marked as read, so its older fills come
    with the next full run instead of never."""
    bot = bots[0]
    Bot.objects.filter(pk=bot.pk).update(status="archived")
    db = f"bots/archived/{bot.hummingbot_name}/data/{bot.hummingbot_name}.sqlite"
    archived = record("archived-bots-trades")["body"]  # T0 at 2026-01-01 00:00:00.5, T1 a minute later
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{BASE}/archived-bots/", json=[db])
        mock.add("GET", f"{BASE}/archived-bots/{db}/trades", json={**archived, "db_path": db})
        window = services.trades_sync(bot_names=[bot.name], since=datetime(2026, 1, 1, 0, 0, 30, tzinfo=timezone.utc))
        full = services.trades_sync(bot_names=[bot.name])
    assert (window["new"], full["new"], full["known"]) == (1, 1, 1)
    assert set(Trade.objects.filter(bot=bot).values_list("trade_id", flat=True)) == {"T0", "T1"}


@pytest.mark.parametrize("trade_id", [" =HYPERLINK(1)", "\u00a0+1+1", "\n-2+3", "\x01@SUM(1)", " \t =1", "\t1", "\r1"])
def test_csv_export_neutralises_formulas_behind_leading_blanks_and_control_characters(api, bots, trade_id):
    """Spreadsheets skip leading blanks before evaluating a cell (OWASP, CSV injection)."""
    seed_trades(bots[0], 1)
    Trade.objects.filter(trade_id="T0").update(trade_id=trade_id)
    response = api.get("/trades.csv", {"bot": "b0"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))
    assert rows[1][2] == "'" + trade_id


@pytest.mark.parametrize("trade_id", ["T1", " T1", "1-2", "a=b"])
def test_csv_export_leaves_cells_that_cannot_start_a_formula_alone(api, bots, trade_id):
    seed_trades(bots[0], 1)
    Trade.objects.filter(trade_id="T0").update(trade_id=trade_id)
    response = api.get("/trades.csv", {"bot": "b0"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))
    assert rows[1][2] == trade_id
