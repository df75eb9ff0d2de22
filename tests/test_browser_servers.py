"""README "More than one Hummingbot API", in a real browser: a superuser adds a server (no password variable to
choose: the list names the one its name gives) and finds it in the audit trail; desk staff see servers read-only."""
import pytest

from tests.browser import CHROMIUM, launch_chromium, log_in
from tests.conftest import SANDBOX_PASSWORD

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"),
]


@pytest.fixture
def panel_url(live_server, hummingbot, hummingbot_b, operator, django_user_model, monkeypatch):
    """Users, and the second Hummingbot's password in the variable the name eu-2 gives, before the browser starts."""
    django_user_model.objects.create_superuser("root", password="pw-root-123")
    monkeypatch.setenv("HUMMINGBOT_SERVER_EU_2_PASSWORD", SANDBOX_PASSWORD)
    return live_server.url


@pytest.fixture
def page(panel_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        yield browser.new_page()
        browser.close()


def test_a_superuser_adds_a_server_and_desk_staff_only_see_it(panel_url, page, hummingbot_b):
    log_in(page, panel_url, "root", "pw-root-123")
    page.get_by_role("link", name="Hummingbot servers").first.click()
    page.get_by_role("link", name="Add hummingbot server").click()
    assert "HUMMINGBOT_SERVER_EU_1_PASSWORD for eu-1" in page.inner_text("#content")
    page.fill("#id_name", "eu-2")
    page.fill("#id_url", hummingbot_b.url)
    page.fill("#id_username", "admin")
    page.click("input[name=_save]")
    row = page.inner_text("#result_list")
    assert "eu-2" in row and "HUMMINGBOT_SERVER_EU_2_PASSWORD" in row and "yes, Hummingbot API" in row

    page.goto(f"{panel_url}/admin/")
    page.get_by_role("link", name="Bot events").first.click()
    assert "server_add" in page.inner_text("#result_list")

    page.context.clear_cookies()
    log_in(page, panel_url, "desk", "pw-desk-123")
    page.get_by_role("link", name="Hummingbot servers").first.click()
    assert page.get_by_role("link", name="Add hummingbot server").count() == 0
    page.get_by_role("link", name="eu-2").click()
    assert page.locator("input[name=_save]").count() == 0 and page.locator("#id_url").count() == 0
