"""The bot and trade lists fit a 1366 px laptop screen with realistic data (issue 10), in Debian's chromium."""
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, launch_chromium, log_in

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"),
]
MINT_PAIR = "So11111111111111111111111111111111111111112-EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"


@pytest.fixture
def ledger(live_server, django_user_model):
    """Long names, Jupiter mint pairs, 18-decimal values and long trade ids: the widest cells the desk sees."""
    from bots.models import Account, Bot, Trade

    django_user_model.objects.create_superuser("boss", password="pw-boss-123")
    account = Account.objects.create(name="client_with_a_rather_long_account_name_for_width")
    now = datetime.now(UTC)
    for i in range(12):
        bot = Bot.objects.create(
            name=f"market_maker_{i:02d}_with_the_longest_allowed_nam"[:47], account=account, strategy="volume",
            connector="jupiter/router", trading_pair=MINT_PAIR, status="running", status_synced_at=now,
            trades_synced_at=now - timedelta(minutes=i), hummingbot_name=f"mm{i}-20260101-000000")
        Trade.objects.create(
            bot=bot, trade_id=f"5xGq{i}" + "Jk3mN8pQ2rT7vW9yZ4bC6dF1hL0sX" * 3, timestamp=now - timedelta(minutes=i),
            trading_pair=MINT_PAIR, side="buy", price=Decimal("64148.123456789012345678"),
            amount=Decimal("1234567.123456789012345678"), fee_quote=Decimal("0.000000000000000001"))
    return live_server.url


@pytest.fixture
def page(ledger):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        tab = browser.new_page(viewport={"width": 1366, "height": 768})
        log_in(tab, ledger, "boss", "pw-boss-123")
        yield tab
        browser.close()


@pytest.mark.parametrize("path, screenshot", [("/admin/bots/bot/", "bot-list.png"),
                                              ("/admin/bots/trade/", "trade-list.png")])
def test_list_fits_1366_px_without_horizontal_scrolling(ledger, page, path, screenshot):
    page.goto(f"{ledger}{path}")
    widths = page.evaluate("""() => {
        const table = document.querySelector('#result_list');
        return {table: table.scrollWidth, container: table.parentElement.clientWidth,
                page: document.documentElement.scrollWidth, viewport: document.documentElement.clientWidth};
    }""")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / screenshot), full_page=True)
    assert widths["table"] <= widths["container"] and widths["page"] <= widths["viewport"], widths
