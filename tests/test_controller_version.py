"""Issue 15, Medium 2: the volume controller is trusted by content, never by name (docs/design.md §11).

Our reviewed file is stored upstream as `generic/volume_taker_<sha256[:8]>`, read back from Hummingbot before the
first deploy that uses it (per process and server), and a bot keeps the version it was deployed with. Everything is
read back from the sandbox over HTTP: the config a bot holds, the code stored under the name that config gives."""
import hashlib

import pytest
from django.urls import reverse

from bots import services, strategies
from bots.hummingbot.client import HummingbotClient, get_client
from bots.hummingbot.errors import HummingbotControllerUnverified
from bots.models import Bot, BotEvent
from tests.conftest import give_keys

pytestmark = pytest.mark.django_db

VOLUME = {"total_amount_quote": "2000", "order_amount_quote": "20", "min_price": "0.004", "max_price": "0.006"}
REVIEWED = strategies.volume_taker_source()
REVIEWED_SHA256 = hashlib.sha256(REVIEWED.encode("utf-8")).hexdigest()
VERSION = f"volume_taker_{REVIEWED_SHA256[:8]}"
# Another file under the old name: an older release of ours, whose config class still validates our configs.
OLDER_RELEASE = REVIEWED.replace('DUST_SHARE = Decimal("0.1")', 'DUST_SHARE = Decimal("0")') + "\n# release 0.9\n"


def volume_bot(account, name="vol"):
    return services.bot_create(name=name, account=account, strategy="volume", connector="bitmart",
                               trading_pair="SHARP-USDT", params=VOLUME)


def stored(name: str) -> str:
    """The code Hummingbot keeps under generic/<name> (GET /controllers/{type}/{name}, docs/hummingbot-api.md §4)."""
    return get_client()._call("GET", f"/controllers/generic/{name}")["content"]


def code_the_bot_runs(bot) -> str:
    """Its controller config as Hummingbot holds it names the module; the module is the file stored under it."""
    config = get_client().bot_controller_configs(bot.hummingbot_name)[bot.config_name]
    assert config["controller_type"] == "generic"
    return stored(config["controller_name"])


def test_a_new_volume_bot_runs_the_reviewed_code_not_a_foreign_file_under_the_old_name(hummingbot, upstream_account):
    get_client().upload_controller("generic", "volume_taker", OLDER_RELEASE)

    bot = volume_bot(upstream_account)

    assert get_client().bot_controller_configs(bot.hummingbot_name)["vol"]["controller_name"] == VERSION
    assert code_the_bot_runs(bot) == REVIEWED
    assert hummingbot.state.bots[bot.hummingbot_name].load_error is None  # the bot loaded that module
    assert stored("volume_taker") == OLDER_RELEASE  # left untouched upstream
    assert Bot.objects.get(pk=bot.pk).controller_sha256 == REVIEWED_SHA256


def test_other_code_already_stored_under_the_versioned_name_is_replaced_before_the_deploy(hummingbot, upstream_account):
    get_client().upload_controller("generic", VERSION, OLDER_RELEASE)

    bot = volume_bot(upstream_account)

    assert code_the_bot_runs(bot) == REVIEWED


def test_a_server_that_does_not_keep_the_reviewed_code_gets_no_deploy(hummingbot, upstream_account, monkeypatch):
    keep = hummingbot.state.save_controller
    monkeypatch.setattr(hummingbot.state, "save_controller",
                        lambda kind, name, content: keep(kind, name, content + "\nimport os\n"))

    with pytest.raises(HummingbotControllerUnverified) as refused:
        volume_bot(upstream_account)

    assert f"generic/{VERSION}" in refused.value.message and "not deploying" in refused.value.message
    assert hummingbot.state.bots == {}  # nothing deployed
    bot = Bot.objects.get(name="vol")
    assert bot.status == Bot.Status.ERROR and bot.hummingbot_name is None
    assert "not deploying" in bot.last_error
    assert BotEvent.objects.filter(bot=bot, action="create", ok=False).exists()


def test_the_api_answers_an_unverified_controller_with_a_502_that_says_why(api, hummingbot, upstream_account, monkeypatch):
    monkeypatch.setattr(hummingbot.state, "save_controller", lambda kind, name, content: None)  # drops every upload

    response = api.post("/bots/create", {"name": "vol", "account": "client_sharp", "strategy": "volume",
                                         "connector": "bitmart", "pair": "SHARP/USDT", "params": VOLUME}, format="json")

    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "hummingbot_controller_unverified" and error["details"]["permanent"] is True
    assert f"generic/{VERSION}" in error["message"]


def test_the_stored_code_is_read_back_once_per_process_and_server(hummingbot, upstream_account, monkeypatch):
    reads = []
    read = HummingbotClient.controller_source

    def counted(client, controller_type, controller_name):
        reads.append((client.base_url, controller_name))
        return read(client, controller_type, controller_name)

    monkeypatch.setattr(HummingbotClient, "controller_source", counted)
    volume_bot(upstream_account, "vol_1")
    volume_bot(upstream_account, "vol_2")  # the same server: its positive check is remembered

    assert reads == [(hummingbot.url.rstrip("/"), VERSION)] * 2  # none stored yet: read, upload, read again


def test_each_server_gets_the_reviewed_code_checked_before_its_first_volume_bot(two_servers, hummingbot, hummingbot_b):
    default, b = two_servers
    client_a = services.account_create(name="client_a", server=default)
    client_b = services.account_create(name="client_b", server=b)
    give_keys(hummingbot, "client_a", "bitmart")
    give_keys(hummingbot_b, "client_b", "bitmart")
    volume_bot(client_a, "vol_a")
    on_b = volume_bot(client_b, "vol_b")

    with hummingbot_b.state.lock:
        assert hummingbot_b.state.uploaded_controllers[("generic", VERSION)] == REVIEWED
        assert hummingbot_b.state.bots[on_b.hummingbot_name].load_error is None


def next_release(monkeypatch):
    """The bridge upgraded: its reviewed file is another one (a new version), bots already deployed keep theirs."""
    source = REVIEWED + "\n# next release\n"
    sha256 = hashlib.sha256(source.encode("utf-8")).hexdigest()
    release = strategies.ReviewedController(f"volume_taker_{sha256[:8]}", sha256, source)
    monkeypatch.setattr(strategies, "volume_taker", lambda: release)
    return release


def gone_upstream(hummingbot, bot):
    """Its instance archived behind our back: start deploys it again."""
    services.bot_archive(bot=bot)
    hummingbot.advance(60)
    Bot.objects.filter(pk=bot.pk).update(status=Bot.Status.STOPPED)
    hummingbot.advance(1)
    bot.refresh_from_db()


def test_a_bot_deployed_again_keeps_the_version_it_was_deployed_with(hummingbot, upstream_account, monkeypatch):
    bot = volume_bot(upstream_account)
    first = bot.hummingbot_name
    release = next_release(monkeypatch)
    gone_upstream(hummingbot, bot)

    services.bot_start(bot=bot)

    bot.refresh_from_db()
    assert bot.hummingbot_name != first
    assert code_the_bot_runs(bot) == REVIEWED and bot.controller_sha256 == REVIEWED_SHA256
    assert BotEvent.objects.filter(bot=bot, action="start", detail__contains=VERSION).exists()
    newer = volume_bot(upstream_account, "vol_new")  # a new bot runs the new release
    assert code_the_bot_runs(newer) == release.source and newer.controller_sha256 == release.sha256


def test_a_bot_whose_version_is_no_longer_stored_as_deployed_is_not_deployed_again(
        hummingbot, upstream_account, monkeypatch):
    bot = volume_bot(upstream_account)
    next_release(monkeypatch)
    gone_upstream(hummingbot, bot)
    with hummingbot.state.lock:  # someone rewrote the file of the bot's version on the server
        hummingbot.state.uploaded_controllers[("generic", VERSION)] = OLDER_RELEASE
    services.controllers.forget_checks()  # a new process: nothing verified yet

    with pytest.raises(HummingbotControllerUnverified) as refused:
        services.bot_start(bot=bot)

    assert VERSION in refused.value.message and "create a new bot" in refused.value.message
    bot.refresh_from_db()
    assert bot.status == Bot.Status.STOPPED and bot.controller_sha256 == REVIEWED_SHA256
    assert stored(VERSION) == OLDER_RELEASE  # we cannot upload a version this release does not ship


def test_a_bot_deployed_before_versions_were_recorded_is_deployed_again_with_the_reviewed_file(
        hummingbot, upstream_account):
    bot = volume_bot(upstream_account)
    Bot.objects.filter(pk=bot.pk).update(controller_sha256="")
    gone_upstream(hummingbot, bot)

    services.bot_start(bot=bot)

    bot.refresh_from_db()
    assert bot.controller_sha256 == REVIEWED_SHA256 and code_the_bot_runs(bot) == REVIEWED


def test_the_bot_page_says_which_controller_version_the_bot_runs(panel, hummingbot, upstream_account):
    bot = volume_bot(upstream_account)
    html = panel.get(reverse("admin:bots_bot_change", args=[bot.pk])).content.decode()
    row = html.split("<th>controller</th>")[1].split("</tr>")[0]
    assert f"generic/{VERSION}" in row and REVIEWED_SHA256 in row


def test_the_bot_page_says_when_a_volume_bot_predates_controller_versions(panel, hummingbot, upstream_account):
    bot = volume_bot(upstream_account)
    Bot.objects.filter(pk=bot.pk).update(controller_sha256="")  # as the migration leaves older bots
    html = panel.get(reverse("admin:bots_bot_change", args=[bot.pk])).content.decode()
    row = html.split("<th>controller</th>")[1].split("</tr>")[0]
    assert "generic/volume_taker\n" in row and "unversioned: deployed before controller versions were recorded" in row
