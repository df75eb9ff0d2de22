"""Create → running → stop → stopped → start → running → archive → archived, through the API and the
sandbox over real HTTP. Statuses are read back from the sandbox by a sync, never from our own writes."""
import pytest

from bots import services
from bots.hummingbot.client import get_client
from bots.models import Bot, BotEvent

pytestmark = pytest.mark.django_db

SPREAD = {"order_amount": "1000", "budget_quote": "500", "buy_spreads_pct": [0.5, 1], "sell_spreads_pct": [0.5, 1]}
VOLUME = {"total_amount_quote": "2000", "order_amount_quote": "20", "min_price": "0.004", "max_price": "0.006"}


def create(api, name, strategy, connector, pair, params):
    # The sandbox has no Gateway: a jupiter bot's price and rules cannot be read, so the create asks (pretrade).
    confirm = connector.lower() == "jupiter"
    return api.post("/bots/create", {"name": name, "account": "client_sharp", "strategy": strategy,
                                     "connector": connector, "pair": pair, "params": params, "confirm": confirm},
                    format="json")


def status_after_sync(api, bot_id):
    services.bots_sync()  # what the scheduled sync does every BOTS_SYNC_SECONDS
    body = api.get("/bots").json()
    return next(b for b in body["bots"] if b["id"] == bot_id)["status"]


def archived_after_the_upstream_archives(api, hummingbot, bot_id):
    """The sandbox finishes its archive, then the bot stays absent for VANISHED_AFTER_SECONDS."""
    from django.conf import settings

    hummingbot.advance(60)
    status_after_sync(api, bot_id)
    hummingbot.advance(settings.VANISHED_AFTER_SECONDS)
    return status_after_sync(api, bot_id)


@pytest.mark.parametrize(
    "strategy, connector, pair, params",
    [
        ("spread", "bitmart", "SHARP-USDT", SPREAD),
        ("volume", "bitmart", "SHARP-USDT", VOLUME),
        ("volume", "jupiter", "SHARP-USDC", VOLUME),
    ],
)
def test_full_lifecycle_through_the_sandbox(api, shared_clock, upstream_account, strategy, connector, pair, params):
    created = create(api, "sharp_bot", strategy, connector, pair, params)
    assert created.status_code == 201, created.json()
    bot_id = created.json()["id"]
    assert created.json()["status"] == "starting"
    assert status_after_sync(api, bot_id) == "running"

    assert api.post(f"/bots/{bot_id}/stop").status_code == 202
    assert status_after_sync(api, bot_id) == "stopped"
    assert api.post(f"/bots/{bot_id}/stop").status_code == 409

    assert api.post(f"/bots/{bot_id}/start").status_code == 202
    assert status_after_sync(api, bot_id) == "running"

    assert api.delete(f"/bots/{bot_id}").status_code == 202
    assert archived_after_the_upstream_archives(api, shared_clock, bot_id) == "archived"
    actions = list(BotEvent.objects.filter(bot__name=bot_id).values_list("action", "ok").order_by("id"))
    assert [a for a in actions if a[0] != "sync"] == [("create", True), ("stop", True), ("start", True), ("archive", True)]


def test_jupiter_volume_bot_is_deployed_on_the_solana_network(api, hummingbot, upstream_account):
    body = create(api, "sol_vol", "volume", "jupiter", "SHARP-USDC", VOLUME).json()
    assert (body["chain"], body["venue"], body["network"]) == ("solana", "gateway", "solana-mainnet-beta")
    from bots.hummingbot.client import get_client

    assert get_client()._call("GET", "/controllers/configs/sol_vol")["connector_name"] == "solana-mainnet-beta"


def test_spread_on_jupiter_is_refused_with_its_reason(api, hummingbot, upstream_account):
    response = create(api, "sol_mm", "spread", "jupiter", "SHARP-USDC", SPREAD)
    assert response.status_code == 400
    assert "swap" in response.json()["error"]["message"].lower()
    assert not Bot.objects.exists()


def test_volume_and_spread_cannot_share_account_connector_and_pair(api, hummingbot, upstream_account):
    assert create(api, "mm", "spread", "bitmart", "SHARP-USDT", SPREAD).status_code == 201
    response = create(api, "vol", "volume", "bitmart", "SHARP-USDT", VOLUME)
    assert response.status_code == 400
    assert "would trade against it" in response.json()["error"]["details"]["strategy"][0]


def test_start_after_the_container_is_gone_redeploys_under_a_new_name(api, hummingbot, upstream_account):
    bot_id = create(api, "sharp_mm", "spread", "bitmart", "SHARP-USDT", SPREAD).json()["id"]
    status_after_sync(api, bot_id)
    bot = Bot.objects.get(name=bot_id)
    first_name = bot.hummingbot_name
    services.bot_archive(bot=bot)
    hummingbot.advance(60)
    Bot.objects.filter(name=bot_id).update(status=Bot.Status.STOPPED)  # as if archived behind our back
    hummingbot.advance(1)
    assert api.post(f"/bots/{bot_id}/start").status_code == 202
    bot.refresh_from_db()
    assert bot.hummingbot_name != first_name
    assert status_after_sync(api, bot_id) == "running"


def test_a_bot_hummingbot_runs_that_we_did_not_create_is_adopted(api, hummingbot):
    name = hummingbot.state.spawn_bots(1, prefix="legacy")[0]
    body = api.get("/bots").json()
    adopted = next(b for b in body["bots"] if b["hummingbot_name"] == name)
    assert adopted["strategy"] == "external" and adopted["status"] == "running"


def test_name_hummingbot_already_uses_is_refused(api, hummingbot, upstream_account):
    hummingbot.state.spawn_bots(1, prefix="taken")
    theirs = get_client().bots_status()
    base = next(iter(theirs)).rsplit("-", 2)[0]
    response = create(api, base, "spread", "bitmart", "SHARP-USDT", SPREAD)
    assert response.status_code == 400
    assert "already runs a bot named" in response.json()["error"]["message"]


def test_a_bot_archived_mid_way_keeps_every_trade(api, shared_clock, upstream_account):
    hummingbot = shared_clock
    from bots.models import Trade

    bot_id = create(api, "sharp_mm", "spread", "bitmart", "SHARP-USDT", SPREAD).json()["id"]
    status_after_sync(api, bot_id)
    hb_name = Bot.objects.get(name=bot_id).hummingbot_name
    hummingbot.state.inject_fills(hb_name, 5, start_ts=hummingbot.state.now() - 100)
    assert services.trades_sync()["new"] == 5
    hummingbot.state.inject_fills(hb_name, 3, start_ts=hummingbot.state.now() - 50)  # made, not yet synced
    assert api.delete(f"/bots/{bot_id}").status_code == 202
    assert archived_after_the_upstream_archives(api, hummingbot, bot_id) == "archived"
    report = services.trades_sync()
    assert (report["new"], report["failed"]) == (3, {})
    from bots.hummingbot.client import get_client

    db = next(p for p in get_client().archived_bots() if hb_name in p)
    upstream_ids = {f.trade_id for f in get_client().archived_trades(db).fills}
    assert set(Trade.objects.filter(bot__name=bot_id).values_list("trade_id", flat=True)) == upstream_ids
    assert len(upstream_ids) == 8
    assert services.trades_sync()["new"] == 0


def test_starting_a_spread_bot_next_to_a_running_volume_bot_is_refused(api, hummingbot, upstream_account):
    mm = create(api, "mm", "spread", "bitmart", "SHARP-USDT", SPREAD).json()["id"]
    status_after_sync(api, mm)
    api.post(f"/bots/{mm}/stop")
    assert status_after_sync(api, mm) == "stopped"
    assert create(api, "vol", "volume", "bitmart", "SHARP-USDT", VOLUME).status_code == 201
    response = api.post(f"/bots/{mm}/start")
    assert response.status_code == 409
    assert "Bot 'vol' already runs volume" in response.json()["error"]["message"]
    assert Bot.objects.get(name=mm).status == "stopped"
