"""Two Hummingbot servers, 500 bots each, behind one bridge (issue 11 item 2): the list, a stop and a start on each
server, then server b killed (its process ends): which bots the list calls stale, and what a stop and a start on
server a, and a stop on server b, answer. Each sandbox runs in its own process, as a real upstream does.

    python bench/two_servers.py          # SQLite scratch database
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bridge_bench python bench/two_servers.py
"""
import os
import statistics
import time
from collections import Counter

from _setup import SANDBOX_PASSWORD, SANDBOX_USER, django_with_scratch_db, point_django_at, start_sandbox_process, timed

BOTS_PER_SERVER, OURS, RUNS = 500, 2, 5  # OURS: created through the bridge (adopted bots cannot be started)
SPREAD = {"order_amount": "1000", "budget_quote": "500", "buy_spreads_pct": [0.5], "sell_spreads_pct": [0.5]}


def spawner(prefix):
    def spawn(state):
        state.spawn_bots(BOTS_PER_SERVER - OURS, prefix=prefix)  # running, adopted by the first sync
    return spawn


def main():
    url_a, _stop_a = start_sandbox_process(spawner("a"), fill_interval=0)
    url_b, kill_b = start_sandbox_process(spawner("b"), fill_interval=0)
    vendor = django_with_scratch_db()
    point_django_at(url_a)  # the default server: HUMMINGBOT_API_*
    os.environ["HUMMINGBOT_SERVER_B_PASSWORD"] = SANDBOX_PASSWORD  # the variable server "b"'s name gives
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from bots import services
    from bots.models import Bot, HummingbotServer, SyncState

    servers = {"default": HummingbotServer.default(), "b": HummingbotServer.objects.create(
        name="b", url=url_b, username=SANDBOX_USER)}
    services.bots_sync_all()  # adopt both fleets
    for name, server in servers.items():
        account = services.account_create(name=f"client_{name}", server=server)
        services.account_add_credentials(account=account, connector="bitmart", fields={  # the pre-trade checks ask
            "bitmart_api_key": "bench", "bitmart_secret_key": "bench", "bitmart_memo": "bench"})
        for number in range(OURS):
            services.bot_create(name=f"ours_{name}_{number}", account=account, strategy="spread", connector="bitmart",
                                trading_pair="SHARP-USDT", params=SPREAD)
    api = APIClient()
    api.force_authenticate(get_user_model().objects.create_superuser("bench", password="bench-pass-123"))

    def listed(query=""):
        SyncState.objects.update(last_attempt_at=None)  # each GET refreshes every server inline
        response = api.get(f"/bots{query}")
        assert response.status_code == 200, response.status_code
        return response.json()

    body, *_ = timed(listed)
    per_server = Counter(row["server"] for row in body["bots"])
    lists = [timed(listed)[1] for _ in range(RUNS)]
    only_b = [timed(lambda: listed("?server=b"))[1] for _ in range(RUNS)]
    print(f"{vendor}, {dict(per_server)} bots, medians over {RUNS} runs, every GET refreshing inline")
    print(f"  GET /bots (both servers read)      {statistics.median(lists) * 1000:7.1f} ms")
    print(f"  GET /bots?server=b (b read)        {statistics.median(only_b) * 1000:7.1f} ms")

    def settled(bot, status):
        """Sync the bot's server until it shows `status` (the sandbox confirms a stop with its next report)."""
        for _ in range(60):
            services.bots_sync(server=bot.server)
            bot.refresh_from_db()
            if bot.status == status:
                return bot
            time.sleep(0.5)
        raise AssertionError(f"{bot.name} is {bot.status}, not {status}")

    def act(bot, what):
        response, seconds, _ = timed(lambda: api.post(f"/bots/{bot.name}/{what}"))
        code = response.json()["error"]["code"] if response.status_code >= 400 else ""
        return f"{what} {bot.name}: HTTP {response.status_code} {code} in {seconds * 1000:.1f} ms"

    bots = {name: list(Bot.objects.filter(server__name=name, name__startswith="ours_").order_by("name"))
            for name in servers}
    for bot in Bot.objects.filter(name__startswith="ours_"):
        settled(bot, "running")
    for name, (bot, _) in bots.items():
        stopped = act(bot, "stop")
        settled(bot, "stopped")
        print(f"  server {name:7}: {stopped}; {act(bot, 'start')}")

    kill_b()
    body, down, _ = timed(listed)
    stale = Counter((row["server"], row["stale"]) for row in body["bots"])
    print(f"after killing server b: GET /bots {down * 1000:.1f} ms (b refused, retried), "
          f"(server, stale) -> bots {dict(stale)}")
    print(f"  upstream: {body['upstream']}")
    (_, a), (_, b) = bots["default"], bots["b"]
    stopped = act(a, "stop")
    settled(a, "stopped")
    print(f"  server default: {stopped}; {act(a, 'start')}")
    print(f"  server b: {act(b, 'stop')}")
    assert stale[("b", True)] == BOTS_PER_SERVER and stale[("default", False)] == BOTS_PER_SERVER
    _stop_a()


if __name__ == "__main__":
    main()
