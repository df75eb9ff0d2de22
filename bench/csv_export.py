"""Stream GET /trades.csv for 10,000 and 100,000 trades and report peak Python memory for each.

Flat memory means the peak does not grow with the row count (rows go out in 2,000-row chunks).
    python bench/csv_export.py
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bridge_bench python bench/csv_export.py
"""
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from _setup import django_with_scratch_db


def main():
    vendor = django_with_scratch_db()
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from bots.models import Account, Bot, Trade

    account = Account.objects.create(name="bench")
    user = get_user_model().objects.create_superuser("bench", "", "bench-pass-123")
    api = APIClient()
    api.force_authenticate(user)
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for count in (10_000, 100_000):
        bot = Bot.objects.create(name=f"csv{count}", account=account, strategy="spread", connector="bitmart",
                                 trading_pair="SHARP-USDT", status="stopped")
        Trade.objects.bulk_create(
            (Trade(bot=bot, trade_id=f"T{i}", timestamp=t0 + timedelta(seconds=i), trading_pair="SHARP-USDT",
                   side="buy" if i % 2 else "sell", price=Decimal("0.005"), amount=Decimal(1000),
                   fee_quote=Decimal("0.005"), raw={"exchange_trade_id": f"T{i}", "pad": "x" * 200})
             for i in range(count)), batch_size=5000)
        response = api.get("/trades.csv", {"bot": bot.name})
        tracemalloc.start()
        start = time.perf_counter()
        size = rows = 0
        for chunk in response.streaming_content:
            size += len(chunk)
            rows += 1
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"CSV {rows - 1:,} rows ({size / 1e6:.1f} MB) on {vendor}: {elapsed:.2f} s, "
              f"peak Python memory while streaming {peak / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
