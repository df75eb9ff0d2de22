"""Ingest 100,000 fills of 100 bots from the sandbox into the ledger, then again (must add 0), each
against the fetch-and-parse time alone (the same client calls, nothing stored). The issue's target:
ingest <= 1.5x fetch. The sandbox runs in its own process, as the upstream does. CPU seconds are printed next to wall seconds: on a shared machine the wall times
swing with the neighbours' load, the CPU times (of this process: the bridge's side only) much less.

    python bench/ingest.py               # SQLite scratch database
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bridge_bench python bench/ingest.py
"""
from _setup import django_with_scratch_db, point_django_at, start_sandbox_process, timed

BOTS, FILLS_PER_BOT = 100, 1000


def bots_with_fills(state):
    for name in state.spawn_bots(BOTS, prefix="ingest"):
        state.inject_fills(name, FILLS_PER_BOT)


def main():
    url, stop_sandbox = start_sandbox_process(bots_with_fills, fill_interval=0)
    vendor = django_with_scratch_db()
    point_django_at(url)
    from bots import services
    from bots.hummingbot.client import get_client
    from bots.models import Bot, Trade
    from bots.services.trades import fetch_fills

    services.bots_sync()  # adopt them
    assert Bot.objects.count() == BOTS
    bots = Bot.objects.all()

    fetched, fetch, fetch_cpu = timed(lambda: sum(len(read.fills) for read in fetch_fills(bots, client=get_client())))
    first, ingest, ingest_cpu = timed(services.trades_sync)
    second, again, again_cpu = timed(services.trades_sync)
    total = Trade.objects.count()
    print(f"{vendor}, {BOTS} bots x {FILLS_PER_BOT} fills          wall         cpu")
    print(f"fetch and parse only   {fetch:6.2f} s        {fetch_cpu:6.2f} s          {fetched / fetch:9,.0f} fills/s")
    print(f"ingest, first run      {ingest:6.2f} s x{ingest / fetch:.2f}  {ingest_cpu:6.2f} s x{ingest_cpu / fetch_cpu:.2f}  "
          f"{first['new'] / ingest:9,.0f} rows/s ({first['new']} new)")
    print(f"ingest, second run     {again:6.2f} s x{again / fetch:.2f}  {again_cpu:6.2f} s x{again_cpu / fetch_cpu:.2f}  "
          f"{second['known'] / again:9,.0f} rows/s ({second['new']} new, {second['known']} known)")
    assert fetched == first["new"] == BOTS * FILLS_PER_BOT == total and second["new"] == 0 and not first["failed"]
    stop_sandbox()


if __name__ == "__main__":
    main()
