"""The daily report's CSV as a desk user downloads it from the admin index in a real browser (issue 18): the link
found by its text. Debian chromium driven by Playwright."""
import csv
import io
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
    """A desk viewer; client_sharp's bot bought 1000 SHARP at 0.005 yesterday (stored as syncs store fills)."""
    from django.contrib.auth.models import Permission

    from bots import ledger
    from bots.hummingbot.client import Fill
    from bots.models import Account, Bot

    user = django_user_model.objects.create_user("viewer", password="pw-viewer-123", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_bot", "view_account"]))
    bot = Bot.objects.create(name="sharp_mm", account=Account.objects.create(name="client_sharp"), strategy="spread",
                             connector="bitmart", trading_pair="SHARP-USDT", status="running")
    yesterday = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    ledger.insert_fills([(bot, [Fill(trade_id="T1", timestamp=yesterday, trading_pair="SHARP-USDT", side="buy",
                                     price=Decimal("0.005"), amount=Decimal(1000), fee_quote=Decimal("0.005"), raw={})])])
    return live_server.url, yesterday.date().isoformat()


@pytest.fixture
def page(desk):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page()
        yield page
        browser.close()


def test_desk_viewer_downloads_yesterdays_report_from_the_overview(desk, page, tmp_path):
    url, yesterday = desk
    log_in(page, url, "viewer", "pw-viewer-123")
    page.goto(f"{url}/admin/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Daily report (CSV)").click()
    assert download.value.suggested_filename == f"daily-report-{yesterday}.csv"
    saved = tmp_path / "report.csv"
    download.value.save_as(saved)
    [row] = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert (row["account"], row["net_pnl"], row["quote"], row["fills"], row["volume_quote"], row["fees_quote"]) == (
        "client_sharp", "not reported", "USDT", "1", "5", "0.005")
