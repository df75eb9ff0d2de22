"""A desk user in a real browser (Debian chromium driven by Playwright): log in, create a bot, stop it."""

import pytest

from bots.hummingbot.client import get_client
from tests.browser import CHROMIUM, launch_chromium, log_in
from tests.conftest import give_keys

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"),
]


@pytest.fixture
def desk(live_server, hummingbot, django_user_model, settings):
    """Everything the database needs, made before the browser starts (Playwright runs an event loop)."""
    from django.contrib.auth.models import Permission

    from bots.models import Account

    settings.HUMMINGBOT_SANDBOX = True
    user = django_user_model.objects.create_user("desk", password="pw-desk-123", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="bots"))
    Account.objects.create(name="client_sharp")
    get_client().add_account("client_sharp")
    give_keys(hummingbot, "client_sharp", "bitmart")
    return live_server.url


@pytest.fixture
def browser_page(desk, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page()
        yield page
        page.screenshot(path=str(tmp_path / "panel.png"), full_page=True)
        browser.close()


def test_desk_user_creates_and_stops_a_bot_in_the_panel(desk, browser_page):
    page = browser_page
    log_in(page, desk, "desk", "pw-desk-123")
    assert "SANDBOX" in page.inner_text("#site-name")

    page.goto(f"{desk}/admin/bots/bot/add/")
    page.fill("#id_name", "sharp_mm")
    page.select_option("#id_account", "client_sharp")
    page.select_option("#id_connector", "bitmart")
    page.fill("#id_trading_pair", "SHARP-USDT")
    page.fill("#id_spread-order_amount", "100")
    page.fill("#id_spread-budget_quote", "500")
    page.click("input[name=deploy]")
    assert "deployed as sharp_mm-" in page.inner_text(".messagelist")

    page.click("[data-action=sync]")
    assert "Running" in page.inner_text("#content-main")
    page.click("a[data-action=stop]")
    assert "Stop this bot?" in page.inner_text("#content")
    page.click("input[type=submit]")
    assert "Stop sent; the bot is now stopping." in page.inner_text(".messagelist")
    page.click("[data-action=sync]")
    assert "Stopped" in page.inner_text("#content-main")


def test_an_order_worth_more_than_the_budget_asks_for_the_tick_before_deploying(desk, browser_page):
    page = browser_page
    log_in(page, desk, "desk", "pw-desk-123")
    page.goto(f"{desk}/admin/bots/bot/add/")
    page.fill("#id_name", "sharp_big")
    page.select_option("#id_account", "client_sharp")
    page.select_option("#id_connector", "bitmart")
    page.fill("#id_trading_pair", "SHARP-USDT")
    page.fill("#id_spread-order_amount", "100000")  # about 500 USDT an order at 0.005, two orders
    page.fill("#id_spread-budget_quote", "500")
    page.click("input[name=deploy]")
    warnings = page.inner_text("fieldset.sanity")
    assert "Check before deploying" in warnings and "over the 500 USDT budget" in warnings
    assert "tick this box to deploy anyway" in page.inner_text("#content-main")
    page.get_by_label("Deploy despite the warnings").check()
    page.click("input[name=deploy]")
    assert "deployed as sharp_big-" in page.inner_text(".messagelist")


@pytest.fixture
def viewer_desk(desk, django_user_model):
    """A "Desk viewer" (setup_desk_roles) and a running bot, made before the browser starts."""
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from bots import services
    from bots.models import Account

    call_command("setup_desk_roles")
    viewer = django_user_model.objects.create_user("viewer", password="pw-viewer-123", is_staff=True)
    viewer.groups.add(Group.objects.get(name="Desk viewer"))
    services.bot_create(name="sharp_mm", account=Account.objects.get(name="client_sharp"), strategy="spread",
                        connector="bitmart", trading_pair="SHARP-USDT",
                        params={"order_amount": "100", "budget_quote": "500"})
    return desk


def test_a_desk_viewer_sees_the_bot_and_no_button_that_changes_anything(viewer_desk, browser_page):
    page, desk = browser_page, viewer_desk
    log_in(page, desk, "viewer", "pw-viewer-123")
    page.goto(f"{desk}/admin/bots/bot/")
    assert "sharp_mm" in page.inner_text("#result_list")
    assert page.locator("select[name=action]").count() == 0  # no bulk Start/Stop
    assert page.get_by_text("Stop all bots").count() == 0 and page.locator("[data-kill-switch-last-run]").count() == 0
    page.click("text=sharp_mm")
    assert "Bot sharp_mm" in page.inner_text("#content")
    assert page.locator("[data-action]").count() == 0  # no Start, Stop, Archive, Sync, Change parameters
    page.goto(f"{desk}/admin/bots/account/")
    page.click("text=client_sharp")
    assert "Exchange keys" not in page.inner_text("#content")
