"""A desk operator in Debian's chromium (Playwright): creates a spread and a volume bot through the typed forms,
watches the live status change without reloading, stops and starts one, opens its charts and trades, exports CSV.
The page's poll timer runs on Playwright's fake clock (page.clock): no test waits on wall-clock time."""
import re
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, launch_chromium, log_in
from tests.test_browser import desk  # noqa: F401  (the desk fixture: user, account, sandbox)

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
POLL_MS = 6000  # bots/static/bots/live_status.js polls every 5 s
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"),
]


@pytest.fixture
def page(desk):  # noqa: F811
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
        tab = context.new_page()
        tab.clock.install()
        log_in(tab, desk, "desk", "pw-desk-123")
        yield tab
        browser.close()


def fill_bot(page, desk, *, name, strategy, pair, fields):  # noqa: F811
    page.goto(f"{desk}/admin/bots/bot/add/")
    page.fill("#id_name", name)
    page.select_option("#id_account", "client_sharp")
    page.select_option("#id_strategy", strategy)
    page.select_option("#id_connector", "bitmart")
    page.fill("#id_trading_pair", pair)
    for field, value in fields.items():
        page.fill(f"#id_{strategy}-{field}", value)


def scheduled_sync():
    """What the django-q2 schedule does every BOTS_SYNC_SECONDS: the list the page polls serves the database.
    In a thread of its own, as the worker runs it: Playwright keeps an event loop in the test's thread."""
    import threading

    from django.db import connection

    from bots import services

    def sync():
        try:
            services.bots_sync()
        finally:
            connection.close()

    worker = threading.Thread(target=sync)
    worker.start()
    worker.join()


def test_desk_creates_bots_watches_live_status_and_reads_charts_and_trades(desk, page, hummingbot):  # noqa: F811
    from playwright.sync_api import expect

    fill_bot(page, desk, name="sharp_mm", strategy="spread", pair="SHARP-USDT",
             fields={"order_amount": "100", "budget_quote": "500", "buy_spreads_pct": "0.5, 1"})
    expect(page.locator("fieldset[data-strategy=volume]")).to_be_hidden()
    page.click("input[name=preview]")
    expect(page.locator("pre[data-preview]")).to_contain_text('"controller_name": "pmm_v1"')
    page.screenshot(path=str(SCREENSHOTS / "bot-create.png"), full_page=True)
    page.click("input[name=deploy]")
    expect(page.locator(".messagelist")).to_contain_text("deployed as sharp_mm-")
    instance = re.search(r"sharp_mm-\d{8}-\d{6}", page.inner_text(".messagelist")).group(0)

    badge = page.locator("[data-bot-status=sharp_mm]")
    expect(badge).to_have_text("Starting")
    scheduled_sync()
    page.clock.run_for(POLL_MS)  # the poll reads GET /bots: Hummingbot now reports the bot trading
    expect(badge).to_have_text("Running")
    expect(badge).to_have_class(re.compile("status-changed"))

    # Switching strategy keeps what was typed; the volume bot trades another pair (self-trade guard).
    fill_bot(page, desk, name="sharp_vol", strategy="spread", pair="SOL-USDT", fields={"order_amount": "7"})
    page.select_option("#id_strategy", "volume")
    for field, value in {"total_amount_quote": "2000", "order_amount_quote": "20", "min_price": "140",
                         "max_price": "160"}.items():  # SOL near 150 in the sandbox
        page.fill(f"#id_volume-{field}", value)
    page.select_option("#id_strategy", "spread")
    expect(page.locator("#id_spread-order_amount")).to_have_value("7")
    page.select_option("#id_strategy", "volume")
    page.click("input[name=deploy]")
    expect(page.locator(".messagelist")).to_contain_text("deployed as sharp_vol-")

    page.goto(f"{desk}/admin/bots/bot/")
    scheduled_sync()
    page.clock.run_for(POLL_MS)
    expect(page.locator("[data-bot-status=sharp_vol]")).to_have_text("Running")

    page.click("text=sharp_mm")
    page.click("a[data-action=stop]")
    page.click("input[type=submit]")
    expect(page.locator(".messagelist")).to_contain_text("Stop sent; the bot is now stopping.")
    scheduled_sync()
    page.clock.run_for(POLL_MS)
    expect(page.locator("[data-bot-status=sharp_mm]")).to_have_text("Stopped")
    expect(page.locator("[data-action=start]")).to_be_visible()  # the buttons follow the live status, no reload
    page.click("[data-action=start]")
    expect(page.locator(".messagelist")).to_contain_text("Start sent")
    scheduled_sync()
    page.clock.run_for(POLL_MS)
    expect(page.locator("[data-bot-status=sharp_mm]")).to_have_text("Running")

    hummingbot.state.inject_fills(instance, 24, start_ts=hummingbot.state.now() - 24 * 600, step_s=600)
    page.click("[data-action=sync]")
    expect(page.locator(".messagelist")).to_contain_text("Status and trades read from Hummingbot.")
    expect(page.locator("figure[data-chart=volume-traded] polyline")).to_have_count(1)
    expect(page.locator("figure[data-chart=net-pnl] polyline")).to_have_count(1)
    net_pnl_card = page.locator(".card", has_text="Net PnL").locator("b").inner_text()
    assert page.locator("figure[data-chart=net-pnl]").get_attribute("data-last-value") == net_pnl_card
    expect(page.locator("figure[data-chart=net-pnl] figcaption")).to_contain_text(f"now {net_pnl_card}")
    expect(page.locator("[data-volume-note]")).to_contain_text("Hummingbot's volume and the ledger's agree")
    expect(page.locator("[data-volume-note]")).to_contain_text("from 24 fills")
    page.screenshot(path=str(SCREENSHOTS / "bot-page.png"), full_page=True)

    page.click("text=All trades")
    expect(page.locator("#result_list tbody tr")).to_have_count(24)
    with page.expect_download() as download:
        page.click("a[data-export]")
    lines = Path(download.value.path()).read_text().splitlines()
    assert len(lines) == 25 and lines[0].startswith("bot,")


@pytest.fixture
def stopped_bot(desk):  # noqa: F811
    from bots.models import Account, Bot

    return Bot.objects.create(name="sharp_mm", account=Account.objects.get(name="client_sharp"), strategy="spread",
                              connector="bitmart", trading_pair="SHARP-USDT", status="stopped",
                              params={"order_amount": "100", "budget_quote": "500"}).pk


def test_live_status_sends_the_etag_back_and_keeps_the_page_on_304(desk, stopped_bot, page):  # noqa: F811
    """GET /bots answers with an ETag and 304 for an unchanged list (served from the database)."""
    from playwright.sync_api import expect

    seen = []

    def bots_list(route):
        seen.append(route.request.headers.get("if-none-match"))
        if seen[-1] == '"v1"':
            route.fulfill(status=304, headers={"ETag": '"v1"'})
        else:
            bots = [{"id": "sharp_mm", "status": "running", "synced_at": "2026-11-29T12:00:00Z"}]
            route.fulfill(status=200, headers={"ETag": '"v1"'}, json={"bots": bots})

    page.route("**/bots", bots_list)
    page.goto(f"{desk}/admin/bots/bot/{stopped_bot}/change/")
    badge = page.locator("[data-bot-status=sharp_mm]")
    expect(badge).to_have_text("Stopped")
    scheduled_sync()
    page.clock.run_for(POLL_MS)
    expect(badge).to_have_text("Running")
    expect(page.locator("[data-bot-meaning=sharp_mm]")).to_contain_text("Hummingbot reports the controller trading")
    expect(page.locator("[data-action=start]")).to_be_hidden()  # the buttons of a running bot, without a reload
    expect(page.locator("[data-action=stop]")).to_be_visible()
    expect(page.locator("text=Change parameters…")).to_be_visible()
    with page.expect_response("**/bots") as second:
        scheduled_sync()
    page.clock.run_for(POLL_MS)
    assert second.value.status == 304 and seen[:2] == [None, '"v1"']
    expect(badge).to_have_text("Running")


def test_desk_clones_a_bot_under_a_new_name_and_deploys_it(desk, page):  # noqa: F811
    from playwright.sync_api import expect

    fill_bot(page, desk, name="sharp_mm", strategy="spread", pair="SHARP-USDT",
             fields={"order_amount": "100", "budget_quote": "500", "buy_spreads_pct": "0.3, 0.7",
                     "order_refresh_time": "45"})
    page.uncheck("#id_spread-inventory_skew_enabled")
    page.click("input[name=deploy]")
    expect(page.locator(".messagelist")).to_contain_text("deployed as sharp_mm-")

    page.click("text=Clone…")
    expect(page.locator("h1")).to_have_text("Create a bot")
    expect(page.locator("#id_name")).to_have_value("")
    expect(page.locator("#id_trading_pair")).to_have_value("SHARP-USDT")
    expect(page.locator("#id_spread-buy_spreads_pct")).to_have_value("0.3, 0.7")
    expect(page.locator("#id_spread-inventory_skew_enabled")).not_to_be_checked()
    page.click("input[name=deploy]")  # a new name is required
    expect(page.locator(".errorlist")).to_contain_text("This field is required.")
    page.fill("#id_name", "sharp_mm_2")
    page.click("input[name=deploy]")
    expect(page.locator(".messagelist")).to_contain_text("deployed as sharp_mm_2-")
    parameters = page.locator("fieldset:has(h2:text-is('Parameters')) tbody")
    expect(parameters).to_contain_text("buy spreads (buy_spreads_pct)0.3, 0.7%")
    expect(parameters).to_contain_text("order refresh time (order_refresh_time)45seconds")
    expect(parameters).to_contain_text("inventory skew (inventory_skew_enabled)off")
    expect(page.locator(".bot-facts")).to_contain_text("bitmart · SHARP-USDT")
