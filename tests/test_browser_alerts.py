"""A desk operator in Debian's chromium (Playwright) finds the alert count in the header, opens the inbox and
acknowledges an alert, all by the texts a person reads; then the bot's page shows who acknowledged it."""
import pytest

from tests.browser import CHROMIUM, launch_chromium, log_in
from tests.test_browser import desk  # noqa: F401  (the desk fixture: user, account, sandbox)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"),
]


@pytest.fixture
def stopped_on_its_own(desk, hummingbot):  # noqa: F811
    """A bot Hummingbot stopped by itself: its alert is open (made before the browser starts)."""
    from bots import services
    from bots.models import Account

    bot = services.bot_create(name="sharp_mm", account=Account.objects.get(name="client_sharp"), strategy="spread",
                              connector="bitmart", trading_pair="SHARP-USDT",
                              params={"order_amount": "100", "budget_quote": "500"})
    services.bots_sync()
    hummingbot.state.stop_bot(bot.hummingbot_name, False, False)
    services.bots_sync()
    return bot


def test_the_desk_acknowledges_an_alert_from_the_header_count(desk, stopped_on_its_own, tmp_path):  # noqa: F811
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        log_in(page, desk, "desk", "pw-desk-123")
        page.get_by_role("link", name="Alerts: 1 open").click()
        row = page.locator("#result_list tbody tr", has_text="sharp_mm")
        assert "Bot stopped without a request here" in row.inner_text()
        row.get_by_role("button", name="Acknowledge").click()
        assert "acknowledged by desk" in page.inner_text(".messagelist")
        assert "acknowledged by desk" in page.locator("#result_list tbody tr", has_text="sharp_mm").inner_text()
        assert page.get_by_role("link", name="Alerts: 0 open, 1 acknowledged").is_visible()
        page.screenshot(path=str(tmp_path / "inbox.png"), full_page=True)
        page.get_by_role("link", name="bot sharp_mm").click()
        assert "acknowledged by desk" in page.inner_text("#bot-alerts")
        page.screenshot(path=str(tmp_path / "bot-page.png"), full_page=True)
        browser.close()
