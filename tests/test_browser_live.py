"""An open page shows trouble without a reload (issue 17), and the kill switch is where the desk looks for it, in
Debian's chromium. The page's clock (Playwright's page.clock) and the bridge's (django.utils.timezone.now) move
together, one poll at a time: the bounds below are in the time the panel lives in, never the machine's speed."""
import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.browser import CHROMIUM, launch_chromium, log_in
from tests.test_browser import desk  # noqa: F401  (the desk fixture: user, account, sandbox)

SYNC_SECONDS = 2  # BOTS_SYNC_SECONDS of these tests: below 5 s the page polls once per sync
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"),
]


class BridgeClock:
    """Real time plus what the test moved it on: the inline refresh of GET /bots is due by this clock."""

    def __init__(self):
        self.ahead = timedelta(0)

    def __call__(self):
        return datetime.now(UTC) + self.ahead


@pytest.fixture
def bridge_clock(monkeypatch):
    clock = BridgeClock()
    monkeypatch.setattr("django.utils.timezone.now", clock)
    return clock


@pytest.fixture
def running_bot(desk, settings):  # noqa: F811
    """sharp_mm, deployed in the sandbox and read running; made before the browser starts (its event loop)."""
    from bots import services
    from bots.models import Account

    settings.BOTS_SYNC_SECONDS = SYNC_SECONDS
    services.bot_create(name="sharp_mm", account=Account.objects.get(name="client_sharp"), strategy="spread",
                        connector="bitmart", trading_pair="SHARP-USDT",
                        params={"order_amount": "100", "budget_quote": "500"})
    services.bots_sync()
    return "sharp_mm"


@pytest.fixture
def page(desk, running_bot, bridge_clock):  # noqa: F811
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        tab = browser.new_page(viewport={"width": 1366, "height": 900})
        tab.clock.install()
        log_in(tab, desk, "desk", "pw-desk-123")
        # From here the page's time moves only when the test moves it.
        tab.clock.pause_at(datetime.now(UTC) + timedelta(seconds=1))
        yield tab
        browser.close()


def elapse(page, clock: BridgeClock, seconds: int) -> None:
    """`seconds` of the panel's life, one poll period at a time, each poll answered before the next is due."""
    from playwright.sync_api import expect

    indicator = page.locator("[data-live-status-indicator]")
    for _ in range(seconds // SYNC_SECONDS):
        before = indicator.inner_text()
        clock.ahead += timedelta(seconds=SYNC_SECONDS)
        page.clock.run_for(SYNC_SECONDS * 1000)
        expect(indicator).not_to_have_text(before)  # it says when it checked: this poll is done


def test_an_open_bot_list_shows_an_outage_and_its_end_without_a_reload(
        desk, running_bot, bridge_clock, page, hummingbot):  # noqa: F811
    from playwright.sync_api import expect

    page.goto(f"{desk}/admin/bots/bot/")
    badge = page.locator(f"[data-bot-status={running_bot}]")
    banner = page.locator("[data-outage-server=default]")
    indicator = page.locator("[data-live-status-indicator]")
    elapse(page, bridge_clock, SYNC_SECONDS)
    expect(badge).to_have_text("Running")
    expect(indicator).to_have_text(re.compile(r"^live · checked \d\d:\d\d:\d\d UTC$"))
    expect(banner).to_have_count(0)

    hummingbot.state.set_fault("GET", "/bot-orchestration/status", "refuse")  # until cleared
    elapse(page, bridge_clock, 2 * SYNC_SECONDS)
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Hummingbot API unreachable")
    expect(banner).to_contain_text("statuses shown for its bots are the last known ones")
    expect(badge).to_have_class(re.compile(r"\bstatus-stale\b"))
    expect(badge).to_have_text("Running")  # the last known status, marked as such
    expect(indicator).to_contain_text("old (last read ")

    hummingbot.state.clear_faults()
    elapse(page, bridge_clock, 2 * SYNC_SECONDS)
    expect(banner).to_have_count(0)
    expect(page.locator("[data-outage-banners] li")).to_have_count(0)
    expect(badge).not_to_have_class(re.compile(r"\bstatus-stale\b"))
    expect(indicator).to_have_text(re.compile(r"^live · checked \d\d:\d\d:\d\d UTC$"))


def test_a_page_opened_in_an_outage_loses_its_banner_live_when_hummingbot_answers(
        desk, running_bot, bridge_clock, page, hummingbot):  # noqa: F811
    """The banner the server drew is the one the live status takes away."""
    from playwright.sync_api import expect

    from bots import services
    from bots.hummingbot.errors import HummingbotError
    from bots.models import Bot

    def failing_sync():
        with pytest.raises(HummingbotError):
            services.bots_sync()

    hummingbot.state.set_fault("GET", "/bot-orchestration/status", "refuse")
    in_a_thread(failing_sync)
    page.goto(f"{desk}/admin/bots/bot/{in_a_thread(lambda: Bot.objects.get(name=running_bot).pk)}/change/")
    banner = page.locator("[data-outage-server=default]")
    expect(banner).to_contain_text("Hummingbot API unreachable since")
    hummingbot.state.clear_faults()
    elapse(page, bridge_clock, 2 * SYNC_SECONDS)
    expect(banner).to_have_count(0)


def in_a_thread(work):
    """Database work in a thread of its own, as a worker does it: Playwright keeps an event loop in the test's."""
    import threading

    from django.db import connection

    done = []

    def run():
        try:
            done.append(work())
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    assert done, "the work in the thread failed (its traceback is above)"
    return done[0]


def test_the_kill_switch_is_on_the_bot_list_by_its_text_and_stops_the_fleet(
        desk, running_bot, page, monkeypatch):  # noqa: F811
    from playwright.sync_api import expect

    from bots.services import killswitch

    monkeypatch.setattr(killswitch, "CONFIRM_AFTER_SECONDS", 0)  # the sandbox obeys a stop at once
    page.goto(f"{desk}/admin/bots/bot/")
    expect(page.get_by_text("Kill switch: never pressed")).to_be_visible()
    page.get_by_role("link", name="Stop all bots…").click()
    expect(page.locator("#content")).to_contain_text("Stop EVERY bot that may trade")
    page.get_by_role("button", name="Yes, I'm sure").click()
    expect(page.locator("#content")).to_contain_text("Stop sent to 1 of 1 bot(s); confirmed stopped 1 of 1")

    page.goto(f"{desk}/admin/bots/bot/")
    last_run = page.locator("[data-kill-switch-last-run]")
    expect(last_run).to_contain_text("by desk")
    expect(last_run).to_contain_text("done: stop sent to 1 of 1 bot(s), confirmed stopped 1 of 1")
    expect(page.locator(f"[data-bot-status={running_bot}]")).to_have_text("Stopped")
    last_run.get_by_role("link", name=re.compile("last pressed")).click()
    expect(page.locator("#content")).to_contain_text("✓ confirmed stopped")
