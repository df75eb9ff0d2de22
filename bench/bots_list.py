"""GET /bots with 1,000 bots against the sandbox, next to the raw upstream status call it replaces, the 304 a
client holding the list's ETag gets (no row built: bots/list_version.py), then 20 concurrent pollers for 30 s and
the number of status calls they caused. The sandbox runs in its own process, as the upstream does: in ours, its
1,000 bots' objects and threads would weigh on the bridge's timings.

    python bench/bots_list.py            # SQLite scratch database
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bridge_bench python bench/bots_list.py
"""
import statistics
import time
from decimal import Decimal

from _setup import django_with_scratch_db, point_django_at, start_sandbox_process

BOTS, RUNS, POLLERS, POLL_SECONDS = 1000, 31, 20, 30


def timed(fn, runs=RUNS, before=lambda: None):
    before()
    fn()  # warm up
    samples = []
    for _ in range(runs):
        before()
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def paired(fn, reference, before=lambda: None, runs=RUNS):
    """Medians of fn and reference timed alternately, so the machine's load changes hit both alike."""
    fn(), reference()  # warm up
    samples, references = [], []
    for _ in range(runs):
        start = time.perf_counter()
        reference()
        references.append(time.perf_counter() - start)
        before()
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), statistics.median(references)


def poll_for(seconds, user):
    """POLLERS threads calling GET /bots back to back until the deadline; returns the number of answers."""
    from rest_framework.test import APIClient

    from tests.concurrency import at_once

    deadline = time.monotonic() + seconds

    def poll():
        client = APIClient()
        client.force_authenticate(user)
        statuses = []
        while time.monotonic() < deadline:
            statuses.append(client.get("/bots").status_code)
        return statuses

    answers, errors = at_once(POLLERS, poll)
    statuses = [status for polled in answers for status in polled]
    assert not errors and set(statuses) == {200}, (errors, set(statuses))
    return len(statuses)


def spawn_bots(state):
    state.spawn_bots(BOTS, prefix="bench")


def main():
    url, stop_sandbox = start_sandbox_process(spawn_bots, fill_interval=0)
    vendor = django_with_scratch_db()
    point_django_at(url)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import F, Value
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from rest_framework.test import APIClient

    from bots import selectors
    from bots.api.serializers import BotSerializer
    from bots.hummingbot.client import HummingbotClient, get_client
    from bots.models import Bot, SyncState, ThrottleCount

    user = get_user_model().objects.create_superuser("bench", "", "bench-pass-123")
    api = APIClient()
    api.force_authenticate(user)
    api.get("/bots")  # adopts the 1,000 bots once
    assert Bot.objects.count() == BOTS

    def reported_figures():
        """Figures as the status sync leaves them once Hummingbot reports (the sandbox's bots here never fill, and
        an inline sync writes their zeros): a PnL and a volume per bot, each its own, as in production."""
        Bot.objects.update(perf_net_pnl_quote=F("id") * Value(Decimal("0.0137")) - Value(Decimal("5.125")),
                           perf_volume_quote=F("id") * Value(Decimal("13.25")), perf_read_at=timezone.now())

    reported_figures()

    raw_call = get_client().bots_status
    # Each write gives the list a new version (bots/list_version.py): this one also keeps a refresh from being due.
    # The raw call is timed until its statuses are parsed, as GET /bots had them before it read the database; GET
    # /bots until its answer is out (`content`), and again with the caller's json.loads of it.
    new_version = lambda: SyncState.objects.update(last_attempt_at=timezone.now())  # noqa: E731
    listed, raw = paired(lambda: api.get("/bots").content, raw_call, before=new_version)
    listed_parsed, raw_parsed = paired(lambda: api.get("/bots").json(), raw_call, before=new_version)
    due, raw_due = paired(lambda: api.get("/bots").json(), raw_call,
                          before=lambda: SyncState.objects.update(last_attempt_at=None))
    reported_figures()

    def counted(request) -> str:
        """The queries of one request, read at once (the connection keeps only the last 9,000). The throttles count
        in a table every web worker shares (bots/api/throttles.py): told apart from the list's own queries."""
        with CaptureQueriesContext(connection) as captured:
            request()
        counts = [q for q in captured if ThrottleCount._meta.db_table in q["sql"]]
        return f"{len(captured) - len(counts)} queries (+ {len(counts)} of the throttles' counts)"

    SyncState.objects.update(last_attempt_at=timezone.now())  # a new version, and no refresh due for a while
    queries = counted(lambda: api.get("/bots"))
    etag = api.get("/bots")["ETag"]
    rendered, raw_rendered = paired(lambda: api.get("/bots").content, raw_call)
    unchanged = timed(lambda: api.get("/bots", HTTP_IF_NONE_MATCH=etag))
    unchanged_queries = counted(lambda: api.get("/bots", HTTP_IF_NONE_MATCH=etag))
    assert api.get("/bots", HTTP_IF_NONE_MATCH=etag).status_code == 304
    serializer = timed(lambda: BotSerializer(selectors.bot_list(), many=True, context={"failed_servers": set()}).data)
    rows = timed(lambda: selectors.bot_list_rows(failed_servers=set()))
    print(f"{BOTS} bots, {vendor}, medians over {RUNS} runs, each GET /bots timed next to a raw call:")
    print(f"  raw GET /bot-orchestration/status: {raw * 1000:.1f} ms")
    # Between two syncs every poll but each process's first finds the list as that process rendered it.
    print(f"  GET /bots from the database, its rows built (the list changed before each call): {listed * 1000:.1f} ms "
          f"(ratio {listed / raw:.2f}x, bound 0.25x), {queries}; with the caller's json.loads of the answer "
          f"{listed_parsed * 1000:.1f} ms ({listed_parsed / raw_parsed:.2f}x)")
    print(f"  GET /bots from the database, the list unchanged since this process rendered it (no ETag sent): "
          f"{rendered * 1000:.1f} ms (ratio {rendered / raw_rendered:.2f}x)")
    print(f"  304 on an unchanged list: {unchanged * 1000:.1f} ms, {unchanged_queries} (bound 5 ms)")
    print(f"  GET /bots when a refresh is due (inline sync): {due * 1000:.1f} ms ({due / raw_due:.2f}x)")
    print(f"  rows: BotSerializer {serializer * 1000:.1f} ms, bot_list_rows {rows * 1000:.1f} ms")

    calls = []
    bots_status = HummingbotClient.bots_status
    HummingbotClient.bots_status = lambda client: calls.append(1) or bots_status(client)
    answers = poll_for(POLL_SECONDS, user)
    bound = POLL_SECONDS // settings.BOTS_SYNC_SECONDS + 1
    print(f"{POLLERS} pollers for {POLL_SECONDS} s (BOTS_SYNC_SECONDS={settings.BOTS_SYNC_SECONDS}): "
          f"{answers} answers, {len(calls)} upstream status calls (bound {bound})")
    stop_sandbox()


if __name__ == "__main__":
    main()
