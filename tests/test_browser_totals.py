"""Volume and fees over a chosen period, as a desk user reads them in a real browser: the fleet on the admin index,
an account on its page (issue 18). Debian chromium driven by Playwright."""
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.browser import CHROMIUM, launch_chromium, log_in

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"),
]


@pytest.fixture
def desk(live_server, hummingbot, django_user_model):
    """A desk user; client_sharp's bot bought 1000 SHARP at 0.005 today and 10 days ago (stored as syncs store fills)."""
    from django.contrib.auth.models import Permission

    from bots import ledger
    from bots.hummingbot.client import Fill, get_client
    from bots.models import Account, Bot

    user = django_user_model.objects.create_user("desk", password="pw-desk-123", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="bots"))
    account = Account.objects.create(name="client_sharp")
    get_client().add_account("client_sharp")
    bot = Bot.objects.create(name="sharp_mm", account=account, strategy="spread", connector="bitmart",
                             trading_pair="SHARP-USDT", status="running")
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    ledger.insert_fills([(bot, [
        Fill(trade_id=f"T{days}", timestamp=today - timedelta(days=days), trading_pair="SHARP-USDT", side="buy",
             price=Decimal("0.005"), amount=Decimal(1000), fee_quote=Decimal("0.005"), raw={})
        for days in (0, 10)])])
    return live_server.url, account.pk


@pytest.fixture
def page(desk):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page()
        yield page
        browser.close()


def total_row(page) -> str:
    return page.inner_text("tr.ledger-total")


def test_desk_user_reads_the_fleets_and_an_accounts_volume_over_a_chosen_period(desk, page):
    url, account_id = desk
    log_in(page, url, "desk", "pw-desk-123")
    page.goto(f"{url}/admin/")
    assert "volume and fees" in page.inner_text("#fleet-overview").lower()
    assert total_row(page).split("\t")[:4] == ["all accounts", "USDT", "1", "5"]  # the last 7 days
    page.select_option("select[name=period]", label="30 days")
    page.get_by_role("button", name="Show").click()
    assert total_row(page).split("\t")[:4] == ["all accounts", "USDT", "2", "10"]

    page.goto(f"{url}/admin/bots/account/{account_id}/change/")
    assert "sharp_mm" in page.inner_text("#account-volume")
    page.select_option("select[name=period]", label="from … to")
    day = (datetime.now(UTC) - timedelta(days=10)).date().isoformat()
    page.fill("input[name=since]", day)
    page.fill("input[name=until]", day)
    page.get_by_role("button", name="Show").click()
    assert f"UTC days {day} to {day}" in page.inner_text("#account-volume")
    assert total_row(page).split("\t")[:7] == ["all bots", "USDT", "1", "5", "0", "5", "0.005"]
    assert page.url.startswith(f"{url}/admin/bots/account/{account_id}/change/?")  # the account page, not a save
