"""Ingest 100,000 fills of 100 bots from the sandbox into the ledger; then again (must add 0).

    python bench/ingest.py               # SQLite scratch database
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bridge_bench python bench/ingest.py
"""
import time

from _setup import django_with_scratch_db, start_sandbox_for_django

BOTS, FILLS_PER_BOT = 100, 1000


def main():
    vendor = django_with_scratch_db()
    sandbox = start_sandbox_for_django(fill_interval=0)
    from bots import services
    from bots.models import Bot, Trade

    for name in sandbox.state.spawn_bots(BOTS, prefix="ingest"):
        sandbox.state.inject_fills(name, FILLS_PER_BOT)
    services.bots_sync()  # adopt them
    assert Bot.objects.count() == BOTS

    start = time.perf_counter()
    first = services.trades_sync()
    elapsed = time.perf_counter() - start
    start = time.perf_counter()
    second = services.trades_sync()
    again = time.perf_counter() - start
    total = Trade.objects.count()
    print(f"ingest {first['new']} fills of {BOTS} bots on {vendor}: {elapsed:.2f} s, {first['new'] / elapsed:,.0f} rows/s")
    print(f"second run: {second['new']} new, {second['known']} already known, {again:.2f} s; ledger holds {total} trades")
    assert first["new"] == BOTS * FILLS_PER_BOT == total and second["new"] == 0 and not first["failed"]
    sandbox.stop()


if __name__ == "__main__":
    main()
