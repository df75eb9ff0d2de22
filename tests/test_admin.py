"""The control panel: create, buttons (POST + CSRF + permission), confirmations, banners, keys form."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from bots.hummingbot.client import get_client
from bots.models import Account, Bot, BotEvent
from tests.panel import SPREAD, create

pytestmark = pytest.mark.django_db

def test_create_deploys_and_shows_the_bot(panel, upstream_account):
    response = create(panel)
    bot = Bot.objects.get(name="sharp_mm")
    assert response.status_code == 302 and response["Location"] == reverse("admin:bots_bot_change", args=[bot.pk])
    assert bot.hummingbot_name.startswith("sharp_mm-") and bot.created_by.username == "desk"
    page = panel.get(response["Location"]).content.decode()
    assert "deployed as sharp_mm-" in page and 'data-action="stop"' in page


@pytest.mark.parametrize("field, value", [("name", "bad name"), ("trading_pair", "SHARPUSDT"),
                                          ("spread-order_amount", "-1")])
def test_bad_create_input_is_shown_on_the_form_and_nothing_is_written(panel, upstream_account, field, value):
    response = create(panel, **{field: value})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Bot.objects.exists()


def test_stop_asks_for_confirmation_then_stops(panel, upstream_account):
    create(panel)
    bot = Bot.objects.get()
    from bots import services

    services.bots_sync()
    url = reverse("admin:bots_bot_action", args=[bot.pk, "stop"])
    confirm = panel.get(url)
    assert confirm.status_code == 200 and "Stop this bot?" in confirm.content.decode()
    assert Bot.objects.get().status == "running"
    done = panel.post(url)
    assert done.status_code == 302
    assert Bot.objects.get().status == "stopping"
    assert BotEvent.objects.filter(action="stop", actor="desk", ok=True).exists()


def test_buttons_need_csrf(operator, upstream_account):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    bot = Bot.objects.create(name="b", account=upstream_account, strategy="spread", connector="bitmart",
                             trading_pair="A-B", status="stopped")
    response = client.post(reverse("admin:bots_bot_action", args=[bot.pk, "start"]))
    assert response.status_code == 403
    assert Bot.objects.get().status == "stopped"


def test_view_only_staff_cannot_press_start(django_user_model, account):
    viewer = django_user_model.objects.create_user("viewer", password="pw-viewer-123", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_bot"))
    client = Client()
    client.force_login(viewer)
    bot = Bot.objects.create(name="b", account=account, strategy="spread", connector="bitmart", trading_pair="A-B", status="stopped")
    assert client.post(reverse("admin:bots_bot_action", args=[bot.pk, "start"])).status_code == 403
    assert client.get(reverse("admin:bots_bot_change", args=[bot.pk])).status_code == 200


def test_start_when_hummingbot_is_down_keeps_status_and_shows_message(panel, account, settings):
    settings.HUMMINGBOT_API_URL = "http://127.0.0.1:9"
    bot = Bot.objects.create(name="b", hummingbot_name="b-20260101-000000", account=account, strategy="spread",
                             connector="bitmart", trading_pair="A-B", status="stopped", params=SPREAD)
    response = panel.post(reverse("admin:bots_bot_action", args=[bot.pk, "start"]), follow=True)
    assert "Cannot reach the Hummingbot API" in response.content.decode()
    assert Bot.objects.get().status == "stopped"


def test_outage_banner_appears_and_clears(panel, hummingbot, account):
    hummingbot.state.set_fault("GET", "/bot-orchestration/status", "500", times=1)
    from bots import services

    with pytest.raises(Exception):
        services.bots_sync()
    assert "Hummingbot API unreachable since" in panel.get(reverse("admin:index")).content.decode()
    services.bots_sync()
    assert "Hummingbot API unreachable since" not in panel.get(reverse("admin:index")).content.decode()


def test_exchange_keys_are_forwarded_never_stored_or_shown(panel, upstream_account, hummingbot):
    url = reverse("admin:bots_account_credentials", args=[upstream_account.pk]) + "?connector=bitmart"
    form = panel.get(url)
    assert form.status_code == 200 and "bitmart_api_key" in form.content.decode()
    keys = {"bitmart_api_key": "KEY-visible-nowhere", "bitmart_secret_key": "SECRET-visible-nowhere", "bitmart_memo": "memo1"}
    response = panel.post(url, keys, follow=True)
    page = response.content.decode()
    assert "sent to Hummingbot" in page and "KEY-visible-nowhere" not in page
    assert get_client().connector_config_map("bitmart")
    assert "bitmart" in get_client()._call("GET", f"/accounts/{upstream_account.name}/credentials")
    assert not any("visible-nowhere" in e.detail for e in BotEvent.objects.all())


def test_sandbox_label_is_shown(panel, settings):
    settings.HUMMINGBOT_SANDBOX = True
    assert "SANDBOX" in panel.get(reverse("admin:index")).content.decode()


def test_adding_an_account_creates_it_in_hummingbot_first(panel, hummingbot):
    response = panel.post(reverse("admin:bots_account_add"), {"name": "client_new", "label": "New client"})
    assert response.status_code == 302
    assert Account.objects.filter(name="client_new").exists()
    assert "client_new" in get_client().list_accounts()


def test_adding_an_account_when_hummingbot_is_down_keeps_nothing_and_says_why(panel, settings, db):
    settings.HUMMINGBOT_API_URL = "http://127.0.0.1:9"
    response = panel.post(reverse("admin:bots_account_add"), {"name": "client_new"}, follow=True)
    assert "Cannot reach the Hummingbot API" in response.content.decode()
    assert not Account.objects.exists()
    assert BotEvent.objects.get(action="account_create").ok is False


def test_bulk_stop_asks_first_then_stops_the_selected_bots(panel, upstream_account):
    from bots import services

    create(panel, name="one")
    services.bots_sync()
    bot = Bot.objects.get()
    changelist = reverse("admin:bots_bot_changelist")
    asked = panel.post(changelist, {"action": "stop_bots", "_selected_action": [bot.pk]}).content.decode()
    assert "Stop 1 bot(s)?" in asked and "<li>one</li>" in asked and Bot.objects.get().status == "running"
    stopped = panel.post(changelist, {"action": "stop_bots", "_selected_action": [bot.pk], "confirmed": "yes"},
                         follow=True)
    assert "Sent to 1 bot(s): one." in stopped.content.decode()
    assert Bot.objects.get().status == "stopping"
    started = panel.post(changelist, {"action": "start_bots", "_selected_action": [bot.pk]}, follow=True)
    assert "only a stopped bot can be started" in started.content.decode()


def test_sync_button_says_when_the_trades_could_not_be_read(panel, upstream_account, hummingbot):
    create(panel, name="one")
    bot = Bot.objects.get()
    hummingbot.state.set_fault("GET", "/history$", "500")
    page = panel.post(reverse("admin:bots_bot_action", args=[bot.pk, "sync"]), follow=True).content.decode()
    assert "trades not read: Hummingbot API failed on GET" in page
    assert "Status and trades read" not in page


# --- live parameters -----------------------------------------------------------------------------


def running_spread_bot(panel):
    from bots import services

    create(panel, params={"order_amount": "1000", "budget_quote": "500", "buy_spreads_pct": [0.5, 1]})
    services.bots_sync()
    return Bot.objects.get(name="sharp_mm")


def params_form(bot, **changes):
    """What the page's form posts: every live field with its current value, then the changes."""
    current = {name: ", ".join(value) if isinstance(value, list) else value for name, value in bot.params.items()}
    data = {name: "" if value is None else value for name, value in current.items()
            if name not in ("budget_quote", "max_loss_quote")}
    data["inventory_skew_enabled"] = "on" if bot.params["inventory_skew_enabled"] else ""
    return {**data, **changes}


def test_params_page_shows_only_live_fields_with_their_current_values(panel, upstream_account):
    bot = running_spread_bot(panel)
    change_page = panel.get(reverse("admin:bots_bot_change", args=[bot.pk])).content.decode()
    url = reverse("admin:bots_bot_params", args=[bot.pk])
    assert url in change_page
    form = panel.get(url).context["form"]
    assert "budget_quote" not in form.fields and "max_loss_quote" not in form.fields
    assert form["buy_spreads_pct"].initial == "0.5, 1" and form["order_amount"].initial == "1000"


def test_params_form_changes_the_running_bot_and_confirms_what_hummingbot_holds(panel, upstream_account):
    bot = running_spread_bot(panel)
    url = reverse("admin:bots_bot_params", args=[bot.pk])
    done = panel.post(url, params_form(bot, buy_spreads_pct="0.3, 0.8"), follow=True)
    assert [str(m) for m in done.context["messages"]][-1] == (
        'Hummingbot holds the new values: buy_spreads_pct ["0.5", "1"] -> ["0.3", "0.8"]')
    held = get_client().bot_controller_configs(bot.hummingbot_name)[bot.config_name]
    assert held["buy_spreads"] == ["0.003", "0.008"]
    assert Bot.objects.get().params["buy_spreads_pct"] == ["0.3", "0.8"]
    assert BotEvent.objects.filter(action="params", ok=True).count() == 1


def test_params_form_shows_refusals_on_the_field(panel, upstream_account):
    bot = running_spread_bot(panel)
    response = panel.post(reverse("admin:bots_bot_params", args=[bot.pk]), params_form(bot, order_refresh_time="1"))
    assert response.status_code == 200
    assert "order_refresh_time" in response.context["form"].errors
    assert not BotEvent.objects.filter(action="params").exists()


def test_params_page_needs_the_change_permission_and_csrf(operator, panel, upstream_account):
    bot = running_spread_bot(panel)
    url = reverse("admin:bots_bot_params", args=[bot.pk])
    operator.user_permissions.remove(Permission.objects.get(codename="change_bot"))
    assert panel.get(url).status_code == 403
    csrf_checked = Client(enforce_csrf_checks=True)
    csrf_checked.force_login(operator)
    operator.user_permissions.add(Permission.objects.get(codename="change_bot"))
    assert csrf_checked.post(url, params_form(bot, order_amount="2")).status_code == 403


def test_params_form_of_a_volume_bot_sends_only_what_was_edited(panel, upstream_account):
    from bots import services

    create(panel, name="sharp_vol", strategy="volume",
           params={"total_amount_quote": "2000", "order_amount_quote": "20", "min_price": "0.004", "max_price": "0.006"})
    services.bots_sync()
    bot = Bot.objects.get(name="sharp_vol")
    url = reverse("admin:bots_bot_params", args=[bot.pk])
    form = panel.get(url).context["form"]
    assert {field.name for field in form.param_fields()} == {
        "order_amount_quote", "order_interval", "min_price", "max_price", "max_book_spread_pct", "order_timeout",
        "max_slippage_pct", "max_empty_legs", "no_fill_alert_minutes"}
    data = {field.name: field.initial for field in form.param_fields()}
    panel.post(url, {**data, "order_interval": "90"})
    assert BotEvent.objects.get(action="params").detail == "order_interval 60 -> 90; confirmed by Hummingbot"


NOT_IDS = ["abc", "1%00", "99999999999999999999999"]


@pytest.mark.parametrize("method, path", [
    ("get", "bot/{}/change/"), ("get", "account/{}/change/"), ("get", "killswitchrun/{}/change/"),
    ("get", "account/{}/credentials/"), ("post", "account/{}/recreate/"), ("get", "account/{}/delete/"),
    ("get", "bot/{}/do/stop/"), ("post", "bot/{}/do/sync/"), ("get", "bot/{}/params/"), ("get", "account/{}/desk-limits/"),
])
@pytest.mark.parametrize("object_id", NOT_IDS)
def test_an_id_that_is_no_number_is_a_404_on_every_panel_page_that_takes_one(db, django_user_model, method, path,
                                                                               object_id):
    superuser = django_user_model.objects.create_superuser("root", password="pw-root-123")
    client = Client(raise_request_exception=False)  # a crash is a 500 page, as a browser sees it
    client.force_login(superuser)
    assert getattr(client, method)("/admin/bots/" + path.format(object_id)).status_code == 404


def test_bulk_stop_names_at_most_20_bots_and_counts_the_rest(panel, hummingbot, upstream_account):
    names = [f"bot_{i:02d}" for i in range(23)]
    instances = hummingbot.state.spawn_bots(23, prefix="bot", account=upstream_account.name)
    bots = [Bot.objects.create(name=name, hummingbot_name=instance, account=upstream_account, strategy="spread",
                               connector="bitmart", trading_pair="SHARP-USDT", status="running")
            for name, instance in zip(names, instances)]
    selected = {"action": "stop_bots", "_selected_action": [bot.pk for bot in bots]}
    asked = panel.post(reverse("admin:bots_bot_changelist"), selected).content.decode()
    assert "Stop 23 bot(s)?" in asked
    assert [f"<li>{name}</li>" in asked for name in names] == [True] * 20 + [False] * 3
    assert "and 3 more" in asked
    done = panel.post(reverse("admin:bots_bot_changelist"), {**selected, "confirmed": "yes"}, follow=True)
    assert f"Sent to 23 bot(s): {', '.join(names[:20])} and 3 more." in done.content.decode()
