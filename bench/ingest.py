"""Ingest 100,000 fills of 100 bots from the sandbox into the ledger, then again (must add 0), each
against the fetch-and-parse time alone (the same client calls, nothing stored). The issue's target:
ingest <= 1.5x fetch.

    python bench/ingest.py               # SQLite scratch database
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bridge_bench python bench/ingest.py
"""
import time

from _setup import django_with_scratch_db, start_sandbox_for_django

BOTS, FILLS_PER_BOT = 100, 1000


def timed(run):
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start


def main():
    vendor = django_with_scratch_db()
    sandbox = start_sandbox_for_django(fill_interval=0)
    from bots import services
    from bots.hummingbot.client import get_client
    from bots.models import Bot, Trade
    from bots.services.trades import fetch_fills

    for name in sandbox.state.spawn_bots(BOTS, prefix="ingest"):
        sandbox.state.inject_fills(name, FILLS_PER_BOT)
    services.bots_sync()  # adopt them
    assert Bot.objects.count() == BOTS
    bots = Bot.objects.all()

    fetched, fetch = timed(lambda: sum(len(fills) for _, fills in fetch_fills(bots, client=get_client())))
    first, ingest = timed(services.trades_sync)
    second, again = timed(services.trades_sync)
    total = Trade.objects.count()
    print(f"{vendor}, {BOTS} bots x {FILLS_PER_BOT} fills")
    print(f"fetch and parse only   {fetch:6.2f} s  {fetched / fetch:9,.0f} fills/s")
    print(f"ingest, first run      {ingest:6.2f} s  {first['new'] / ingest:9,.0f} rows/s  x{ingest / fetch:.2f} fetch  "
          f"({first['new']} new)")
    print(f"ingest, second run     {again:6.2f} s  {second['known'] / again:9,.0f} rows/s  x{again / fetch:.2f} fetch  "
          f"({second['new']} new, {second['known']} known)")
    assert fetched == first["new"] == BOTS * FILLS_PER_BOT == total and second["new"] == 0 and not first["failed"]
    sandbox.stop()


if __name__ == "__main__":
    main()
