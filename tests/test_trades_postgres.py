"""Two trade syncs at once store each fill exactly once (needs PostgreSQL: real concurrent writers)."""
import threading

import pytest
from django.db import connection

from bots import services
from bots.models import Bot, Trade

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="concurrent writers need PostgreSQL")
def test_two_concurrent_syncs_store_each_trade_once(hummingbot):
    names = hummingbot.state.spawn_bots(5, prefix="race")
    for name in names:
        hummingbot.state.inject_fills(name, 400)
    services.bots_sync()
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def run():
        try:
            barrier.wait()
            reports.append(services.trades_sync())
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert Trade.objects.count() == 5 * 400
    assert Bot.objects.count() == 5
    assert all(not r["failed"] for r in reports)
    # each fill is new to exactly one run, known to the other
    assert sum(r["new"] for r in reports) == 5 * 400
    assert all(r["new"] + r["known"] == 5 * 400 for r in reports)
