"""The admin pages a desk user opens, timed with a big ledger: median and p95 ms and the query count of each.

    python bench/admin_pages.py                                  # SQLite scratch database, 1,000 bots, 60,000 trades
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/tb_h-admintrades_bench python bench/admin_pages.py
    python bench/admin_pages.py --bots 1000 --trades 1000000 --runs 30

PostgreSQL defaults to 1,000,000 trades, seeded in one INSERT ... SELECT generate_series, spread over the last 7 days
(the overview's and the account pages' default period), and their daily rollups rebuilt from them. The pages talk to
a sandbox Hummingbot that knows the accounts, as a real one would. A page is one line in PAGES
(tests/test_admin_lists.py asserts the same pages' query counts at 10 and 1,000 bots).
"""
import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BOT_NAME = "bench_bot_{:04d}_market_maker_with_a_long_name"
ACCOUNTS = [f"client_{i:02d}" for i in range(10)]
# (label, path) - "{bot_id}", "{bot_name}" and "{account_id}" are the first seeded bot's and account's; "{today}" and
# "{days_ago}" are UTC dates (today, and 3 days before).
PAGES = [
    ("bot list", "/admin/bots/bot/"),
    ("bot page", "/admin/bots/bot/{bot_id}/change/"),
    ("trade list, all", "/admin/bots/trade/"),
    ("trade list, one bot", "/admin/bots/trade/?bot={bot_name}"),
    ("trade list, page 500", "/admin/bots/trade/?p=500"),
    ("trade list, a date filter", "/admin/bots/trade/?since={days_ago}&until={today}"),
    ("overview (admin index)", "/admin/"),
    ("overview, 30 days", "/admin/?period=month"),
    ("account page", "/admin/bots/account/{account_id}/change/"),
    ("account page, today", "/admin/bots/account/{account_id}/change/?period=day"),
    ("account page, 30 days", "/admin/bots/account/{account_id}/change/?period=month"),
    ("account page, from/to", "/admin/bots/account/{account_id}/change/?period=custom&since={days_ago}&until={today}"),
]


def page_path(path: str) -> str:
    """A PAGES path for the seeded database."""
    from bots.models import Account, Bot

    first = Bot.objects.order_by("id").first()
    today = datetime.now(UTC).date()
    return path.format(bot_id=first.pk, bot_name=first.name, account_id=Account.objects.get(name=ACCOUNTS[0]).pk,
                       today=today, days_ago=today - timedelta(days=3))


def seed(*, bots: int, trades: int, vendor: str) -> None:
    """Bots over ACCOUNTS, their trades over the last 7 days (UTC, up to now), and the rollups of those trades."""
    from bots import services
    from bots.models import Account, Bot

    accounts = Account.objects.bulk_create(Account(name=name) for name in ACCOUNTS)
    Bot.objects.bulk_create(
        Bot(name=BOT_NAME.format(i), account=accounts[i % 10], strategy="spread", connector="bitmart",
            trading_pair="SHARPENING-USDT", status="running", hummingbot_name=f"{BOT_NAME.format(i)}-20260101-000000")
        for i in range(bots))
    week_ago = datetime.now(UTC) - timedelta(days=7)
    if vendor == "postgresql":
        _seed_trades_postgres(trades, week_ago)
    else:
        _seed_trades_orm(trades, week_ago)
    services.rollups_rebuild()


def _seed_trades_postgres(trades: int, start: datetime) -> None:
    """Trades spread over 7 days from `start`, round-robin over the bots, 18-decimal prices like the exchanges send."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO bots_trade (bot_id, trade_id, timestamp, trading_pair, side, price, amount, fee_quote,
                                    raw, ingested_at)
            SELECT b.ids[1 + mod(n, array_length(b.ids, 1))], 'T' || n,
                   %s + (n * interval '1 second') * (604800.0 / %s),
                   'SHARPENING-USDT', CASE WHEN mod(n, 2) = 0 THEN 'buy' ELSE 'sell' END,
                   64148.123456789012345678 + mod(n, 1000), 0.000123450000000000 * (1 + mod(n, 7)), 0.0123,
                   '{}', now()
            FROM generate_series(1, %s) AS n, (SELECT array_agg(id ORDER BY id) AS ids FROM bots_bot) AS b
        """, [start, trades, trades])
        cursor.execute("ANALYZE")


def _seed_trades_orm(trades: int, start: datetime) -> None:
    from decimal import Decimal

    from bots.models import Bot, Trade

    ids = list(Bot.objects.order_by("id").values_list("id", flat=True))
    t0, step = start, 604_800 / trades
    Trade.objects.bulk_create(
        (Trade(bot_id=ids[n % len(ids)], trade_id=f"T{n}", timestamp=t0 + timedelta(seconds=n * step),
               trading_pair="SHARPENING-USDT", side="buy" if n % 2 == 0 else "sell",
               price=Decimal("64148.123456789012345678") + n % 1000, amount=Decimal("0.00012345") * (1 + n % 7),
               fee_quote=Decimal("0.0123"))
         for n in range(1, trades + 1)), batch_size=5000)


def measure(client, path: str, runs: int) -> tuple[float, float, int]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)  # also the warm-up
    count = len(queries)  # now: the context reads the log lazily, and the next request clears it
    assert response.status_code == 200, (path, response.status_code)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))], count


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bots", type=int, default=1000)
    parser.add_argument("--trades", type=int, help="default: 1,000,000 on PostgreSQL, 60,000 on SQLite")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    # the admin's CSS without a collectstatic run
    os.environ.setdefault("STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage")
    from _setup import django_with_scratch_db, point_django_at, start_sandbox_process

    url, stop_sandbox = start_sandbox_process(_sandbox_accounts)
    vendor = django_with_scratch_db()
    point_django_at(url)
    trades = args.trades or (1_000_000 if vendor == "postgresql" else 60_000)
    start = time.perf_counter()
    seed(bots=args.bots, trades=trades, vendor=vendor)
    print(f"seeded {args.bots:,} bots and {trades:,} trades over the last 7 days on {vendor}, and their rollups, "
          f"in {time.perf_counter() - start:.1f} s")

    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.create_superuser("bench", "", "bench-pass-123"))
    print(f"{'page':<28}{'median ms':>10}{'p95 ms':>10}{'queries':>9}   ({args.runs} runs each)")
    for label, path in PAGES:
        median, p95, count = measure(client, page_path(path), args.runs)
        print(f"{label:<28}{median:>10.1f}{p95:>10.1f}{count:>9}")
    stop_sandbox()


def _sandbox_accounts(state):
    for name in ACCOUNTS:
        state.add_account(name)


if __name__ == "__main__":
    main()
