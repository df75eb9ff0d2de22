"""GET /bots with 1,000 bots against the sandbox, next to the raw upstream status call it wraps.

    python bench/bots_list.py            # SQLite scratch database
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bridge_bench python bench/bots_list.py
"""
import statistics
import time

from _setup import django_with_scratch_db, start_sandbox_for_django

BOTS, RUNS = 1000, 15


def timed(fn, runs=RUNS):
    fn()  # warm up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main():
    vendor = django_with_scratch_db()
    sandbox = start_sandbox_for_django(fill_interval=0)
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from bots.hummingbot.client import get_client
    from bots.models import Bot

    sandbox.state.spawn_bots(BOTS, prefix="bench")
    user = get_user_model().objects.create_superuser("bench", "", "bench-pass-123")
    api = APIClient()
    api.force_authenticate(user)
    api.get("/bots")  # adopts the 1,000 bots once
    assert Bot.objects.count() == BOTS

    raw = timed(lambda: get_client().bots_status())
    listed = timed(lambda: api.get("/bots").json())
    print(f"GET /bots, {BOTS} bots, {vendor}: median {listed * 1000:.1f} ms over {RUNS} runs")
    print(f"raw GET /bot-orchestration/status: median {raw * 1000:.1f} ms")
    print(f"ratio GET /bots / raw upstream call: {listed / raw:.2f}x")
    sandbox.stop()


if __name__ == "__main__":
    main()
