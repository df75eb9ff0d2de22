"""A desk user in a real browser (Debian chromium driven by Playwright): log in, create a bot, stop it."""
import shutil

import pytest

from bots.hummingbot.client import get_client

CHROMIUM = shutil.which("chromium")
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
    return live_server.url


@pytest.fixture
def browser_page(desk, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        page = browser.new_page()
        yield page
        page.screenshot(path=str(tmp_path / "panel.png"), full_page=True)
        browser.close()


def test_desk_user_creates_and_stops_a_bot_in_the_panel(desk, browser_page):
    page = browser_page
    page.goto(f"{desk}/admin/login/")
    page.fill("#id_username", "desk")
    page.fill("#id_password", "pw-desk-123")
    page.click("input[type=submit]")
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
