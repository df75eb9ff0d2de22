"""API docs work offline: Swagger UI and ReDoc come from this app's static files under a strict
Content-Security-Policy, and outside DEBUG the schema and the docs need a login."""
import os
import re
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.browser import CHROMIUM, launch_chromium

pytestmark = pytest.mark.django_db
EXTERNAL_URL = re.compile(rb"""(?:src|href)=["']?(?:https?:)?//""")


def test_docs_and_schema_need_a_login_outside_debug(client):
    docs = client.get("/api/docs")
    assert docs.status_code == 302 and docs["Location"].startswith("/admin/login/?next=/api/docs")
    assert client.get("/api/redoc").status_code == 302
    assert APIClient().get("/api/schema").status_code in (401, 403)


@pytest.mark.parametrize("page", ["/api/docs", "/api/docs?script=", "/api/redoc"])
def test_docs_pages_load_nothing_from_another_site_and_carry_a_strict_policy(admin_client, page):
    response = admin_client.get(page)
    assert response.status_code == 200
    assert not EXTERNAL_URL.search(response.content), "the page pulls an asset from another site"
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'self'" and policy["script-src"] == "'self'"
    assert "http" not in response["Content-Security-Policy"]


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
@pytest.mark.django_db(transaction=True)
def test_swagger_ui_and_redoc_render_in_chromium_with_the_network_blocked(live_server, admin_user, tmp_path):
    """Every request not to this server is aborted; the docs must render anyway, with no CSP violation.
    The screenshot goes to tmp_path (SCREENSHOT_DIR=docs/screenshots refreshes the committed one)."""
    from playwright.sync_api import sync_playwright

    blocked, violations = [], []

    def only_this_server(route):
        host = route.request.url.split("/")[2].split(":")[0]
        if host in ("127.0.0.1", "localhost"):
            return route.continue_()
        blocked.append(route.request.url)
        return route.abort()

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.route("**/*", only_this_server)
        page.on("console", lambda msg: "Content Security Policy" in msg.text and violations.append(msg.text))
        page.goto(f"{live_server.url}/api/docs")
        page.fill("#id_username", "admin")
        page.fill("#id_password", "password")
        page.click("input[type=submit]")
        page.wait_for_selector(".swagger-ui .opblock")
        title = page.inner_text(".swagger-ui .info .title")
        operations = page.locator(".swagger-ui .opblock").count()
        page.screenshot(path=str(Path(os.environ.get("SCREENSHOT_DIR", tmp_path)) / "api-docs.png"), full_page=False)
        page.goto(f"{live_server.url}/api/redoc")
        redoc_title = page.wait_for_selector("h1").inner_text()
        browser.close()

    assert "Trading Bridge API" in title and "Trading Bridge API" in redoc_title
    assert operations >= 10
    # ReDoc's bundle hard-codes its vendor's footer logo; the policy blocks it, and nothing else is refused.
    assert blocked == []
    assert [v for v in violations if "cdn.redoc.ly/redoc/logo-mini.svg" not in v] == []
