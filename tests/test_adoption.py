"""Bots made elsewhere (another panel, the Dashboard, by hand) are adopted as `external` with their market: connector
and pair read once from the bot's own controller configs (GET /controllers/bots/{bot}/configs, docs/hummingbot-api.md
§4.1), chain from the connector; a failed read is retried on later syncs, within a bound."""
import pytest

from bots import services
from bots.hummingbot.client import HummingbotClient, get_client
from bots.models import Bot, BotEvent
from bots.services import sync

pytestmark = pytest.mark.django_db


def deployed_elsewhere(name, *markets):
    """What another panel does through the same API: a pmm_v1 config per market, then one deploy naming them."""
    client = get_client()
    names = []
    for index, (connector, pair) in enumerate(markets):
        config_name = f"{name}_{index}"
        client.save_controller_config(config_name, {
            "id": config_name, "controller_type": "generic", "controller_name": "pmm_v1",
            "connector_name": connector, "trading_pair": pair, "order_amount": "1", "buy_spreads": ["0.01"],
            "sell_spreads": ["0.01"], "total_amount_quote": "100", "manual_kill_switch": False, "initial_positions": [],
        })
        names.append(config_name)
    return client.deploy_controllers(instance_name=name, credentials_profile="master_account", controllers=names,
                                     image="hummingbot/hummingbot:version-2.16.0").unique_instance_name


@pytest.fixture
def config_reads(monkeypatch):
    """Every per-bot configs read the client sends, by Hummingbot name (the call still goes to the sandbox)."""
    sent, real = [], HummingbotClient.bot_controller_configs

    def spy(client, bot_name):
        sent.append(bot_name)
        return real(client, bot_name)

    monkeypatch.setattr(HummingbotClient, "bot_controller_configs", spy)
    return sent


def listed(api, hummingbot_name):
    return next(bot for bot in api.get("/bots").json()["bots"] if bot["hummingbot_name"] == hummingbot_name)


@pytest.mark.parametrize("connector, pair, chain, venue, network", [
    ("binance", "ETH-USDT", "evm", "exchange", None),
    ("solana-mainnet-beta", "SOL-USDC", "solana", "gateway", "solana-mainnet-beta"),  # volume on jupiter, elsewhere
])
def test_an_adopted_bot_is_listed_with_its_connector_pair_and_chain(api, panel, hummingbot, connector, pair, chain,
                                                                    venue, network):
    hummingbot_name = deployed_elsewhere("legacy", (connector, pair))
    bot = listed(api, hummingbot_name)  # the list's inline refresh adopts it
    assert (bot["strategy"], bot["status"]) == ("external", "running")
    assert (bot["connector"], bot["pair"], bot["trading_pair"]) == (connector, pair.replace("-", "/"), pair)
    assert (bot["chain"], bot["venue"], bot["network"]) == (chain, venue, network)
    row = panel.get("/admin/bots/bot/").content.decode()
    assert f"{pair}<br><small>{connector} · {chain}</small>" in row
    event = BotEvent.objects.get(bot__hummingbot_name=hummingbot_name, action="adopt")
    assert event.detail == f"found in Hummingbot as {hummingbot_name}, on {connector} {pair}"


def test_the_market_is_read_once_per_adopted_bot(api, hummingbot, config_reads):
    first = deployed_elsewhere("legacy", ("binance", "ETH-USDT"))
    second = deployed_elsewhere("other", ("kucoin", "BTC-USDT"))
    for _ in range(3):
        services.bots_sync()
        hummingbot.advance(10)
    assert sorted(config_reads) == sorted([first, second])
    assert listed(api, second)["connector"] == "kucoin"


def test_a_bot_whose_config_read_fails_is_adopted_and_filled_by_a_later_sync(api, hummingbot, config_reads):
    hummingbot_name = deployed_elsewhere("legacy", ("binance", "ETH-USDT"))
    hummingbot.state.set_fault("GET", r"^/controllers/bots/.*/configs$", "500", times=1)
    services.bots_sync()
    bot = listed(api, hummingbot_name)
    assert (bot["strategy"], bot["connector"], bot["trading_pair"]) == ("external", "", "")
    assert BotEvent.objects.get(bot__hummingbot_name=hummingbot_name, action="adopt").detail.startswith(
        f"found in Hummingbot as {hummingbot_name}; market not read (")
    services.bots_sync()
    assert (listed(api, hummingbot_name)["connector"], listed(api, hummingbot_name)["trading_pair"]) == (
        "binance", "ETH-USDT")
    assert BotEvent.objects.filter(bot__hummingbot_name=hummingbot_name, action="market").get().detail == (
        "market read from Hummingbot: binance ETH-USDT")
    services.bots_sync()
    assert config_reads == [hummingbot_name] * 2


def test_failed_reads_are_retried_only_within_their_bound(hummingbot, shared_clock, config_reads):
    hummingbot_name = deployed_elsewhere("legacy", ("binance", "ETH-USDT"))
    hummingbot.state.set_fault("GET", r"^/controllers/bots/.*/configs$", "500")
    services.bots_sync()
    shared_clock.advance(sync.ADOPTED_MARKET_RETRY.total_seconds() - 1)
    services.bots_sync()
    assert len(config_reads) == 2
    shared_clock.advance(1)
    services.bots_sync()
    services.bots_sync()
    assert len(config_reads) == 2
    assert Bot.objects.get(hummingbot_name=hummingbot_name).connector == ""


def test_a_burst_of_adopted_bots_is_read_a_few_per_sync(hummingbot, config_reads, monkeypatch):
    monkeypatch.setattr(sync, "ADOPTED_MARKET_READS_PER_SYNC", 2)
    names = hummingbot.state.spawn_bots(5, prefix="burst", connector="kucoin", trading_pair="BTC-USDT")
    services.bots_sync()
    assert len(config_reads) == 2 and Bot.objects.filter(strategy="external").count() == 5
    services.bots_sync()
    services.bots_sync()
    services.bots_sync()
    assert sorted(config_reads) == sorted(names)
    assert set(Bot.objects.values_list("connector", "trading_pair")) == {("kucoin", "BTC-USDT")}


def test_a_bot_trading_several_markets_is_listed_with_its_first_and_the_event_names_them_all(api, hummingbot):
    hummingbot_name = deployed_elsewhere("multi", ("binance", "ETH-USDT"), ("kucoin", "BTC-USDT"))
    bot = listed(api, hummingbot_name)
    assert (bot["connector"], bot["trading_pair"]) == ("binance", "ETH-USDT")
    assert BotEvent.objects.get(bot__hummingbot_name=hummingbot_name, action="adopt").detail == (
        f"found in Hummingbot as {hummingbot_name}, on binance ETH-USDT (its controllers trade 2 markets: "
        "binance ETH-USDT, kucoin BTC-USDT; listed with the first)")


def test_a_market_a_bot_row_cannot_hold_is_not_stored(api, hummingbot):
    hummingbot_name = deployed_elsewhere("odd", ("binance", "ETH/USDT"))
    bot = listed(api, hummingbot_name)
    assert (bot["connector"], bot["trading_pair"]) == ("", "")
    assert "market not understood" in BotEvent.objects.get(bot__hummingbot_name=hummingbot_name, action="adopt").detail
